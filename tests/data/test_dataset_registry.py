"""One contract over the whole dataset registry: each registered dataset reads its split of the
tiny synthetic world, gives items with an image of the configured size, labels for its heads, and
refuses an unknown split or a missing root with a message naming what is wrong."""

from __future__ import annotations

import pytest
import torch

from spatialnet.config import DataConfig, from_dict
from spatialnet.data.base import Fitted, RecipeDataset
from spatialnet.data.registry import build_dataset, dataset_input, registered
from spatialnet.errors import DataError
from tests.helpers import FOREST_BANDS, tiny_joint_recipe

# Every registered dataset needs an example: its data section (roots filled in by the test) and
# the batch keys its items must carry besides the image.
EXAMPLES: dict[str, tuple[dict, set[str]]] = {
    "ucm_landuse": ({"dataset": "ucm_landuse", "image_size": 32}, {"landuse"}),
    "ucm_captions": ({"dataset": "ucm_captions", "image_size": 32}, {"captions", "references", "landuse"}),
    "rsvqa_lr": (
        {"dataset": "rsvqa_lr", "image_size": 48, "questions_per_image": 3},
        {"question", "answer", "question_id"},
    ),
    "rsivqa": (
        {"dataset": "rsivqa", "image_size": 32, "questions_per_image": 3},
        {"question", "answer", "question_id", "question_type", "question_set"},
    ),
    "taiga": (
        {"dataset": "taiga", "image_size": 9, "bands": list(range(FOREST_BANDS)), "block": 5},
        {"fertility", "lai", "stand_id"},
    ),
    "hf_captions": ({"dataset": "hf_captions", "image_size": 32}, {"captions", "references", "landuse"}),
    "hf_landuse": ({"dataset": "hf_landuse", "image_size": 32}, {"landuse", "image_id"}),
    "hf_vqa": (
        {"dataset": "hf_vqa", "image_size": 48, "questions_per_image": 3},
        {"question", "answer", "question_id", "question_type"},
    ),
}
# Hugging Face datasets read the tiny world's export (the hf_world fixture): the folder of each
HF_FOLDERS = {"hf_captions": "ucm_captions", "hf_landuse": "ucm_captions", "hf_vqa": "rsvqa_lr"}


def test_every_registered_dataset_has_an_example():
    assert set(registered()) == set(EXAMPLES)
    assert tiny_joint_recipe("w", "f")["datasets"].keys() <= set(EXAMPLES)


def config_for(name: str, tiny_world, forest, hf_world) -> DataConfig:
    section, _ = EXAMPLES[name]
    root = forest if dataset_input(name) == "cube" else tiny_world
    if name in HF_FOLDERS:
        root = hf_world / HF_FOLDERS[name]
    return from_dict(DataConfig, {**section, "root": str(root)}, "test", "data.")


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_dataset_contract(name, tiny_world, forest, hf_world):
    config = config_for(name, tiny_world, forest, hf_world)
    train = build_dataset(config, "train", train=True)
    assert isinstance(train, RecipeDataset)
    val = build_dataset(config, "val", train=False, fitted=Fitted.of(train))
    assert val.processor == train.processor  # fitted once, on train
    for dataset in (train, val):
        assert len(dataset) > 0
        item = dataset[0]
        image = item["image"]
        assert isinstance(image, torch.Tensor) and image.dtype == torch.float32
        bands = FOREST_BANDS if dataset_input(name) == "cube" else 3
        assert tuple(image.shape) == (bands, config.image_size, config.image_size)
        assert torch.isfinite(image).all()
        assert EXAMPLES[name][1] <= set(item), sorted(item)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_dataset_errors_name_what_is_wrong(name, tiny_world, forest, hf_world, tmp_path):
    config = config_for(name, tiny_world, forest, hf_world)
    with pytest.raises((DataError, ValueError), match="(?i)split|no_such_split"):
        build_dataset(config, "no_such_split", train=False)
    config.root = str(tmp_path / "missing")
    with pytest.raises(DataError, match="missing"):
        build_dataset(config, "train", train=False)
