"""500 random and bad inputs through the app's API: every one answered or refused with a message.

``/ask`` gets a question set as its optional third argument half of the time (absent: the default).
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

CASES = 500
ODD_QUESTIONS = [
    "",
    "   ",
    "?",
    "é" * 50,
    "🛰️ how many 🏠?",
    "Is there a\x00road?",
    "x" * 1001,
    "ΠΟΣΑ κτίρια;",
    "\u202e?ti si tahw",
]


def bomb_png() -> bytes:
    """A valid 1×1 PNG whose header claims 100,000 × 100,000 pixels (a decompression bomb)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    header = struct.pack(">II", 100_000, 100_000) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


def random_upload(rng: random.Random, folder: Path, index: int) -> Path:
    """An image-like file: valid images of odd shapes and modes, corrupt or truncated ones, noise."""
    kind = rng.randrange(7)
    path = folder / f"{index}.{rng.choice(['png', 'jpg', 'tif'])}"
    array = np.random.default_rng(index).integers(
        0, 255, (rng.randint(1, 300), rng.randint(1, 300), 3), np.uint8
    )
    if kind == 0:
        Image.fromarray(array).save(path.with_suffix(".png"))
        return path.with_suffix(".png")
    if kind == 1:
        Image.fromarray(array[:, :, 0]).convert(rng.choice(["L", "RGBA", "I;16", "1"])).save(
            path.with_suffix(".png")
        )
        return path.with_suffix(".png")
    if kind == 2:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, "PNG")
        path.write_bytes(buffer.getvalue()[: rng.randint(0, len(buffer.getvalue()))])  # truncated
    elif kind == 3:
        path.write_bytes(rng.randbytes(rng.randint(0, 4096)))
    elif kind == 4:
        path.write_bytes(bomb_png())
    elif kind == 5:
        path.write_bytes("".join(rng.choice(ODD_QUESTIONS) for _ in range(5)).encode("utf-8", "replace"))
    else:
        path.write_bytes(b"")
    return path


BEAMS = [None, 1, 2, 3, 0, -1, 2.5, 9, 10**9, "3", "many"]
SETS = [None, "rsvqa_lr", "rsvqa_lr", "", "nope", "RSVQA-LR", 7, ["rsvqa_lr"]]  # the tiny model's one set
UPLOADED, BUNDLED = "uploaded cube", "20170615_reflectance_mosaic_128b.hdr"
PLACES = [20, 0, -5, 39, 10**9, 2.5, "20", None]


def random_cube(rng: random.Random, folder: Path, index: int, header: Path, data: Path) -> list[str]:
    """ENVI uploads: the good pair, a header or data file alone, garbage, truncated or absurd headers."""
    kind = rng.randrange(6)
    bad_header = folder / f"{index}.hdr"
    if kind == 0:
        return [handle_file(str(header)), handle_file(str(data))]
    if kind == 1:
        return [handle_file(str(rng.choice([header, data])))]
    if kind == 2:
        text = header.read_text()
        bad_header.write_text(text[: rng.randint(0, len(text))])
    elif kind == 3:
        bad_header.write_text(header.read_text().replace("lines = 40", "lines = 4000000000"))
    elif kind == 4:
        bad_header.write_bytes(rng.randbytes(rng.randint(0, 2048)))
    else:
        return [handle_file(str(header)), handle_file(str(data)), handle_file(str(data))]
    return [handle_file(str(bad_header)), handle_file(str(data))]


@pytest.mark.slow
def test_random_and_bad_inputs_never_crash_the_server(app_client, tiny_world, forest, tmp_path):
    from tests.helpers import uploaded_cube

    rng = random.Random(0)
    set_rng = random.Random(1)  # its own stream: the other inputs stay those of the seed-0 draws
    answered: dict[str, int] = {"/caption": 0, "/ask": 0, "/forest": 0}
    refused = dict.fromkeys(answered, 0)
    good = sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0]
    (tmp_path / "cube").mkdir()
    header, data = uploaded_cube(forest, tmp_path / "cube")
    for index in range(CASES):
        upload = handle_file(str(random_upload(rng, tmp_path, index) if rng.random() < 0.8 else good))
        question = rng.choice([*ODD_QUESTIONS, "How many buildings are there?", None, 42])
        draw = rng.random()
        if draw < 0.06:  # forest maps are slow (quicklooks); a few valid ones suffice here
            endpoint = "/forest"
            cube = rng.choice([UPLOADED, UPLOADED, BUNDLED, "", 7])
            row, col = (rng.choice([20, 20, 20, *PLACES]) for _ in range(2))
            args = [cube, random_cube(rng, tmp_path, index, header, data), row, col, 16]
        elif draw < 0.55:
            endpoint, args = "/caption", [upload, rng.choice(BEAMS)]
        else:
            chosen = [set_rng.choice(SETS)] if set_rng.random() < 0.5 else []
            endpoint, args = "/ask", [upload, question, *chosen]
        try:
            app_client.submit(*args, api_name=endpoint).result(timeout=120)
            answered[endpoint] += 1
        except AppError as err:  # refused: the person sees a message
            assert str(err).strip(), f"case {index}: refused without a message"
            assert "internal error" not in str(err).lower(), f"case {index}: a bug, not a refusal: {err}"
            refused[endpoint] += 1
    assert sum(answered.values()) + sum(refused.values()) == CASES
    assert all(answered[e] > 0 and refused[e] > 0 for e in answered), (answered, refused)
    assert isinstance(
        app_client.predict(handle_file(str(good)), api_name="/caption")[0], str
    )  # still serving
