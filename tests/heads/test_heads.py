"""One parametrised test over the whole head registry: shapes, finiteness, gradients, save/load."""

import pytest
import torch
from safetensors.torch import load_model, save_model

from spatialnet.config import BackboneConfig, Recipe
from spatialnet.errors import RecipeError
from spatialnet.heads import TaskHead, registered_heads
from spatialnet.heads.fitting import Sentences, fit_heads
from spatialnet.model import SpatialNet

BACKBONE = BackboneConfig(preset="tiny", img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2)
B = 3
CAPTIONS = [
    "There is a piece of farmland .",
    "Many cars parked in the parking lot .",
    "A river goes through this area .",
]


QUESTIONS = [["Is there a farmland?", "How many cars are there?"], ["Is it a rural or an urban area"], []]


TRAINING_TEXTS = Sentences(CAPTIONS)  # text heads fit their vocabulary on it: 18 words + 4 special tokens


# Every registered head needs an example here: (recipe entry, batch targets, expected output shape).
EXAMPLES = {
    "classification": ({"num_classes": 5}, lambda: torch.tensor([0, 3, 4]), (B, 5)),
    # longest caption: 7 words + [BOS]/[EOS] = 9 positions; vocabulary 22
    "caption": (
        {"hidden_size": 16, "layers": 1, "attention_heads": 2, "max_length": 12, "num_beams": 2},
        lambda: list(CAPTIONS),
        (B, 9, 22),
    ),
    # per-pixel forest heads read the 4×4 token grid: centre-pixel targets, and dense targets with gaps
    "pixel_classification": (
        {
            "num_classes": 3,
            "hidden_dim": 6,
            "class_weighting": "median_frequency",
            "class_frequencies": [5, 1, 2],
        },
        lambda: torch.tensor([0, 2, -100]),
        (B, 3, 4, 4),
    ),
    "pixel_regression": (
        {"loss": "mae", "scale": 35.5},
        lambda: torch.rand(B, 32, 32).masked_fill(torch.rand(B, 32, 32) < 0.3, float("nan")),
        (B, 1, 4, 4),
    ),
    # three questions over three images (the last has none): one row of 9 answer logits each
    "vqa": (
        {"hidden_size": 16, "layers": 1, "attention_heads": 2, "fusion_layers": 1, "count_weight": 0.5},
        lambda: [["yes", "between 0 and 10"], ["rural"], []],
        (3, 9),
    ),
}
# Inputs besides the image and the targets that a head reads from the batch.
EXTRA_INPUTS = {
    "vqa": lambda: {"question": QUESTIONS, "count": [[float("nan"), 4.0], [float("nan")], []]},
}


def test_every_registered_head_has_an_example():
    assert set(registered_heads()) == set(EXAMPLES)


@pytest.mark.parametrize("head_type", sorted(registered_heads()))
def test_every_registered_head_says_how_it_is_scored(head_type):
    """Without its own ``score`` a head would have no metrics: the base class refuses to guess."""
    assert registered_heads()[head_type].score is not TaskHead.score


@pytest.mark.parametrize("head_type", sorted(registered_heads()))
def test_head_contract(head_type, tmp_path):
    spec, make_target, shape = EXAMPLES[head_type]
    torch.manual_seed(0)
    recipe = Recipe(backbone=BACKBONE, heads={"task": {"type": head_type, **spec}})
    model = SpatialNet.from_recipe(recipe, fits=fit_heads(recipe, {"task": TRAINING_TEXTS}))
    batch = {"image": torch.randn(B, 3, 32, 32), "task": make_target(), **EXTRA_INPUTS.get(head_type, dict)()}

    out = model(batch)
    primary = getattr(out.outputs["task"], "logits", out.outputs["task"])  # VQA also returns counts
    assert tuple(primary.shape) == shape
    assert torch.isfinite(primary).all()
    loss = out.losses["task"]
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    head_grads = [p.grad for p in model.heads["task"].parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in head_grads)
    assert model.backbone.vit.patch_embed.proj.weight.grad.abs().sum() > 0  # gradient reaches the backbone

    model.eval()
    with torch.no_grad():
        expected = model.predict(batch)["task"]
    save_model(model, str(tmp_path / "m.safetensors"))
    model.save_files(tmp_path / "files")
    clone = SpatialNet.from_recipe(recipe, files=tmp_path / "files")  # vocabulary from saved files only
    load_model(clone, str(tmp_path / "m.safetensors"))
    clone.eval()
    with torch.no_grad():
        again = clone.predict(batch)["task"]
    if isinstance(expected, torch.Tensor):
        assert torch.equal(again, expected)
    else:  # generated text
        assert again == expected and all(isinstance(text, str) for text in again)


def test_only_labelled_heads_run_in_training():
    recipe = Recipe(
        backbone=BACKBONE,
        heads={
            "scene": {"type": "classification", "num_classes": 3},
            "other": {"type": "classification", "num_classes": 2},
        },
    )
    model = SpatialNet.from_recipe(recipe)
    out = model({"image": torch.randn(2, 3, 32, 32), "scene": torch.tensor([0, 2])})
    assert set(out.outputs) == set(out.losses) == {"scene"}
    assert set(model.predict({"image": torch.randn(1, 3, 32, 32)})) == {"scene", "other"}


def test_head_target_key_defaults_to_name_and_can_be_set():
    recipe = Recipe(backbone=BACKBONE, heads={"scene": {"type": "classification", "target": "landuse"}})
    model = SpatialNet.from_recipe(recipe)
    assert model.head("scene").target_key == "landuse"
    assert model.labelled_tasks({"landuse": torch.zeros(1)}) == ["scene"]


def test_unknown_head_type_or_key_is_refused():
    with pytest.raises(RecipeError, match=r"'heads.x.type' is 'captioner'; expected one of"):
        SpatialNet.from_recipe(Recipe(backbone=BACKBONE, heads={"x": {"type": "captioner"}}))
    with pytest.raises(RecipeError, match=r"unknown key 'heads.x.classes'"):
        SpatialNet.from_recipe(
            Recipe(backbone=BACKBONE, heads={"x": {"type": "classification", "classes": 3}})
        )


def test_focal_and_weighted_losses_are_selectable():
    recipe = Recipe(
        backbone=BACKBONE,
        heads={
            "scene": {
                "type": "classification",
                "num_classes": 3,
                "loss": "focal",
                "class_weights": [1.0, 2.0, 0.5],
            },
        },
    )
    model = SpatialNet.from_recipe(recipe)
    out = model({"image": torch.randn(2, 3, 32, 32), "scene": torch.tensor([0, 2])})
    assert torch.isfinite(out.losses["scene"])
