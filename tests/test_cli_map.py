"""``spatialnet map`` on the tiny synthetic forest: rasters equal per-pixel predict, resuming, bad input."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from spatialnet.cli.main import main
from spatialnet.data.synthetic.forest import CUBE_NAME
from spatialnet.data.taiga import CATEGORICAL_NAMES, CONTINUOUS_NAMES
from spatialnet.data.taiga.envi import open_envi, write_envi
from spatialnet.mapping.resume import DONE_FILE
from spatialnet.mapping.scene import map_scene
from spatialnet.mapping.settings import MapSettings
from spatialnet.predictor import Predictor

STRIDE = 2


@pytest.fixture(scope="module")
def cube(forest):
    return forest / "taiga" / f"{CUBE_NAME}.hdr"


def map_command(run, cube, out, *extra):
    """``spatialnet map`` in a fresh process, as a user runs it (torch's default threads)."""
    command = [sys.executable, "-m", "spatialnet", "map", str(run), "--image", str(cube), "--out", str(out)]
    return [*command, "--stride", str(STRIDE), "--no-progress", *extra]


@pytest.fixture(scope="module")
def mapped(forest_run, cube, tmp_path_factory):
    out = tmp_path_factory.mktemp("map") / "out"
    done = subprocess.run(map_command(forest_run, cube, out), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return out


def raster(folder, name):
    return np.asarray(open_envi(folder / f"{name}.hdr").memmap())


def test_every_variable_is_mapped_with_georeferencing_and_quicklooks(mapped, cube):
    manifest = json.loads((mapped / "map.json").read_text())
    assert manifest["complete"] and manifest["summary"]["shape"] == [128, 128]
    for name in CATEGORICAL_NAMES:
        header = open_envi(mapped / f"{name}_class.hdr").metadata
        assert header["file type"] == "ENVI Classification" and header["class names"][0] == "no data"
        probabilities = raster(mapped, f"{name}_probability")
        assert probabilities.shape[2] == int(header["classes"]) - 1
    for name in CONTINUOUS_NAMES:
        assert raster(mapped, name).dtype == np.float32
    info = open_envi(mapped / "valid.hdr").map_info
    source = open_envi(cube).map_info
    assert [float(v) for v in info[5:7]] == [float(v) * STRIDE for v in source[5:7]]
    assert info[3:5] == source[3:5]
    valid = raster(mapped, "valid")[:, :, 0]
    assert valid[:4].sum() == 0 and valid[60:68, 60:68].all()  # no full window near the edge
    classes = raster(mapped, "species_class")[:, :, 0]
    assert ((classes > 0) == (valid == 1)).all()
    assert np.isnan(raster(mapped, "lai")[:, :, 0][valid == 0]).all()
    for png in ("species_class.png", "lai.png", "valid.png", "soil_probability.png"):
        assert (mapped / png).read_bytes()[:4] == b"\x89PNG"


def test_maps_equal_window_by_window_predict(mapped, forest_run, cube):
    # Classes exactly; probabilities and values to float32 rounding: oneDNN picks its convolution
    # kernels by batch size and thread count, which moves the last bit between a batch of 256 and
    # a single window on some thread counts (on 2 threads they are bit-identical).
    predictor = Predictor.from_run(forest_run, "cpu")
    valid = raster(mapped, "valid")[:, :, 0]
    pixels = np.argwhere(valid == 1)
    picks = pixels[np.random.default_rng(0).choice(len(pixels), 25, replace=False)]
    config = json.loads((forest_run / "best" / "config.json").read_text())["heads"]
    for i, j in picks.tolist():
        result = predictor.predict_pixel(cube, i * STRIDE + STRIDE // 2, j * STRIDE + STRIDE // 2, top_k=99)
        for name in CATEGORICAL_NAMES:
            by_label = {item["label"]: item["probability"] for item in result[name]}
            expected = np.float32([by_label[label] for label in config[name]["class_names"]])
            mapped_probabilities = raster(mapped, f"{name}_probability")[i, j]
            np.testing.assert_allclose(mapped_probabilities, expected, rtol=1e-5, atol=1e-7)
            assert raster(mapped, f"{name}_class")[i, j, 0] == expected.argmax() + 1
        for name in CONTINUOUS_NAMES:
            # within 1e-5 of the value or of the variable's range (its p98 scale): values near 0 come
            # out of a cancellation whose float32 rounding differs between the two batch sizes
            scale = float(config[name].get("scale", 1.0))
            expected_value = result[name]["value"]
            assert raster(mapped, name)[i, j, 0] == pytest.approx(expected_value, rel=1e-5, abs=1e-5 * scale)


@pytest.mark.slow
def test_a_killed_map_resumes_to_identical_output(mapped, forest_run, cube, tmp_path):
    out = tmp_path / "killed"
    process = subprocess.Popen(map_command(forest_run, cube, out), stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        done = (out / DONE_FILE).read_bytes() if (out / DONE_FILE).is_file() else b""
        if any(done):
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the map finished before it could be killed"
    finished = sum((out / DONE_FILE).read_bytes())
    assert 0 < finished < len((out / DONE_FILE).read_bytes())
    command = [*map_command(forest_run, cube, out), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["strips_reused"] == finished
    for path in sorted(mapped.iterdir()):
        if path.suffix in (".img", ".hdr", ".png"):
            assert path.read_bytes() == (out / path.name).read_bytes(), path.name


def test_bad_input_is_refused_with_the_reason(mapped, forest_run, cube, tmp_path, capsys):
    args = ["map", str(forest_run), "--image", str(cube), "--out", str(mapped)]
    assert main([*args, "--stride", "3"]) == 2
    error = capsys.readouterr().err
    assert "holds a map made with other settings" in error and "stride" in error and "--overwrite" in error
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main(["map", str(forest_run), "--image", str(cube), "--out", str(other)]) == 2
    assert "not empty and not a spatialnet map folder" in capsys.readouterr().err
    assert (other / "notes.txt").read_text() == "mine"
    assert (
        main(
            [
                "map",
                str(forest_run),
                "--image",
                str(cube),
                "--out",
                str(tmp_path / "r"),
                "--region",
                "250",
                "0",
                "9",
                "9",
            ]
        )
        == 2
    )
    assert "outside the cube" in capsys.readouterr().err
    few_bands = write_envi(tmp_path / "few.hdr", np.ones((32, 32, 5), np.int16))
    assert main(["map", str(forest_run), "--image", str(few_bands.path), "--out", str(tmp_path / "f")]) == 2
    assert "5 bands, but the model reads bands up to 23" in capsys.readouterr().err
    assert (
        main(["map", str(forest_run), "--image", str(tmp_path / "missing.hdr"), "--out", str(tmp_path / "m")])
        == 2
    )
    assert "ENVI header not found" in capsys.readouterr().err


def test_no_data_pixels_are_left_out_and_refused_by_predict(forest_run, tmp_path):
    spectra = np.random.default_rng(0).integers(100, 4000, (24, 24, 24)).astype(np.int16)
    spectra[12, 12] = 0  # a gap between flight lines: every band is the fill value
    cube = write_envi(tmp_path / "gap.hdr", spectra).path
    predictor = Predictor.from_run(forest_run, "cpu")
    map_scene(predictor, cube, tmp_path / "map", MapSettings(quicklooks=False), progress=False)
    valid = raster(tmp_path / "map", "valid")[:, :, 0]
    assert valid[12, 12] == 0 and valid[12, 11] == 1 and valid[11, 12] == 1
    assert valid.sum() == (24 - 16) ** 2 - 1  # 17-px windows fit around the central 8 × 8 pixels
    with pytest.raises(Exception, match=r"pixel \(12, 12\) has no data"):
        predictor.predict_pixel(cube, 12, 12)


def test_overwrite_replaces_only_the_maps_own_files(forest_run, cube, tmp_path):
    out = tmp_path / "map"
    args = ["map", str(forest_run), "--image", str(cube), "--out", str(out), "--no-quicklooks"]
    assert main([*args, "--region", "100", "100", "40", "40"]) == 0
    (out / "notes.txt").write_text("mine")
    assert main([*args, "--region", "100", "100", "40", "40", "--stride", "4", "--overwrite"]) == 0
    manifest = json.loads((out / "map.json").read_text())
    assert manifest["complete"] and manifest["settings"]["stride"] == 4
    assert raster(out, "lai").shape == (10, 10, 1) and (out / "notes.txt").read_text() == "mine"
