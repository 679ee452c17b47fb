"""``spatialnet predict RUN --images DIR --out TABLE``: many image files into one JSONL or CSV table."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import tifffile
from PIL import Image
from rasterio.transform import Affine

from spatialnet.batch_prediction import find_images, predict_files
from spatialnet.cli.main import main
from spatialnet.errors import DataError
from spatialnet.predictor import Predictor
from tests.helpers import ENV, free_port

QUESTION = "Is there a road?"


def write_image(path: Path, seed: int, size: tuple[int, int] = (40, 36)) -> Path:
    """A random RGB image (smooth blobs, so JPEG keeps it recognisable) saved by suffix."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(5, 5, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(small).resize(size, Image.Resampling.BILINEAR).save(path)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """5 images in nested folders (mixed formats and suffix case), a broken .jpg and a text file."""
    root = tmp_path / "tiles"
    for seed, name in enumerate(["a.jpg", "sub/b.PNG", "sub/deep/c.jpeg", "sub/deep/d.bmp", "e.webp"]):
        write_image(root / name, seed)
    (root / "sub" / "x.jpg").write_bytes(b"\x00garbage, not a JPEG" * 10)
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def predictor(joint_run: Path) -> Predictor:
    return Predictor.from_run(joint_run, "cpu")


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_find_images_walks_folders_globs_and_files_and_names_an_input_matching_nothing(folder):
    expected = sorted(
        folder / n for n in ["a.jpg", "e.webp", "sub/b.PNG", "sub/deep/c.jpeg", "sub/deep/d.bmp", "sub/x.jpg"]
    )
    assert find_images([str(folder)]) == expected
    assert (
        find_images([str(folder / "sub" / "**" / "*.jp*g"), str(folder / "a.jpg"), str(folder)]) == expected
    )
    assert find_images([str(folder / "*.webp")]) == [folder / "e.webp"]
    with pytest.raises(DataError, match="notes.txt: no image files"):
        find_images([str(folder), str(folder / "notes.txt")])
    with pytest.raises(DataError, match=r"missing/\*\.tif: no image files"):
        find_images([str(folder / "missing" / "*.tif")])


def test_a_folder_becomes_one_jsonl_row_per_image_equal_to_predict_file(predictor, folder, tmp_path):
    out = tmp_path / "preds.jsonl"
    summary = predict_files(predictor, find_images([str(folder)]), out, batch_size=2, top_k=3, progress=False)
    assert (summary.images, summary.predicted, summary.errors, summary.skipped) == (6, 6, 1, 0)
    rows = rows_of(out)
    assert [row["file"] for row in rows] == [str(path) for path in find_images([str(folder)])]
    broken = str(folder / "sub" / "x.jpg")
    (error_row,) = [row for row in rows if "error" in row]
    assert error_row == {
        "file": broken,
        "error": f"{broken}: not a readable image (unknown or corrupt image format)",
    }
    for row in rows:
        if row is error_row:
            continue
        assert set(row) == {"file", "caption", "landuse"}  # no question: the VQA head gives no column
        single = predictor.predict_file(Path(row["file"]), 3)
        assert row["caption"] == single["captions"]
        assert [item["label"] for item in row["landuse"]] == [item["label"] for item in single["landuse"]]
        assert row["landuse"][0]["probability"] == pytest.approx(
            single["landuse"][0]["probability"], abs=1e-5
        )


def test_a_question_is_asked_of_every_image_into_a_csv_table(predictor, folder, tmp_path):
    out = tmp_path / "preds.csv"
    files = find_images([str(folder)])
    summary = predict_files(predictor, files, out, batch_size=4, top_k=2, question=QUESTION, progress=False)
    assert (summary.predicted, summary.errors) == (6, 1)
    with out.open(newline="") as file:
        reader = csv.DictReader(file)
        header, rows = reader.fieldnames, list(reader)
    assert (
        header is not None and header[0] == "file" and header[-4:] == ["crs", "center_x", "center_y", "error"]
    )
    assert set(header[1:-4]) == {"caption", "landuse", "answer", "answer_probability", "question_type"}
    assert [row["file"] for row in rows] == [str(path) for path in files]
    for row in rows:
        if row["error"]:
            assert row["file"].endswith("x.jpg") and row["caption"] == row["answer"] == ""
            continue
        single = predictor.predict_file(Path(row["file"]), 2, QUESTION)
        labels = [cell.rsplit(":", 1) for cell in row["landuse"].split(";")]
        assert [label for label, _ in labels] == [item["label"] for item in single["landuse"]]
        assert float(labels[0][1]) == pytest.approx(single["landuse"][0]["probability"], abs=1e-4)
        assert row["caption"] == single["captions"]
        assert (row["answer"], row["question_type"]) == (single["vqa"]["answer"], "presence")
        assert float(row["answer_probability"]) == pytest.approx(single["vqa"]["probability"], abs=1e-5)
        assert row["crs"] == row["center_x"] == ""


def test_a_csv_whose_first_rows_are_errors_has_every_column(predictor, tmp_path):
    (tmp_path / "0_broken.png").write_bytes(b"not a PNG")
    write_image(tmp_path / "1.png", 1)
    out = tmp_path / "preds.csv"
    predict_files(predictor, find_images([str(tmp_path)]), out, batch_size=1, progress=False)
    with out.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["file", "caption", "landuse", "crs", "center_x", "center_y", "error"]
    assert rows[0]["error"] and rows[0]["caption"] == "" and rows[1]["caption"] and not rows[1]["error"]


def test_a_rerun_skips_what_the_table_holds_and_redoes_the_rest(predictor, folder, tmp_path):
    out = tmp_path / "preds.jsonl"
    files = find_images([str(folder)])

    def run() -> tuple[int, int, int]:  # batches of 1: each image's numbers alike in every run, to the bit
        summary = predict_files(predictor, files, out, batch_size=1, progress=False)
        return summary.predicted, summary.errors, summary.skipped

    first = run()
    complete = out.read_text()
    assert first == (6, 1, 0)
    assert run() == (1, 1, 5)  # only the broken file is tried again
    assert out.read_text() == complete  # its new error row replaced the old one
    lines = complete.splitlines(keepends=True)
    out.write_text(lines[0] + lines[1][:20])  # a kill after the first row, half-way through the second
    assert run() == (5, 1, 1)
    assert out.read_text() == complete
    write_image(folder / "sub" / "x.jpg", 9)  # the broken file repaired: its error row becomes a prediction
    assert run() == (1, 0, 5)
    rows = rows_of(out)
    assert [row["file"] for row in rows] == [str(path) for path in files]
    assert "error" not in rows[files.index(folder / "sub" / "x.jpg")]


def test_parts_left_by_a_killed_torchrun_are_skipped_and_merged(predictor, folder, tmp_path):
    out = tmp_path / "preds.jsonl"
    files = find_images([str(folder)])
    predict_files(predictor, files, tmp_path / "whole.jsonl", batch_size=1, progress=False)
    whole = rows_of(tmp_path / "whole.jsonl")
    part = tmp_path / "preds.jsonl.part1"
    part.write_text(json.dumps(whole[1]) + "\n" + json.dumps(whole[3]) + "\n")
    summary = predict_files(predictor, files, out, batch_size=1, progress=False)
    assert (summary.predicted, summary.skipped) == (4, 2)
    assert not part.exists()
    assert rows_of(out) == whole


def test_geotiffs_give_their_crs_and_centre(predictor, tmp_path):
    folder = tmp_path / "geo"
    folder.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, size=(3, 48, 64), dtype=np.uint8)
    transform = Affine(10, 0, 500_000, 0, -10, 6_000_000)  # 10 m pixels from (west, north)
    profile = {"driver": "GTiff", "width": 64, "height": 48, "count": 3, "dtype": "uint8"}
    with rasterio.open(folder / "utm.tif", "w", crs="EPSG:32633", transform=transform, **profile) as dataset:
        dataset.write(pixels)
    tifffile.imwrite(folder / "plain.tiff", pixels.transpose(1, 2, 0))
    write_image(folder / "photo.png", 1)
    predict_files(predictor, find_images([str(folder)]), tmp_path / "geo.jsonl", progress=False)
    rows = {Path(row["file"]).name: row for row in rows_of(tmp_path / "geo.jsonl")}
    utm = rows["utm.tif"]
    assert (utm["crs"], utm["center_x"], utm["center_y"]) == ("EPSG:32633", 500_320.0, 5_999_760.0)
    assert "caption" in utm and "error" not in utm
    assert {k: rows["plain.tiff"][k] for k in ("crs", "center_x", "center_y")} == dict.fromkeys(
        ("crs", "center_x", "center_y")
    )
    assert "crs" not in rows["photo.png"]
    predict_files(predictor, find_images([str(folder)]), tmp_path / "geo.csv", progress=False)
    with (tmp_path / "geo.csv").open(newline="") as file:
        cells = {Path(row["file"]).name: row for row in csv.DictReader(file)}
    assert (cells["utm.tif"]["crs"], float(cells["utm.tif"]["center_x"])) == ("EPSG:32633", 500_320.0)
    assert cells["plain.tiff"]["crs"] == cells["plain.tiff"]["center_y"] == ""


def test_the_cli_predicts_a_folder_and_prints_what_it_did(joint_run, folder, tmp_path, capsys):
    out = tmp_path / "cli.jsonl"
    argv = ["predict", str(joint_run), "--images", str(folder), "--out", str(out), "--no-progress"]
    assert main([*argv, "--question", QUESTION, "--top-k", "2", "--beams", "1"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(f"predicted 6 of 6 images into {out} (1 errors, 0 skipped: already there) in ")
    rows = [row for row in rows_of(out) if "error" not in row]
    assert len(rows) == 5 and all(len(row["landuse"]) == 2 and row["question_type"] for row in rows)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--out", "preds.jsonl", "--batch-size", "0"], "--batch-size: 0; expected ≥ 1"),
        (["--out", "preds.txt"], "preds.txt: unknown table format '.txt'; expected .jsonl or .csv"),
        ([], "--images needs --out"),
    ],
)
def test_bad_batch_options_are_refused_in_one_line(folder, tmp_path, capsys, options, message):
    argv = ["predict", str(tmp_path / "no-run"), "--images", str(folder), *options]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("spatialnet predict: error: ") and message in err


@pytest.mark.slow
def test_two_gloo_processes_write_the_table_one_process_writes(joint_run, folder, tmp_path):
    args = [joint_run, "--images", folder, "--no-progress", "--batch-size", "2", "--question", QUESTION]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2"]
    launcher += ["--master-addr", "127.0.0.1", "--master-port", str(free_port())]
    one = subprocess.run(
        [
            sys.executable,
            "-m",
            "spatialnet",
            "predict",
            *map(str, args),
            "--out",
            str(tmp_path / "one.jsonl"),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    two = subprocess.run(
        [*launcher, "-m", "spatialnet", "predict", *map(str, args), "--out", str(tmp_path / "two.jsonl")],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert "predicted 6 of 6 images" in two.stdout and two.stdout.count("predicted") == 1  # rank 0 alone
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["one.jsonl", "two.jsonl"]
    rows_one, rows_two = rows_of(tmp_path / "one.jsonl"), rows_of(tmp_path / "two.jsonl")
    assert [row["file"] for row in rows_two] == [row["file"] for row in rows_one]
    for a, b in zip(rows_one, rows_two, strict=True):
        assert set(a) == set(b)
        for key, value in a.items():
            if key == "landuse":
                assert [x["label"] for x in b[key]] == [x["label"] for x in value]
                assert [x["probability"] for x in b[key]] == pytest.approx(
                    [x["probability"] for x in value], abs=1e-5
                )
            else:
                assert b[key] == (pytest.approx(value, abs=1e-5) if isinstance(value, float) else value), key
