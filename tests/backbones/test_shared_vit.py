"""The shared trunk: modality stems, one set of blocks, resampled position embeddings, ViT weights."""

from __future__ import annotations

import pytest
import timm
import torch
from safetensors.torch import save_file

from spatialnet.backbones.factory import build_backbone
from spatialnet.backbones.shared_vit import SharedViT, load_trunk_weights
from spatialnet.config import BackboneConfig
from spatialnet.errors import RecipeError

MODALITIES = {
    "rgb": {"in_chans": 3, "img_size": 32, "patch_size": 8, "stem": "conv"},
    "hyperspectral": {"in_chans": 12, "img_size": 9, "patch_size": 3},
}


def trunk(**options: object) -> SharedViT:
    torch.manual_seed(0)
    config = BackboneConfig(
        type="shared_vit", embed_dim=32, depth=2, num_heads=2, options={"modalities": MODALITIES, **options}
    )
    backbone = build_backbone(config)
    assert isinstance(backbone, SharedViT)
    return backbone


def test_each_modality_has_its_stem_and_grid():
    backbone = trunk().eval()
    rgb = backbone.encode(torch.randn(2, 3, 32, 32), "rgb")
    cube = backbone.encode(torch.randn(2, 12, 9, 9), "hyperspectral")
    assert rgb.tokens.shape == (2, 16, 32) and rgb.grid == (4, 4) and rgb.pooled.shape == (2, 32)
    assert cube.tokens.shape == (2, 9, 32) and cube.grid == (3, 3) and cube.patch_size == 3
    assert backbone.input_spec("hyperspectral").in_chans == 12
    assert torch.allclose(cube.pooled, cube.tokens.mean(dim=1))


def test_other_sizes_resample_position_embeddings():
    backbone = trunk().eval()
    larger = backbone.encode(torch.randn(1, 3, 48, 48), "rgb")
    assert larger.grid == (6, 6) and larger.tokens.shape == (1, 36, 32)


def test_wrong_inputs_are_refused_with_the_expected_shape():
    backbone = trunk()
    with pytest.raises(ValueError, match=r"'rgb' stem expects images of shape \(B, 3, H, W\)"):
        backbone.encode(torch.randn(1, 12, 32, 32), "rgb")
    with pytest.raises(ValueError, match="multiples of 3"):
        backbone.encode(torch.randn(1, 12, 10, 10), "hyperspectral")
    with pytest.raises(ValueError, match="modality 'sar' has no stem"):
        backbone.encode(torch.randn(1, 3, 32, 32), "sar")
    with pytest.raises(RecipeError, match="stem' is 'pixel'"):
        trunk(modalities={"rgb": {"stem": "pixel"}})


def test_the_trunk_learns_from_every_modality_and_each_stem_from_its_own():
    backbone = trunk()
    for modality, images in (("rgb", torch.randn(2, 3, 32, 32)), ("hyperspectral", torch.randn(2, 12, 9, 9))):
        backbone.zero_grad()
        backbone.encode(images, modality).pooled.square().sum().backward()
        assert backbone.last_shared_parameter().grad.abs().sum() > 0
        other = "hyperspectral" if modality == "rgb" else "rgb"
        assert backbone.stems[modality].pos_embed.grad.abs().sum() > 0
        assert (
            backbone.stems[other].pos_embed.grad is None or backbone.stems[other].pos_embed.grad.eq(0).all()
        )


def test_vit_weights_load_into_trunk_and_patch_stems(tmp_path):
    """A timm ViT (3×3 patches, 32 px) gives the trunk its blocks and the 12-band stem its projection."""
    settings = {"embed_dim": 32, "depth": 2, "num_heads": 2, "img_size": 32, "patch_size": 3}
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=0, **settings)
    path = tmp_path / "vit.safetensors"
    save_file({k: v.contiguous() for k, v in vit.state_dict().items()}, str(path))
    backbone = trunk(modalities={"hyperspectral": MODALITIES["hyperspectral"]})
    missing = load_trunk_weights(backbone, str(path))
    torch.testing.assert_close(backbone.blocks[1].mlp.fc2.weight, vit.blocks[1].mlp.fc2.weight)
    torch.testing.assert_close(backbone.norm.weight, vit.norm.weight)
    assert backbone.stems["hyperspectral"].embed.proj.weight.shape == (32, 12, 3, 3)
    assert "stems.hyperspectral.pos_embed" not in missing and "blocks.0.attn.qkv.weight" not in missing
