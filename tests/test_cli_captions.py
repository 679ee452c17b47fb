"""Captioning through the CLI: train, resume, evaluate (COCO results + scores), predict a sentence."""

import importlib
import json
import shutil

import pytest
import torch
import yaml

from spatialnet.cli.main import main
from tests.helpers import REPO, TINY_RECIPE

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None, reason="caption metrics need Java (METEOR, PTB)"
)

CAPTION_RECIPE = {
    **TINY_RECIPE,
    "name": "test-captions",
    "data": {**TINY_RECIPE["data"], "dataset": "ucm_captions"},
    "heads": {
        "captions": {
            "type": "caption",
            "hidden_size": 32,
            "layers": 1,
            "attention_heads": 2,
            "max_length": 24,
            "num_beams": 2,
        },
        "landuse": {"type": "classification", "num_classes": 21, "weight": 0.5},
    },
    "train": {**TINY_RECIPE["train"], "epochs": 2, "select_metric": "captions/CIDEr"},
}


@pytest.fixture(scope="module")
def caption_run(tmp_path_factory, tiny_world):
    folder = tmp_path_factory.mktemp("captions")
    recipe = folder / "captions.yaml"
    recipe.write_text(
        yaml.safe_dump({**CAPTION_RECIPE, "data": {**CAPTION_RECIPE["data"], "root": str(tiny_world)}})
    )
    run = folder / "run"
    assert main(["train", str(recipe), "--out", str(run), "--no-progress", "--set", "train.epochs=1"]) == 0
    # resuming reloads the saved vocabulary and continues to epoch 2
    assert main(["train", str(recipe), "--out", str(run), "--no-progress", "--resume"]) == 0
    return run


def test_checkpoint_holds_the_vocabulary(caption_run):
    for name in ("best", "last"):
        assert (caption_run / name / "captions" / "tokenizer.json").is_file()
    history = json.loads((caption_run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert "captions/CIDEr" in history[-1]["val"] and "captions/Bleu_4" in history[-1]["val"]


def test_evaluate_writes_coco_results_and_scores(caption_run, tiny_world, capsys):
    out = caption_run / "eval.json"
    assert main(["evaluate", str(caption_run), "--split", "val", "--out", str(out)]) == 0
    assert "CIDEr" in capsys.readouterr().out
    metrics = json.loads(out.read_text())["metrics"]["captions"]
    dataset = json.loads((tiny_world / "ucm_captions" / "dataset.json").read_text())
    val_ids = {image["imgid"] for image in dataset["images"] if image["split"] == "val"}
    generated = json.loads((caption_run / metrics["predictions_file"]).read_text())
    assert {row["image_id"] for row in generated} == val_ids
    assert set(metrics["per_image"]) == {str(i) for i in val_ids}
    assert metrics["unavailable"] == {"SPICE": pytest.approx(metrics["unavailable"]["SPICE"])}
    # the stand-alone evaluator gives the same numbers from the files
    scores = caption_run / "scores.json"
    argv = [
        "score-captions",
        "--references",
        str(tiny_world / "ucm_captions" / "dataset.json"),
        "--split",
        "val",
    ]
    assert (
        main([*argv, "--predictions", str(caption_run / metrics["predictions_file"]), "--out", str(scores)])
        == 0
    )
    standalone = json.loads(scores.read_text())["metrics"]
    for key in ("Bleu_1", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"):
        assert standalone[key] == pytest.approx(metrics[key])


def test_predict_prints_a_caption_and_the_land_use(caption_run, tiny_world, capsys):
    image = sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0]
    assert main(["predict", str(caption_run), "--image", str(image), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert isinstance(result["captions"], str)
    assert result["landuse"][0]["label"]


def test_self_critical_stage_starts_from_a_run_and_resumes(caption_run, tiny_world, tmp_path):
    """``train.init_from`` loads every weight and the vocabulary; the SCST stage resumes like any run.

    With every learning rate scaled to 0 the stage must end with exactly the weights it started from.
    """
    from safetensors.torch import load_file

    head = {**CAPTION_RECIPE["heads"]["captions"], "objective": "scst", "scst_samples": 2}
    scst = {
        **CAPTION_RECIPE,
        "name": "test-captions-scst",
        "data": {**CAPTION_RECIPE["data"], "root": str(tiny_world)},
        "heads": {**CAPTION_RECIPE["heads"], "captions": head},
        "train": {
            **CAPTION_RECIPE["train"],
            "epochs": 2,
            "lr_scale": {"*": 0.0},
            "init_from": str(caption_run),
        },
    }
    recipe = tmp_path / "scst.yaml"
    recipe.write_text(yaml.safe_dump(scst))
    run = tmp_path / "scst"
    assert main(["train", str(recipe), "--out", str(run), "--no-progress", "--set", "train.epochs=1"]) == 0
    assert main(["train", str(recipe), "--out", str(run), "--no-progress", "--resume"]) == 0
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1, 2]
    assert (run / "last" / "captions" / "tokenizer.json").read_text() == (
        caption_run / "best" / "captions" / "tokenizer.json"
    ).read_text()
    start, end = (
        load_file(str(caption_run / "best" / "model.safetensors")),
        load_file(str(run / "last" / "model.safetensors")),
    )
    assert start.keys() == end.keys()
    assert all(torch.equal(start[key], end[key]) for key in start)


def test_init_from_names_a_missing_run(tiny_world, tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    data = {**CAPTION_RECIPE, "data": {**CAPTION_RECIPE["data"], "root": str(tiny_world)}}
    recipe.write_text(
        yaml.safe_dump({**data, "train": {**data["train"], "init_from": str(tmp_path / "nope")}})
    )
    assert main(["train", str(recipe), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "train.init_from:" in err and "nope: no checkpoint here" in err


def test_decoding_sweep_scores_each_setting_once(caption_run, tmp_path, monkeypatch):
    """eval/caption_decoding.py: greedy once, each beam width with each length penalty, best first."""
    monkeypatch.syspath_prepend(str(REPO / "eval"))
    sweep = importlib.import_module("caption_decoding")
    grid = sweep.settings([1, 2], [0.5, 1.0])
    assert grid == [
        {"num_beams": 1, "length_penalty": 1.0},
        {"num_beams": 2, "length_penalty": 0.5},
        {"num_beams": 2, "length_penalty": 1.0},
    ]
    out = tmp_path / "sweep.json"
    assert sweep.main([str(caption_run), "--split", "val", "--beams", "1", "2", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 1 + 3  # greedy + 2 beams × the 3 default penalties
    assert [r["CIDEr"] for r in rows] == sorted((r["CIDEr"] for r in rows), reverse=True)
    # the recipe's own setting (2 beams, penalty 1) scores what `evaluate` scores
    recipe_row = next(r for r in rows if r["num_beams"] == 2 and r["length_penalty"] == 1.0)
    assert main(["evaluate", str(caption_run), "--split", "val", "--out", str(tmp_path / "eval.json")]) == 0
    evaluated = json.loads((tmp_path / "eval.json").read_text())["metrics"]["captions"]
    assert recipe_row["CIDEr"] == pytest.approx(100 * evaluated["CIDEr"])
