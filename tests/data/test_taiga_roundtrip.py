"""The synthetic forest world read back through the TAIGA reader: the two agree on every label."""

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
