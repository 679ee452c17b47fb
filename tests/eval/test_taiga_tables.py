"""eval/taiga_tables.py: seed 000's tables over seeds on a tiny synthetic forest, runs shared and reused."""

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from spatialnet.checkpoint import WEIGHTS_FILE
from spatialnet.data.synthetic.forest import synthesize_forest
from spatialnet.data.taiga import CATEGORICAL_NAMES, CONTINUOUS_NAMES
from tests.helpers import eval_script

BANDS = 24
# every run: 24 bands, small blocks and batches, one epoch; per recipe: narrow networks
SHRINK = [
    f"data.bands={list(range(BANDS))}",
    "data.block=5",
    "data.num_workers=0",
    f"backbone.in_chans={BANDS}",
    "train.epochs=1",
    "train.batch_size=16",
    "train.eval_batch_size=64",
]
RECIPE_SHRINK = {
    "taiga-tiny": ["backbone.options.width=8", "backbone.options.decoder_width=8"],
    "taiga-pham-tiny": [
        "backbone.options.channels=[4, 4, 2]",
        "backbone.options.spectral_kernels=[8, 6, 4]",
        "backbone.options.shared_features=16",
    ],
}


@pytest.fixture(scope="module")
def tables():
    """The script as a module, on one torch thread: tiny models gain nothing from two, and a second
    thread fighting a busy neighbour for the core slows every step many times over."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with eval_script("taiga_tables") as module:
            yield module
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def forest(tmp_path_factory):
    out = tmp_path_factory.mktemp("forest")
    synthesize_forest(out, seed=3, size=(256, 256), bands=BANDS, stand_size=40.0, spectra=None)
    return out


@pytest.fixture
def runner(tables, forest, tmp_path):
    return tables.Runner(str(forest), tmp_path / "runs", list(SHRINK), RECIPE_SHRINK)


def cli_args(forest, tmp_path):
    args = ["--data", str(forest), "--seeds", "2", "--tables", "II", "III", "IV", "--compare"]
    args += [
        "--runs",
        str(tmp_path / "runs"),
        "--out",
        str(tmp_path / "report" / "tables"),
        "--map-size",
        "24",
    ]
    for setting in SHRINK:
        args += ["--set", setting]
    for recipe, settings in RECIPE_SHRINK.items():
        for setting in settings:
            args += ["--set-recipe", f"{recipe}:{setting}"]
    return args


@pytest.mark.slow
def test_tables_over_two_seeds_then_reuse(tables, forest, tmp_path, capsys):
    assert tables.main(cli_args(forest, tmp_path)) == 0
    printed = capsys.readouterr().out
    assert printed.count(": trained (") == 2 and ": reused" not in printed

    report = json.loads((tmp_path / "report" / "tables.json").read_text())
    assert set(report["tables"]) == {"II", "III", "IV"} and report["seeds"] == [0, 1]
    runs = [r["run"] for r in report["runs"]]
    assert len(runs) == 2 and {r.rsplit("/", 1)[-1] for r in runs} == {"seed0", "seed1"}
    evaluated = [json.loads((Path(r) / "eval_test.json").read_text()) for r in runs]

    # Table II: mean / min / max over the two runs' own test accuracies, in %
    accuracies = [100 * e["metrics"]["fertility"]["accuracy"] for e in evaluated]
    oa = report["tables"]["II"]["fertility"]["oa"]
    assert oa["ours"] == pytest.approx(
        {"mean": np.mean(accuracies), "min": min(accuracies), "max": max(accuracies)}
    )
    assert oa["paper"] == [97.03, 96.96, 97.13]
    assert set(report["tables"]["II"]) == set(CATEGORICAL_NAMES)
    assert set(report["tables"]["II"]["soil"]) == set(tables.CLASS_METRICS)
    # Table III: normalised RMSE per continuous variable
    rmse = [e["metrics"]["height"]["rmse"] for e in evaluated]
    assert report["tables"]["III"]["height"]["rmse"]["ours"]["max"] == pytest.approx(max(rmse))
    assert set(report["tables"]["III"]) == set(CONTINUOUS_NAMES)
    # Table IV: our model's row beside the paper's "Proposed", then the paper-only rows
    rows = report["tables"]["IV"]
    assert rows[0]["paper_row"] == "Proposed" and rows[0]["ours"]["oa"]["mean"] == pytest.approx(
        np.mean([100 * np.mean([e["metrics"][n]["accuracy"] for n in CATEGORICAL_NAMES]) for e in evaluated])
    )
    assert [r["label"] for r in rows[1:]][:2] == ["U-Net", "SegNet"] and rows[1].get("ours") is None

    text = (tmp_path / "report" / "tables.md").read_text()
    for heading in ("## Table II", "## Table III", "## Table IV", "## Figures"):
        assert heading in text
    assert "| fertility | OA |" in text and "| 97.03 (96.96–97.13) |" in text
    assert "python eval/taiga_tables.py --data" in text and "'data.bands=[0, 1," in text  # shell-quoted
    figures = tmp_path / "report" / "tables_figures"
    for name in ("class_map_species.png", "eval_test_height_scatter.png", "eval_test_soil_confusion.png"):
        assert (figures / name).read_bytes()[:4] == b"\x89PNG"
    assert f"]({figures.name}/class_map_species.png)" in text

    # a second call trains nothing: the same folders, the same weights
    weights = [Path(r) / "best" / WEIGHTS_FILE for r in runs]
    stamps = [w.stat().st_mtime_ns for w in weights]
    assert tables.main(cli_args(forest, tmp_path)) == 0
    printed = capsys.readouterr().out
    assert printed.count(": reused (") == 2 and ": trained" not in printed
    assert [w.stat().st_mtime_ns for w in weights] == stamps


def test_rows_with_equal_settings_share_one_run(tables, runner):
    main = tables.Config("taiga-tiny")
    full = runner.folder(main)
    assert runner.folder(tables.loss_config("taiga-tiny", "weighted cross-entropy")) == full
    assert runner.folder(tables.ablation_config("taiga-tiny", "RDAMC")) == full
    ablation = {
        label: runner.folder(tables.ablation_config("taiga-tiny", letters))
        for label, (letters, _) in tables.ABLATION.items()
    }
    assert len(set(ablation.values())) == len(tables.ABLATION)
    losses = {runner.folder(tables.loss_config("taiga-tiny", v)) for v in tables.LOSS_ROWS}
    assert len(losses) == 4 and full in losses

    baseline = runner.recipe(tables.ablation_config("taiga-tiny", ""), 0)
    options = baseline.backbone.options
    assert not any(
        options[s] for s in ("use_residual", "use_atrous", "use_attention", "use_channel_doubling")
    )
    assert baseline.loss.balancing == "fixed" and options["width"] == 8  # per-recipe shrink kept
    rdam = runner.recipe(tables.ablation_config("taiga-tiny", "RDAM"), 0)
    assert rdam.loss.balancing == "uncertainty" and rdam.backbone.options["use_channel_doubling"] is False


def test_overrides_per_recipe_and_seeds(tables, runner, forest):
    pham = runner.recipe(tables.Config("taiga-pham-tiny"), 5)
    assert pham.backbone.options["channels"] == [4, 4, 2] and "width" not in pham.backbone.options
    assert pham.seed == 5 and pham.train.epochs == 1 and pham.data.root == str(forest)
    assert runner.folder(tables.Config("taiga-pham-tiny")) != runner.folder(tables.Config("taiga-tiny"))
    settings = runner.settings(tables.Config("taiga-pham-tiny"))
    assert settings["train.epochs"] == 1 and "seed" not in settings
    assert tables.parse_seeds([3]) == [0, 1, 2] and tables.parse_seeds([4, 7]) == [4, 7]
    assert tables.parse_recipe_overrides(["a:x=1", "a:y=2", "b:z=3"]) == {"a": ["x=1", "y=2"], "b": ["z=3"]}


def test_single_task_configs_keep_one_head_and_its_decoder(tables, runner):
    configs = tables.single_task_configs("taiga-tiny", epochs=1)
    assert list(configs) == [*CATEGORICAL_NAMES, *CONTINUOUS_NAMES]
    assert len({runner.folder(c) for c in configs.values()}) == 13
    soil = runner.recipe(configs["soil"], 0)
    lai = runner.recipe(configs["lai"], 0)
    assert list(soil.heads) == ["soil"] and soil.backbone.options["families"] == ["classification"]
    assert list(lai.heads) == ["lai"] and lai.backbone.options["families"] == ["regression"]


def test_summary_metrics_average_the_variables(tables):
    metrics = {
        n: {"accuracy": a, "precision_macro": 0.5, "recall_macro": 0.25}
        for n, a in zip(CATEGORICAL_NAMES, (0.9, 0.6, 0.3), strict=True)
    }
    metrics.update({n: {"rmse": 0.1 * i, "mae": 0.05} for i, n in enumerate(CONTINUOUS_NAMES)})
    summary = tables.summary_metrics(metrics)
    assert summary == pytest.approx(
        {"oa": 60.0, "precision": 50.0, "recall": 25.0, "rmse": 0.45, "mae": 0.05}
    )
    assert tables.stats([1.0, None, 3.0]) == {"mean": 2.0, "min": 1.0, "max": 3.0}
    assert tables.stats([None]) is None


def test_class_map_helpers(tables, tmp_path):
    maps = importlib.import_module("taiga_class_maps")
    colours = maps.class_colours(3) / 255.0
    rgb = maps._rgb(np.array([[0, 2], [-100, 1]]), colours)
    assert rgb[0, 1] == pytest.approx(colours[2]) and rgb[1, 0] == pytest.approx(maps.NO_LABEL_RGB)
    # seven centres around (100, 150), one far away: the 32-px crop takes the seven
    centres = np.array([[100 + r, 150 + c] for r in (-8, 0, 8) for c in (-8, 8)] + [[100, 150], [20, 20]])
    crop = maps.densest_test_crop(centres, (256, 256), size=32, window=17)
    rows, cols = centres[:, 0], centres[:, 1]
    inside = (rows >= crop.top) & (rows < crop.top + 32) & (cols >= crop.left) & (cols < crop.left + 32)
    assert inside.sum() == 7 and crop.top >= 8 and crop.left >= 8
    path = maps.class_map_figure(
        np.zeros((5, 5), np.uint8), np.full((5, 5), -100), ["a", "b"], tmp_path / "m.png"
    )
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="one shape"):
        maps.class_map_figure(np.zeros((5, 5)), np.zeros((4, 5)), ["a"], tmp_path / "x.png")
