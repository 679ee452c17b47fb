"""TAIGA through the CLI: train the tiny recipes on a small synthetic forest, evaluate, predict, tables."""

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

from spatialnet.cli.main import main
from spatialnet.data.synthetic.forest import CUBE_NAME
from spatialnet.data.taiga import CATEGORICAL_NAMES, CONTINUOUS_NAMES
from spatialnet.predictor import Predictor
from tests.helpers import FOREST_BANDS, REPO, tiny_forest_recipe


def test_training_fills_data_settings_and_stores_the_preprocessing(forest_run):
    config = json.loads((forest_run / "best" / "config.json").read_text())
    fertility = config["heads"]["fertility"]
    assert fertility["num_classes"] == len(fertility["class_names"]) == len(fertility["class_frequencies"])
    assert all(name.split()[0].isdigit() for name in fertility["class_names"])  # "3 mesic heath forest"
    assert config["heads"]["lai"]["unit"] == "m²/m²" and config["heads"]["lai"]["scale"] > 0
    state = json.loads((forest_run / "best" / "data_state.json").read_text())["taiga"]  # by dataset
    processor = json.loads((forest_run / "best" / "processors.json").read_text())["taiga"]
    assert processor["kind"] == "hyperspectral" and processor["bands"] == list(range(FOREST_BANDS))
    assert set(state["scaling"]["p98"]) == set(CONTINUOUS_NAMES)
    assert state["scaling"]["p98"]["lai"] == config["heads"]["lai"]["scale"]
    history = json.loads((forest_run / "history.json").read_text())
    assert {"overall/loss", "fertility/accuracy", "lai/rmse", "lai/rmse_physical"} <= set(history[-1]["val"])


def test_evaluate_writes_metrics_and_figures(forest_run):
    out = forest_run / "eval.json"
    assert main(["evaluate", str(forest_run), "--split", "test", "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())["metrics"]
    assert set(metrics) == {*CATEGORICAL_NAMES, *CONTINUOUS_NAMES, "overall"}
    for name in CATEGORICAL_NAMES:
        assert {
            "accuracy",
            "mean_class_accuracy",
            "f1_macro",
            "f1_weighted",
            "confusion_matrix_normalised",
        } <= set(metrics[name])
        assert "accuracy" in metrics[name]["stand"]
        assert (forest_run / metrics[name]["confusion_matrix_png"]).is_file()
    for name in CONTINUOUS_NAMES:
        assert {"rmse", "mae", "r2", "rmse_physical"} <= set(metrics[name]) and "rmse" in metrics[name][
            "stand"
        ]
        for key in ("scatter_png", "error_histogram_png"):
            assert (forest_run / metrics[name][key]).read_bytes()[:4] == b"\x89PNG"


def test_predict_a_cube_pixel_in_physical_units(forest_run, forest):
    cube = forest / "taiga" / f"{CUBE_NAME}.hdr"
    predictor = Predictor.from_run(forest_run, "cpu")
    result = predictor.predict_pixel(cube, 128, 128)
    assert [item["label"][0].isdigit() for item in result["species"]] == [True] * len(result["species"])
    assert result["lai"]["unit"] == "m²/m²" and np.isfinite(result["lai"]["value"])
    with pytest.raises(Exception, match="too close to the edge"):
        predictor.predict_pixel(cube, 1, 128)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "spatialnet",
            "predict",
            str(forest_run),
            "--cube",
            str(cube),
            "--pixel",
            "128",
            "128",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "basal_area:" in done.stdout and "m²/ha" in done.stdout


def test_baseline_table(forest_run, tmp_path):
    out = tmp_path / "table.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "eval" / "table_taiga.py"), str(forest_run), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    table = json.loads(out.read_text())
    assert set(table["variables"]) == {*CATEGORICAL_NAMES, *CONTINUOUS_NAMES}
    for name in CATEGORICAL_NAMES:  # a constant guess ranks nothing (None: one class in the test split)
        assert table["variables"][name]["baseline"]["roc_auc_ovr"] in (None, pytest.approx(0.5))
    for name in CONTINUOUS_NAMES:
        assert np.isfinite(table["variables"][name]["baseline"]["rmse"])
    assert isinstance(table["beats_everywhere"], bool)


@pytest.mark.parametrize(
    ("recipe_name", "backbone", "balancing"),
    [
        ("taiga-vit-tiny", {"embed_dim": 24, "depth": 1, "num_heads": 2}, "uncertainty"),
        (
            "taiga-pham",
            {
                "img_size": 21,
                "options": {"channels": [4, 4, 2], "spectral_kernels": [8, 6, 4], "shared_features": 16},
            },
            "fixed",
        ),
        ("taiga-tiny", {"options": {"width": 8, "decoder_width": 8, "dilations": [1, 2]}}, "gradnorm"),
        ("taiga-unet-tiny", {"options": {"out_indices": [0, 1], "decoder_width": 8}}, "uncertainty"),
    ],
)
@pytest.mark.slow
def test_every_forest_backbone_and_balancing_trains(recipe_name, backbone, balancing, forest, tmp_path):
    recipe = tiny_forest_recipe(recipe_name, str(forest), **backbone)
    recipe["data"]["image_size"] = recipe["backbone"]["img_size"]
    recipe["loss"]["balancing"] = balancing
    recipe["train"]["epochs"] = 1
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "run" / "best" / "metrics.json").read_text())
    assert np.isfinite(metrics["val"]["overall"]["loss"])
    weights = metrics["history"][-1]["task_weights"]
    assert set(weights) == {*CATEGORICAL_NAMES, *CONTINUOUS_NAMES}
    if balancing == "gradnorm":  # the 13 task weights moved and still sum to the task count
        assert sum(weights.values()) == pytest.approx(13.0, rel=1e-4) and len(set(weights.values())) > 1


def test_band_count_mismatch_is_refused_before_training(forest, tmp_path, capsys):
    recipe = tiny_forest_recipe("taiga-tiny", str(forest))
    recipe["backbone"]["in_chans"] = 110  # the data gives 24 bands
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    assert "gives 24 bands per image" in capsys.readouterr().err
    assert not (tmp_path / "run" / "last").exists()
