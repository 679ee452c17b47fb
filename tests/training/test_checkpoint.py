import dataclasses
import json
import os

import pytest
import torch

from spatialnet import checkpoint as ckpt
from spatialnet.config import BackboneConfig, Recipe, to_dict
from spatialnet.errors import CheckpointError
from spatialnet.model import SpatialNet

RECIPE = Recipe(
    backbone=BackboneConfig(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2, act="gelu"),
    heads={"landuse": {"type": "classification", "num_classes": 4}},
)


def model():
    torch.manual_seed(0)
    return SpatialNet.from_recipe(RECIPE)


def test_checkpoint_folder_has_hf_style_files_and_round_trips(tmp_path):
    net = model()
    ckpt.save_checkpoint(
        tmp_path / "best", RECIPE, net, {"accuracy": 0.5}, {"epoch": 1, "history": [{"a": 1.0}]}
    )
    folder = ckpt.resolve_checkpoint(tmp_path)
    assert folder == tmp_path / "best"
    assert {p.name for p in folder.iterdir()} == {
        "config.json",
        "model.safetensors",
        "metrics.json",
        "training_state.pt",
    }
    assert ckpt.read_recipe(folder) == RECIPE
    assert ckpt.read_metrics(folder) == {"accuracy": 0.5}
    clone = SpatialNet.from_recipe(RECIPE)
    ckpt.load_weights(clone, folder)
    for (name, a), b in zip(net.state_dict().items(), clone.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert ckpt.load_training_state(folder)["epoch"] == 1


def test_training_state_refuses_pickled_objects(tmp_path):
    folder = tmp_path / "last"
    ckpt.save_checkpoint(folder, RECIPE, model(), {})

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"epoch": Evil()}, folder / ckpt.STATE_FILE)
    with pytest.raises(Exception, match="(?i)objects other than tensors.*(global|unsupported)"):
        ckpt.load_training_state(folder)


def test_interrupted_swap_is_recovered_and_readable(tmp_path):
    target = tmp_path / "last"
    ckpt.save_checkpoint(target, RECIPE, model(), {"v": 1})
    # simulate a kill between the two renames: only .last.old exists, plus a stale temp folder
    os.replace(target, tmp_path / ".last.old")
    (tmp_path / ".last.tmp-999").mkdir()
    assert ckpt.read_metrics(ckpt.resolve_checkpoint(tmp_path)) == {"v": 1}  # readers fall back, read-only
    assert (tmp_path / ".last.tmp-999").exists()
    ckpt.recover(target)
    assert ckpt.read_metrics(target) == {"v": 1}
    assert not (tmp_path / ".last.tmp-999").exists() and not (tmp_path / ".last.old").exists()


def test_failed_write_keeps_previous_checkpoint(tmp_path):
    target = tmp_path / "best"
    ckpt.save_checkpoint(target, RECIPE, model(), {"v": 1})
    with pytest.raises(RuntimeError), ckpt.atomic_directory(target) as tmp:
        (tmp / "metrics.json").write_text(json.dumps({"v": 2}))
        raise RuntimeError("killed mid-write")
    assert ckpt.read_metrics(target) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["best"]


def test_mismatched_weights_and_missing_folder_are_clear_errors(tmp_path):
    ckpt.save_checkpoint(tmp_path / "best", RECIPE, model(), {})
    other = Recipe(
        backbone=RECIPE.backbone,
        heads={
            "landuse": {"type": "classification", "num_classes": 4},
            "extra": {"type": "classification", "num_classes": 2},
        },
    )
    with pytest.raises(CheckpointError, match="does not match its recipe"):
        ckpt.load_weights(SpatialNet.from_recipe(other), tmp_path / "best")
    with pytest.raises(CheckpointError, match="no checkpoint here"):
        ckpt.resolve_checkpoint(tmp_path / "nothing")


def test_a_config_written_before_presets_resolved_at_load_builds_the_same_model(tmp_path):
    """Old ``config.json`` files kept ``preset: tiny`` beside the dataclass defaults (D=512, 12 blocks…)."""
    folder = tmp_path / "old"
    folder.mkdir()
    old = to_dict(RECIPE)
    old["backbone"] = {**dataclasses.asdict(BackboneConfig()), "preset": "tiny", "img_size": 32, "depth": 1}
    (folder / ckpt.CONFIG_FILE).write_text(json.dumps(old))
    backbone = ckpt.read_recipe(folder).backbone
    assert (backbone.embed_dim, backbone.depth, backbone.num_heads, backbone.act) == (192, 1, 3, "gelu")
