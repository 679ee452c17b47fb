"""The shipped real-data joint recipe (spatialnet_vit-real-cpu) on a generated world: one trunk, land
use and captions of the photos, and ONE VQA head learning RSIVQA's and RSVQA-LR's question sets."""

from __future__ import annotations

import json
import re

import pytest
import torch

from spatialnet.config import load_recipe
from spatialnet.predictor import Predictor
from spatialnet.training.trainer import Trainer

# The recipe as shipped, shrunk to test size: a small conv-stem ViT at 32 px instead of the
# ImageNet hybrid at 224 px, small text heads, two steps.
SHRINK = [
    "backbone.stem=conv",
    "backbone.cnn_weights=null",
    "backbone.img_size=32",
    "backbone.patch_size=8",
    "backbone.embed_dim=32",
    "backbone.depth=1",
    "backbone.num_heads=2",
    "heads.captions.hidden_size=32",
    "heads.captions.layers=1",
    "heads.captions.attention_heads=2",
    "heads.captions.num_beams=1",
    "heads.vqa.hidden_size=32",
    "heads.vqa.layers=1",
    "heads.vqa.attention_heads=2",
    "heads.vqa.fusion_layers=1",
    "train.epochs=1",
    "train.steps_per_epoch=3",
    "train.threads=1",
    "train.freeze_epochs={}",
    "train.eval_batch_size=16",
    *(f"datasets.{name}.data.image_size=32" for name in ("ucm_captions", "rsivqa", "rsvqa_lr")),
    *(f"datasets.{name}.batch_size=4" for name in ("ucm_captions", "rsivqa", "rsvqa_lr")),
]


@pytest.fixture(scope="module")
def real_joint_run(tmp_path_factory, tiny_world):
    recipe = load_recipe("spatialnet_vit-real-cpu", [f"data.root={tiny_world}", *SHRINK])
    # proportions 0.58/0.32/0.10 over 3 steps: give each dataset a batch so that every path runs
    recipe.datasets["rsvqa_lr"].proportion = recipe.datasets["rsivqa"].proportion = 0.58
    run = tmp_path_factory.mktemp("joint_real") / "run"
    Trainer(recipe, run, show_progress=False, log=lambda _m: None).fit()
    return run


def test_one_vqa_head_learns_both_question_sets(real_joint_run):
    history = json.loads((real_joint_run / "history.json").read_text())
    assert history[0]["batches"] == {"ucm_captions": 1, "rsivqa": 1, "rsvqa_lr": 1}
    assert set(history[0]["train_task_losses"]) == {"captions", "landuse", "vqa"}
    config = json.loads((real_joint_run / "best" / "config.json").read_text())
    vqa = config["heads"]["vqa"]
    assert set(vqa["answer_sets"]) == {"rsivqa", "rsvqa_lr"} and vqa["default_question_set"] == "rsivqa"
    assert set(vqa["answer_sets"]["rsivqa"]) == {"theme", "presence", "count", "location"}
    assert vqa["answer_sets"]["rsvqa_lr"]["count"][0] == "0"  # RSVQA's bins, fixed by its definition
    assert {"yes", "no", "between 0 and 10", "zero"} <= set(vqa["answers"])
    assert len(vqa["answers"]) == len(set(vqa["answers"]))  # yes/no once for both sets
    val = json.loads((real_joint_run / "best" / "metrics.json").read_text())["val"]
    assert {"captions", "landuse", "vqa@rsivqa", "vqa@rsvqa_lr"} <= set(val)
    assert {"theme", "location", "AA", "OA"} <= set(val["vqa@rsivqa"]) and "mean3" not in val["vqa@rsivqa"]
    assert {"rural_urban", "comp", "mean3"} <= set(val["vqa@rsvqa_lr"])


def test_the_joint_model_answers_in_the_set_asked(real_joint_run, tiny_world):
    predictor = Predictor.from_run(real_joint_run, "cpu")
    assert predictor.question_sets() == ["rsivqa", "rsvqa_lr"]
    image = predictor.load(sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0])
    question = "How many cars in the picture?"
    default = predictor.predict_array(image, question=question)
    assert set(default) == {"captions", "landuse", "vqa"}
    words = predictor.model.head("vqa").config.answer_sets["rsivqa"]["count"]
    assert default["vqa"]["question_set"] == "rsivqa" and default["vqa"]["answer"] in words
    tiles = predictor.predict_array(image, question=question, question_set="rsvqa_lr")["vqa"]
    assert tiles["question_set"] == "rsvqa_lr" and tiles["type"] == "count"
    assert tiles["answer"] in predictor.model.head("vqa").config.answer_sets["rsvqa_lr"]["count"]


def _student(tiny_world, teacher, *extra):
    recipe = load_recipe(
        "spatialnet_vit-real-cpu",
        [f"data.root={tiny_world}", *SHRINK, f"train.distill.teachers.landuse={teacher}", *extra],
    )
    recipe.datasets["rsvqa_lr"].proportion = recipe.datasets["rsivqa"].proportion = 0.58
    return recipe


def test_a_land_use_teacher_blends_into_the_land_use_loss_only(real_joint_run, tiny_world, tmp_path):
    """The teacher here is the run above: a student with its weights, in eval mode, agrees with it
    exactly, so the distilled term is 0 and the land-use loss is (1 − w) × the labels' loss."""
    from spatialnet.data.collate import collate
    from spatialnet.model import load_run
    from spatialnet.training.distillation import build_teachers
    from spatialnet.training.sources import load_sources

    recipe = _student(tiny_world, real_joint_run, "train.distill.weight=0.25")
    student = load_run(real_joint_run, "cpu")[0]
    teachers = build_teachers(recipe, student, torch.device("cpu"))
    assert teachers is not None and set(teachers.models) == {"landuse"}
    source = load_sources(recipe)["ucm_captions"]
    batch = collate([source.val[i] for i in range(4)])
    with torch.no_grad():
        result = student(batch, ["captions", "landuse"])
        losses = dict(result.losses)
        teachers.blend(batch, result.outputs, losses)
        assert torch.isclose(losses["landuse"], 0.75 * result.losses["landuse"])
        assert losses["captions"] is result.losses["captions"]
        result.outputs["landuse"] += torch.randn_like(result.outputs["landuse"])  # now they disagree
        teachers.blend(batch, result.outputs, losses := dict(result.losses))
        assert losses["landuse"] > 0.75 * result.losses["landuse"]


def test_a_student_trains_with_its_teacher(real_joint_run, tiny_world, tmp_path):
    logs: list[str] = []
    recipe = _student(tiny_world, real_joint_run)
    Trainer(recipe, tmp_path / "run", show_progress=False, log=logs.append).fit()
    assert any(line.startswith("distilling from landuse: ") for line in logs)
    config = json.loads((tmp_path / "run" / "best" / "config.json").read_text())
    assert config["train"]["distill"] == {
        "teachers": {"landuse": str(real_joint_run)},
        "weight": 0.5,
        "temperature": 2.0,
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["train.distill.teachers={vqa: TEACHER}"], "only classifying heads can be distilled"),
        (["train.distill.teachers={colour: TEACHER}"], "not heads of this recipe"),
        (["datasets.ucm_captions.data.std=[0.25, 0.25, 0.25]"], "a teacher must see what it was trained on"),
        (["train.distill.weight=1.5"], "'train.distill.weight' is 1.5; expected a number ≥ 0 and ≤ 1"),
    ],
)
def test_a_teacher_that_cannot_teach_is_refused(real_joint_run, tiny_world, tmp_path, extra, message):
    from spatialnet.errors import RecipeError

    extra = [item.replace("TEACHER", str(real_joint_run)) for item in extra]
    with pytest.raises(RecipeError, match=re.escape(message)):
        Trainer(_student(tiny_world, real_joint_run, *extra), tmp_path / "run", show_progress=False).fit()
