import pytest
import torch

from spatialnet.backbones.factory import build_backbone
from spatialnet.backbones.forest.seed000 import Seed000Network
from spatialnet.config import BackboneConfig
from spatialnet.errors import RecipeError


def tiny(**kwargs: object) -> Seed000Network:
    torch.manual_seed(0)
    return Seed000Network(16, width=8, decoder_width=16, attention_reduction=4, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [45, 32])
def test_output_shapes(size: int) -> None:
    out = tiny()(torch.randn(2, 16, size, size))
    assert set(out.maps) == {"classification", "regression"}
    assert all(m.shape == (2, 8, size, size) for m in out.maps.values())
    bottleneck = {45: 12, 32: 8}[size]  # H/4 rounded up (stride-2 stage, then ceil-mode pooling)
    assert out.grid == (bottleneck, bottleneck)
    assert out.tokens.shape == (2, bottleneck * bottleneck, 32) and out.pooled.shape == (2, 32)
    assert out.pixel_map("regression") is out.maps["regression"]


def test_encoder_resolutions() -> None:
    features, skips = tiny().forward_features(torch.randn(1, 16, 45, 45))
    assert [s.shape[-1] for s in skips] == [45, 23]  # ASPP runs at 23x23 (>= 16, spec pitfall)
    assert features.shape == (1, 32, 12, 12)


@pytest.mark.parametrize("flag", ["use_residual", "use_atrous", "use_attention", "use_channel_doubling"])
def test_ablation_flags_build_and_run(flag: str) -> None:
    full = tiny()
    model = tiny(**{flag: False})
    assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in full.parameters())
    out = model(torch.randn(2, 16, 32, 32))
    assert out.maps["classification"].shape == (2, 8, 32, 32)


def test_gradients_finite_and_parameter_count() -> None:
    model = tiny()
    out = model(torch.randn(2, 16, 32, 32))
    loss = out.maps["classification"].mean() + out.maps["regression"].square().mean()
    loss.backward()
    params = list(model.parameters())
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params)
    count = sum(p.numel() for p in params)
    assert 10_000 < count < 200_000
    shared = model.last_shared_parameter()
    assert any(shared is p for p in model.attention.parameters())


def test_single_family_and_bad_input() -> None:
    model = Seed000Network(16, families=["regression"], width=8, decoder_width=16)
    out = model(torch.randn(1, 16, 20, 20))
    assert set(out.maps) == {"regression"} and model.map_channels == {"regression": 8}
    with pytest.raises(ValueError, match="families"):
        Seed000Network(16, families=["segmentation"])
    with pytest.raises(ValueError, match=r"expected input \(B, 16, H, W\)"):
        model(torch.randn(1, 15, 20, 20))


def test_registered_as_backbone_with_checked_options() -> None:
    config = BackboneConfig(
        type="seed000", in_chans=12, img_size=21, options={"width": 8, "decoder_width": 8}
    )
    backbone = build_backbone(config)
    assert isinstance(backbone, Seed000Network) and backbone.config is config
    assert backbone(torch.randn(1, 12, 21, 21)).maps["classification"].shape == (1, 8, 21, 21)
    with pytest.raises(RecipeError, match="backbone.options.depth"):
        build_backbone(BackboneConfig(type="seed000", options={"depth": 3}))
    with pytest.raises(RecipeError, match="'backbone.type' is 'resnet'"):
        build_backbone(BackboneConfig(type="resnet"))
