"""One contract over the whole backbone registry: every type builds from a recipe entry, encodes
each of its modalities into a consistent BackboneOutput, passes gradients, and says what it reads."""

from __future__ import annotations

import pytest
import torch

from spatialnet.backbones.factory import build_backbone, registered_backbones
from spatialnet.backbones.output import BackboneOutput
from spatialnet.config import BackboneConfig
from spatialnet.errors import RecipeError

# Every registered type needs a small example here: its recipe entry.
EXAMPLES: dict[str, BackboneConfig] = {
    "vit": BackboneConfig(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2, act="gelu"),
    "shared_vit": BackboneConfig(
        type="shared_vit",
        embed_dim=32,
        depth=1,
        num_heads=2,
        options={
            "modalities": {
                "rgb": {"in_chans": 3, "img_size": 32, "patch_size": 8},
                "hyperspectral": {"in_chans": 12, "img_size": 9, "patch_size": 3},
            }
        },
    ),
    "seed000": BackboneConfig(
        type="seed000", in_chans=12, img_size=17, options={"width": 8, "decoder_width": 8}
    ),
    "pham": BackboneConfig(
        type="pham",
        in_chans=20,
        img_size=21,
        options={"channels": [2, 2, 2], "spectral_kernels": [4, 4, 4], "shared_features": 16},
    ),
    "unet": BackboneConfig(type="unet", in_chans=12, img_size=17, options={"decoder_width": 8}),
}


def test_every_registered_backbone_has_an_example():
    assert set(registered_backbones()) == set(EXAMPLES)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_backbone_contract(kind):
    torch.manual_seed(0)
    backbone = build_backbone(EXAMPLES[kind])
    for modality in backbone.modalities:
        spec = backbone.input_spec(modality)
        images = torch.randn(2, spec.in_chans, spec.img_size, spec.img_size)
        out = backbone.encode(images, modality)
        assert isinstance(out, BackboneOutput)
        rows, cols = out.grid
        assert out.tokens.shape == (2, rows * cols, backbone.embed_dim)
        assert out.pooled.shape == (2, backbone.embed_dim) and out.prefix.shape[0] == 2
        assert set(out.maps) == set(backbone.map_channels)
        for family, channels in backbone.map_channels.items():
            assert out.maps[family].shape[:2] == (2, channels)
        assert torch.isfinite(out.pooled).all()
        backbone.zero_grad()
        # what heads read: the pooled vector, the token grid and the per-pixel maps
        loss = out.pooled.square().mean() + out.tokens.square().mean()
        loss = loss + sum((m.square().mean() for m in out.maps.values()), torch.zeros(()))
        loss.backward()
        assert backbone.last_shared_parameter().grad is not None  # GradNorm's W learns from the tasks


@pytest.mark.parametrize("kind", sorted(k for k in EXAMPLES if k != "vit"))  # the ViT takes no options
def test_unknown_options_are_refused_naming_the_key(kind):
    config = EXAMPLES[kind]
    bad = BackboneConfig(**{**config.__dict__, "options": {**config.options, "no_such_option": 1}})
    with pytest.raises(RecipeError, match="backbone.options.no_such_option"):
        build_backbone(bad)
