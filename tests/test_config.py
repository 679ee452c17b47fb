from pathlib import Path

import pytest

from spatialnet.config import (
    BackboneConfig,
    Recipe,
    load_recipe,
    recipe_from_dict,
    resolve_recipe_path,
    to_dict,
)
from spatialnet.errors import RecipeError


def test_every_shipped_recipe_validates():
    recipes = sorted((Path(__file__).resolve().parents[1] / "tasks").glob("*.yaml"))
    assert recipes, "tasks/ holds no recipes"
    for path in recipes:
        recipe = load_recipe(str(path))
        assert recipe.name == path.stem


def test_unknown_key_names_file_and_dotted_key(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("train:\n  epocs: 3\n")
    with pytest.raises(RecipeError, match=r"r\.yaml: unknown key 'train\.epocs'"):
        load_recipe(str(path))


def test_wrong_type_is_refused_with_key(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("train:\n  lr: fast\n")
    with pytest.raises(RecipeError, match=r"'train\.lr' must be float, got 'fast'"):
        load_recipe(str(path))


def test_overrides_parse_yaml_values_and_ints_become_floats(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: x\n")
    recipe = load_recipe(str(path), ["train.lr=1", "data.augment.hflip=false", "backbone.preset=tiny"])
    assert recipe.train.lr == 1.0 and isinstance(recipe.train.lr, float)
    assert recipe.data.augment.hflip is False
    assert recipe.backbone.preset == "tiny"


def test_bad_override_syntax():
    with pytest.raises(RecipeError, match="key.path=value"):
        load_recipe("ucm_landuse-tiny", ["train.epochs"])


def test_round_trip_through_dict():
    recipe = Recipe(backbone=BackboneConfig(preset="tiny"), heads={"a": {"type": "classification"}})
    assert recipe_from_dict(to_dict(recipe)) == recipe


def test_recipe_names_resolve_from_tasks_folder():
    assert resolve_recipe_path("ucm_landuse-tiny").name == "ucm_landuse-tiny.yaml"
    with pytest.raises(RecipeError, match="recipe not found"):
        resolve_recipe_path("no-such-recipe")


def test_exponent_floats_without_a_dot_are_floats(tmp_path):
    """YAML 1.1 reads ``1e-3`` as a string; a float field takes it as the number a user meant."""
    path = tmp_path / "r.yaml"
    path.write_text("train:\n  lr: 1e-3\n")
    assert load_recipe(str(path), ["train.weight_decay=5E-2"]).train.lr == 0.001
    assert load_recipe(str(path), ["train.weight_decay=5E-2"]).train.weight_decay == 0.05


def test_a_joint_recipe_lists_its_datasets_and_cuts_down_to_one():
    joint = load_recipe("spatialnet_vit-tiny", ["data.root=WORLD"])
    assert joint.is_joint and {n: s.data.root for n, s in joint.sources().items()} == dict.fromkeys(
        ("ucm_captions", "rsvqa_lr", "taiga"), "WORLD"
    )  # datasets without a root of their own read from data.root
    assert joint.source_reading("rsvqa_lr")[1].tasks == ["vqa"]
    with pytest.raises(RecipeError, match="reads no 'ucm_landuse' dataset"):
        joint.source_reading("ucm_landuse")
    single = joint.single_source("taiga", 28)
    assert list(single.datasets) == ["taiga"] and list(single.heads) == joint.datasets["taiga"].tasks
    assert list(single.backbone.options["modalities"]) == ["hyperspectral"]
    assert single.train.steps_per_epoch == 28
    assert single.train.select_weights == {"taiga/mean_accuracy": 1.0, "taiga/mean_rmse": -1.0}
    plain = load_recipe("ucm_landuse-tiny")
    assert not plain.is_joint and list(plain.sources()) == ["ucm_landuse"]


def test_a_cut_keeps_only_the_part_patterns_that_still_match():
    """Freezing the RGB hybrid's CNN or a dropped head must not break the forest-only cut."""
    parts = {
        "backbone.*embed.backbone.*": 1000,
        "backbone.stems.rgb.*": 2,
        "heads.captions.*": 1,
        "heads.*": 3,
        "backbone.blocks.0.*": 1,
    }
    joint = load_recipe("spatialnet_vit-pretrained-cpu", ["data.root=WORLD"])
    joint.train.freeze_epochs = parts
    joint.train.lr_scale = dict.fromkeys(parts, 0.5)
    forest = joint.single_source("taiga").train
    assert forest.freeze_epochs == {"heads.*": 3, "backbone.blocks.0.*": 1}
    assert forest.lr_scale == dict.fromkeys(forest.freeze_epochs, 0.5)
    captions = joint.single_source("ucm_captions").train
    assert captions.freeze_epochs == parts
