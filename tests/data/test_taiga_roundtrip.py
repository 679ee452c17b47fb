"""The synthetic forest world read back through the TAIGA reader: the two agree on every label."""

import os

import numpy as np
import pytest

from spatialnet.data.synthetic.forest import CUBE_NAME, LABEL_NAME, TABLE_NAME, synthesize_forest
from spatialnet.data.taiga import decode_targets, open_envi, read_stand_split


@pytest.fixture(scope="module")
def forest(tmp_path_factory):
    out = tmp_path_factory.mktemp("forest")
    summary = synthesize_forest(out, seed=3, size=(160, 160), bands=16, stand_size=40.0, spectra=None)
    return out / "taiga", summary


def test_reader_sees_the_real_formats(forest):
    root, summary = forest
    cube = open_envi(root / f"{CUBE_NAME}.hdr")
    labels = open_envi(root / f"{LABEL_NAME}.hdr")
    assert cube.shape == (160, 160, 16) and cube.dtype == np.int16 and cube.interleave == "bsq"
    assert cube.scale == 10000 and cube.wavelengths is not None and len(cube.wavelengths) == 16
    assert labels.shape == (160, 160, 14) and labels.dtype == np.int32 and labels.interleave == "bip"
    assert labels.ignore_value == 0
    assert summary.spectra_source == "parametric"


def test_labels_decode_to_the_stand_table(forest):
    root, summary = forest
    raster = np.asarray(open_envi(root / f"{LABEL_NAME}.hdr").memmap())
    targets = decode_targets(raster)
    labelled = targets.stand_id > 0
    assert int(labelled.sum()) == summary.labelled_pixels
    split = read_stand_split(root / TABLE_NAME)
    assert set(np.unique(targets.stand_id[labelled]).tolist()) <= split.training | split.holdout
    percentages = sum(targets.continuous[name][labelled] for name in ("pine", "spruce", "birch"))
    assert np.allclose(percentages, 100.0)
    cube = np.asarray(open_envi(root / f"{CUBE_NAME}.hdr").memmap())
    assert (cube[labelled].sum(axis=-1) > 0).all()  # labels never sit on no-data


def test_a_single_label_vector_decodes():
    vector = np.zeros(14, dtype=np.int32)
    vector[11], vector[13] = 250, 7  # LAI 2.50 in stand 7
    targets = decode_targets(vector)
    assert targets.continuous["lai"] == pytest.approx(2.5) and int(targets.stand_id) == 7
    vector[13] = 0
    assert np.isnan(decode_targets(vector).continuous["lai"])


def test_synth_cli_writes_the_forest_scene(tmp_path, capsys):
    from spatialnet.cli.main import main

    argv = ["synth", "--out", str(tmp_path / "w"), "--num-images", "2", "--questions-per-image", "3"]
    assert main([*argv, "--forest-size", "96", "--no-progress"]) == 0
    assert "TAIGA-format forest" in capsys.readouterr().out
    assert open_envi(tmp_path / "w" / "taiga" / f"{CUBE_NAME}.hdr").shape[:2] == (96, 96)
    assert main([*argv, "--forest-size", "-1", "--no-progress"]) == 2
    assert "--forest-size must be >= 0" in capsys.readouterr().err


def _get_taiga():
    import importlib.util

    from tests.helpers import REPO

    spec = importlib.util.spec_from_file_location("get_taiga", REPO / "scripts" / "get_taiga.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_get_taiga_links_and_checks_a_copy(tmp_path, capsys):
    synthesize_forest(tmp_path / "download", seed=1, size=(96, 96), bands=110, spectra=None)
    source = tmp_path / "download" / "taiga"
    script = _get_taiga()
    assert script.main(["--files", str(source), "--out", str(tmp_path / "data")]) == 0
    assert "cube 96×96×110 int16 bsq, labels 14 bands int32 bip" in capsys.readouterr().out
    linked = tmp_path / "data" / "taiga"
    assert os.path.samefile(linked / f"{CUBE_NAME}", source / CUBE_NAME)  # linked, never copied
    assert script.main(["--check", str(linked)]) == 0


def test_get_taiga_names_what_is_missing_or_wrong(forest, tmp_path, capsys):
    root, _ = forest
    script = _get_taiga()
    assert script.main(["--check", str(root)]) == 2  # the 16-band test cube
    assert "16 bands; expected at least 110" in capsys.readouterr().err
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / TABLE_NAME).write_text("standid,set\n")
    assert script.main(["--files", str(tmp_path / "partial"), "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert f"missing {CUBE_NAME}, {CUBE_NAME}.hdr, {LABEL_NAME}, {LABEL_NAME}.hdr" in err
    assert "doi.org/10.23729/fe7ce882" in err
