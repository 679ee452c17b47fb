"""``train.init_from`` across datasets: a VQA run on RSVQA-LR's questions fine-tuned on RSIVQA's."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from spatialnet.config import recipe_from_dict
from spatialnet.errors import CheckpointError
from spatialnet.model import load_run
from spatialnet.training.trainer import Trainer
from tests.helpers import tiny_vqa_spec


def _recipe(world, dataset: str, **train) -> dict:
    return {
        "name": f"transfer-{dataset}",
        "data": {"dataset": dataset, "root": str(world), "image_size": 32, "questions_per_image": 3},
        "backbone": {
            "preset": "tiny",
            "img_size": 32,
            "patch_size": 8,
            "embed_dim": 32,
            "depth": 1,
            "num_heads": 2,
        },
        "heads": {"vqa": tiny_vqa_spec()},
        "train": {"epochs": 1, "batch_size": 8, "threads": 1, "select_metric": "vqa/AA", **train},
    }


def test_a_vqa_run_fine_tuned_on_another_dataset_keeps_what_both_share(tiny_world, tmp_path):
    first = tmp_path / "rsvqa"
    Trainer(recipe_from_dict(_recipe(tiny_world, "rsvqa_lr")), first, show_progress=False, log=print).fit()
    logged: list[str] = []
    second = tmp_path / "rsivqa"
    recipe = recipe_from_dict(_recipe(tiny_world, "rsivqa", init_from=str(first), lr_scale={"*": 0.0}))
    Trainer(recipe, second, show_progress=False, log=logged.append).fit()
    note = next(line for line in logged if line.startswith("started from the weights of"))
    assert "vqa head: kept 2 of 9 answers (yes, no), added" in note and "words, added" in note

    old, _, _, _ = load_run(first, "cpu")
    new, _, _, _ = load_run(second / "last", "cpu")
    before, after = old.head("vqa"), new.head("vqa")
    # every learning rate scaled to 0: every shared weight is the first run's; shared answers and
    # words kept their rows
    rows, old_rows = after.classifier[-1].weight, before.classifier[-1].weight
    for answer in ("yes", "no"):
        assert torch.equal(rows[after.answer_index[answer]], old_rows[before.answer_index[answer]])
    old_words, new_words = before.tokenizer.get_vocab(), after.tokenizer.get_vocab()
    assert {w: new_words[w] for w in old_words} == old_words  # the vocabulary only grew
    assert torch.equal(new.backbone.state_dict()["vit.blocks.0.attn.qkv.weight"],
                       old.backbone.state_dict()["vit.blocks.0.attn.qkv.weight"])  # fmt: skip
    assert set(after.config.answer_sets) == {"rsivqa"}


def test_init_from_a_different_model_names_what_does_not_fit(tiny_world, tmp_path):
    first = tmp_path / "rsvqa"
    Trainer(recipe_from_dict(_recipe(tiny_world, "rsvqa_lr")), first, show_progress=False, log=print).fit()
    other = _recipe(tiny_world, "rsivqa", init_from=str(first))
    other["backbone"]["depth"] = 2
    with pytest.raises(
        CheckpointError, match=r"does not fit this recipe's model \(missing: \['backbone.vit.blocks.1"
    ):
        Trainer(recipe_from_dict(other), tmp_path / "other", show_progress=False, log=print).fit()
    assert "heads.vqa.classifier.4.weight" in load_file(str(first / "best" / "model.safetensors"))
