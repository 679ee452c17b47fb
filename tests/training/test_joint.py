"""The joint SpatialNet-ViT: one run, one checkpoint, every task, from several datasets."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import yaml
from safetensors.torch import load_file

from spatialnet import checkpoint as ckpt
from spatialnet.cli.main import main
from spatialnet.config import recipe_from_dict
from spatialnet.data.synthetic.forest import CUBE_NAME
from spatialnet.errors import RecipeError
from spatialnet.model import SpatialNet
from spatialnet.predictor import Predictor
from tests.helpers import ENV, free_port, tiny_joint_recipe

TASKS = {"captions", "landuse", "vqa", "fertility", "lai"}


def test_every_task_trains_on_its_own_dataset_and_is_validated(joint_run):
    history = json.loads((joint_run / "history.json").read_text())
    assert len(history) == 2
    assert set(history[0]["train_task_losses"]) == TASKS
    val = history[-1]["val"]
    assert {"captions/CIDEr", "landuse/accuracy", "vqa/AA", "fertility/accuracy", "lai/rmse"} <= set(val)
    assert {"taiga/mean_rmse", "ucm_captions/loss"} <= set(val)  # per-dataset aggregates
    metrics = ckpt.read_metrics(joint_run / "best")
    scores = [
        h["val"]["landuse/accuracy"] + h["val"]["vqa/AA"] - h["val"]["taiga/mean_rmse"] for h in history
    ]
    assert metrics["select_metric"] == "joint" and metrics["best_value"] == pytest.approx(max(scores))
    states = json.loads((joint_run / "best" / "data_state.json").read_text())
    assert set(states) == {"taiga"}  # only the forest fits a target state on its training split
    processors = json.loads((joint_run / "best" / "processors.json").read_text())
    kinds = {name: processor["kind"] for name, processor in processors.items()}
    assert kinds == {"ucm_captions": "image", "rsvqa_lr": "image", "taiga": "hyperspectral"}


def test_one_checkpoint_answers_every_task(joint_run, tiny_world, forest, capsys):
    tile = sorted((tiny_world / "rsvqa_lr" / "Images_LR").iterdir())[0]
    question = "Is there a road?"
    assert main(["predict", str(joint_run), "--image", str(tile), "--question", question, "--json"]) == 0
    answered = json.loads(capsys.readouterr().out)
    assert set(answered) == {"captions", "landuse", "vqa"}
    assert answered["vqa"]["type"] == "presence" and isinstance(answered["captions"], str)
    assert main(["predict", str(joint_run), "--image", str(tile), "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"captions", "landuse"}  # no question, no answer
    cube = forest / "taiga" / f"{CUBE_NAME}.hdr"
    assert main(["predict", str(joint_run), "--cube", str(cube), "--pixel", "128", "128", "--json"]) == 0
    pixel = json.loads(capsys.readouterr().out)
    assert set(pixel) == {"fertility", "lai"} and pixel["lai"]["unit"]

    predictor = Predictor.from_run(joint_run, "cpu")
    assert predictor.window == 9 and set(predictor.image_sources()) == {"ucm_captions", "rsvqa_lr"}
    # the joint predictor prepares the tile as the VQA dataset does: same answer as a direct forward
    vqa = predictor.predict_file(tile, question=question)["vqa"]
    assert vqa["answer"] == answered["vqa"]["answer"]
    assert vqa["probability"] == pytest.approx(answered["vqa"]["probability"], rel=1e-5)


def test_evaluate_scores_every_task_on_its_split(joint_run, capsys):
    assert main(["evaluate", str(joint_run), "--split", "test"]) == 0
    report = json.loads((joint_run / "eval_test.json").read_text())
    metrics = report["metrics"]
    assert {"Bleu_4", "CIDEr"} <= set(metrics["captions"]) and "AA" in metrics["vqa"]
    assert metrics["landuse"]["num_samples"] == 4 and "accuracy" in metrics["fertility"]
    assert set(report["data"]) == {"ucm_captions", "rsvqa_lr", "taiga"}


def test_resuming_a_joint_run_repeats_the_uninterrupted_one(joint_recipe, joint_run, tmp_path):
    run = tmp_path / "resumed"
    base = ["train", str(joint_recipe), "--out", str(run), "--no-progress"]
    assert main([*base, "--set", "train.epochs=1"]) == 0
    assert main([*base, "--resume"]) == 0
    resumed = load_file(str(run / "last" / "model.safetensors"))
    straight = load_file(str(joint_run / "last" / "model.safetensors"))
    for key, value in straight.items():
        torch.testing.assert_close(resumed[key], value, rtol=0, atol=0)


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_for_the_joint_model(joint_recipe, tmp_path):
    """Same global batches from every dataset, in the same order, and the same losses for every task.

    Means over words, questions, labelled pixels and class weights are taken over the global batch
    (``losses.global_mean``), so the forest losses match as closely as the others (dropout, whose
    masks would differ by process, is off here).
    """
    no_dropout = ["--set", "heads.captions.dropout=0", "--set", "heads.vqa.dropout=0"]
    base = ["train", str(joint_recipe), "--no-progress", *no_dropout, "--set", "train.threads=1"]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2"]
    launcher += ["--master-addr", "127.0.0.1", "--master-port", str(free_port()), "-m", "spatialnet"]
    one = subprocess.Popen(
        [sys.executable, "-m", "spatialnet", *base, "--out", str(tmp_path / "one")], env=ENV
    )
    two = subprocess.Popen([*launcher, *base, "--out", str(tmp_path / "two")], env=ENV)
    assert one.wait() == 0 and two.wait() == 0
    assert ckpt.read_metrics(tmp_path / "two" / "last")["world_size"] == 2
    history_one = json.loads((tmp_path / "one" / "history.json").read_text())
    history_two = json.loads((tmp_path / "two" / "history.json").read_text())
    for a, b in zip(history_one, history_two, strict=True):
        assert a["batches"] == b["batches"] == {"ucm_captions": 2, "rsvqa_lr": 2, "taiga": 2}
        for task in ("landuse", "vqa", "captions", "fertility", "lai"):
            assert b["train_task_losses"][task] == pytest.approx(a["train_task_losses"][task], rel=1e-3), task
    weights = load_file(str(tmp_path / "two" / "last" / "model.safetensors"))
    assert all(torch.isfinite(value).all() for value in weights.values())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["datasets"]["rsvqa_lr"].update(tasks=["vqa", "answers"]), "names 'answers'"),
        (lambda r: r["datasets"]["taiga"].update(tasks=["fertility"]), r"heads \['lai'\] are not listed"),
        (
            lambda r: r["datasets"]["taiga"]["tasks"].append("vqa"),
            "listed by datasets 'rsvqa_lr' \\(modality 'rgb'\\) and 'taiga' \\(modality 'hyperspectral'\\)",
        ),
        (
            lambda r: r["datasets"]["taiga"].update(proportion=0),
            "'datasets.taiga.proportion' is 0.0; expected a number > 0",
        ),
    ],
)
def test_inconsistent_joint_recipes_are_refused(change, message):
    recipe = tiny_joint_recipe("world", "forest")
    change(recipe)
    with pytest.raises(RecipeError, match=message):
        recipe_from_dict(recipe, "joint.yaml")


def test_a_head_on_a_modality_without_stem_is_refused():
    recipe = tiny_joint_recipe("world", "forest")
    recipe["datasets"]["taiga"]["modality"] = "sar"
    with pytest.raises(RecipeError, match="head 'fertility' reads modality 'sar'"):
        SpatialNet.from_recipe(recipe_from_dict(recipe))


def test_bands_that_do_not_match_the_stem_are_refused(tiny_world, forest, tmp_path, capsys):
    recipe = tiny_joint_recipe(str(tiny_world), str(forest))
    recipe["datasets"]["taiga"]["data"]["bands"] = list(range(10))
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(recipe))
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    assert "10 bands per image" in capsys.readouterr().err
