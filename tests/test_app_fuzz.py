"""500 random and bad inputs through the app's API: every one answered or refused with a message."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import numpy as np
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


def test_random_and_bad_inputs_never_crash_the_server(app_client, tiny_world, tmp_path):
    rng = random.Random(0)
    answered = refused = 0
    good = sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0]
    for index in range(CASES):
        upload = handle_file(str(random_upload(rng, tmp_path, index) if rng.random() < 0.8 else good))
        question = rng.choice([*ODD_QUESTIONS, "How many buildings are there?", None, 42])
        try:
            if rng.random() < 0.5:
                app_client.predict(upload, api_name="/caption")
            else:
                app_client.predict(upload, question, api_name="/ask")
            answered += 1
        except AppError as err:  # refused: the person sees a message
            assert str(err).strip(), f"case {index}: refused without a message"
            assert "upstream" not in str(err).lower(), f"case {index}: an unhandled error, not a message"
            refused += 1
    assert answered + refused == CASES and answered > 50 and refused > 50
    assert isinstance(
        app_client.predict(handle_file(str(good)), api_name="/caption")[0], str
    )  # still serving
