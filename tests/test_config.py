import re

import pytest

from spatialnet.config import (
    BackboneConfig,
    Recipe,
    load_recipe,
    recipe_changes,
    recipe_from_dict,
    recipe_names,
    recipes_dir,
    resolve_recipe_path,
    to_dict,
)
from spatialnet.errors import RecipeError


def test_every_shipped_recipe_validates():
    names = recipe_names()
    assert "spatialnet_vit-tiny" in names and "taiga-heads" not in names  # parts are not recipes
    for name in names:
        assert load_recipe(name).name == name


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


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.epochs=-3", "'train.epochs' is -3; expected an integer ≥ 1"),
        ("train.epochs=0", "'train.epochs' is 0; expected an integer ≥ 1"),
        ("train.batch_size=0", "'train.batch_size' is 0; expected an integer ≥ 1"),
        ("train.lr=0", "'train.lr' is 0.0; expected a number > 0"),
        ("train.lr=-1e-3", "'train.lr' is -0.001; expected a number > 0"),
        ("train.weight_decay=-1", "'train.weight_decay' is -1.0; expected a number ≥ 0"),
        (
            "train.schedule.min_lr_factor=2",
            "'train.schedule.min_lr_factor' is 2.0; expected a number ≥ 0 and ≤ 1",
        ),
        (
            "datasets.ucm_captions.batch_size=0",
            "'datasets.ucm_captions.batch_size' is 0; expected an integer ≥ 1",
        ),
        ("train.lr_scale={'heads.*': -1}", "'train.lr_scale.heads.*' is -1.0; expected a value ≥ 0"),
    ],
)
def test_values_that_cannot_train_are_refused_naming_the_key(override, message):
    with pytest.raises(RecipeError, match=re.escape(message)):
        load_recipe("spatialnet_vit-tiny", [override])


def test_recipe_changes_name_keys_and_both_values_and_compare_paths_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    before = {"data": {"root": str(tmp_path / "data"), "image_size": 96}, "train": {"lr": 0.001}}
    after = {"data": {"root": "./data/../data", "image_size": 128}, "train": {"lr": 0.001}}
    assert recipe_changes(before, after) == ["data.image_size: 96 → 128"]
    assert recipe_changes(before, {**after, "data": {"root": "elsewhere", "image_size": 96}}) == [
        f"data.root: {str(tmp_path / 'data')!r} → 'elsewhere'"
    ]


def test_overrides_parse_yaml_values_and_ints_become_floats(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: x\n")
    recipe = load_recipe(str(path), ["train.lr=1", "data.augment.hflip=false", "backbone.preset=tiny"])
    assert recipe.train.lr == 1.0 and isinstance(recipe.train.lr, float)
    assert recipe.data.augment.hflip is False
    assert (recipe.backbone.preset, recipe.backbone.embed_dim, recipe.backbone.act) == (None, 192, "gelu")


def test_bad_override_syntax():
    with pytest.raises(RecipeError, match="key.path=value"):
        load_recipe("ucm_landuse-tiny", ["train.epochs"])


def test_round_trip_through_dict():
    recipe = Recipe(
        backbone=BackboneConfig(embed_dim=192, act="gelu"), heads={"a": {"type": "classification"}}
    )
    assert recipe_from_dict(to_dict(recipe)) == recipe


def test_recipe_names_resolve_inside_the_package_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = resolve_recipe_path("ucm_landuse-tiny")
    assert path.name == "ucm_landuse-tiny.yaml" and path.parent == recipes_dir()
    with pytest.raises(RecipeError, match="recipe not found.*ucm_landuse-tiny"):
        resolve_recipe_path("no-such-recipe")


def test_base_recipes_merge_under_the_recipe_in_order(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "heads.yaml").write_text(
        "heads:\n  a: {type: classification, num_classes: 3}\n  b: {type: classification, num_classes: 4}\n"
        "train: {epochs: 7, lr: 0.5}\n"
    )
    (tmp_path / "more.yaml").write_text("base: parts/heads\ntrain: {epochs: 9}\n")
    (tmp_path / "r.yaml").write_text(
        "name: r\nbase: [more]\nheads:\n  c: {type: classification}\n  a: {num_classes: 5}\n"
    )
    recipe = load_recipe(str(tmp_path / "r.yaml"))
    # the recipe's own heads first, then those only the base has; fields merge one by one
    assert list(recipe.heads) == ["c", "a", "b"]
    assert recipe.heads["a"] == {"type": "classification", "num_classes": 5}
    assert (recipe.train.epochs, recipe.train.lr) == (9, 0.5)  # the nearer base wins, the rest stays


def test_base_recipe_errors_name_the_file(tmp_path):
    (tmp_path / "loop.yaml").write_text("base: loop\n")
    with pytest.raises(RecipeError, match="loop.yaml: 'base' recipes form a cycle"):
        load_recipe(str(tmp_path / "loop.yaml"))
    (tmp_path / "bad.yaml").write_text("base: {a: 1}\n")
    with pytest.raises(RecipeError, match="bad.yaml: 'base' must be a recipe name or a list"):
        load_recipe(str(tmp_path / "bad.yaml"))
    (tmp_path / "missing.yaml").write_text("base: nowhere\n")
    with pytest.raises(RecipeError, match="nowhere: recipe not found"):
        load_recipe(str(tmp_path / "missing.yaml"))


def test_taiga_recipes_take_their_13_heads_from_one_part():
    for name in ("taiga", "taiga-tiny", "taiga-pham", "spatialnet_vit-tiny"):
        heads = load_recipe(name).heads
        forest = [h for h in heads if heads[h]["type"].startswith("pixel_")]
        assert len(forest) == 13, name
    assert load_recipe("taiga").heads["soil"]["loss"] == "focal"
    assert load_recipe("taiga-tiny").heads["soil"]["loss"] == "cross_entropy"
    assert {h["hidden_dim"] for h in load_recipe("taiga-pham").heads.values()} == {300}


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
