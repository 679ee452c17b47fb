import pytest
import torch

from spatialnet.forest.seed000 import Seed000Network, centre

CLASSES = [4, 2, 3]


def tiny(**kwargs: object) -> Seed000Network:
    torch.manual_seed(0)
    return Seed000Network(16, CLASSES, 5, width=8, decoder_width=16, attention_reduction=4, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [45, 32])
def test_output_shapes(size: int) -> None:
    model = tiny()
    out = model(torch.randn(2, 16, size, size))
    assert [t.shape for t in out["classification"]] == [(2, k, size, size) for k in CLASSES]
    assert out["regression"].shape == (2, 5, size, size)
    picked = centre(out)
    assert [t.shape for t in picked["classification"]] == [(2, k) for k in CLASSES]
    assert picked["regression"].shape == (2, 5)
    torch.testing.assert_close(picked["regression"], out["regression"][:, :, size // 2, size // 2])
    assert Seed000Network.centre(out)["regression"].shape == (2, 5)


def test_encoder_resolutions() -> None:
    model = tiny()
    features, skips = model.forward_features(torch.randn(1, 16, 45, 45))
    assert [s.shape[-1] for s in skips] == [45, 23]  # ASPP runs at 23x23 (>= 16, spec pitfall)
    assert features.shape == (1, 32, 12, 12)


@pytest.mark.parametrize("flag", ["use_residual", "use_atrous", "use_attention", "use_channel_doubling"])
def test_ablation_flags_build_and_run(flag: str) -> None:
    full = tiny()
    model = tiny(**{flag: False})
    assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in full.parameters())
    out = model(torch.randn(2, 16, 32, 32))
    assert [t.shape for t in out["classification"]] == [(2, k, 32, 32) for k in CLASSES]
    assert out["regression"].shape == (2, 5, 32, 32)


def test_gradients_finite_and_parameter_count() -> None:
    model = tiny()
    out = model(torch.randn(2, 16, 32, 32))
    loss = sum(t.mean() for t in out["classification"]) + out["regression"].square().mean()
    loss.backward()
    params = list(model.parameters())
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params)
    count = sum(p.numel() for p in params)
    print(f"Seed000Network tiny (16 bands, width 8) parameters: {count}")
    assert 10_000 < count < 200_000


def test_single_family_and_bad_input() -> None:
    model = Seed000Network(16, [], 3, width=8, decoder_width=16)
    out = model(torch.randn(1, 16, 20, 20))
    assert out["classification"] == [] and out["regression"].shape == (1, 3, 20, 20)
    assert model.classification_decoder is None
    cls_only = Seed000Network(16, [2], 0, width=8, decoder_width=16)
    assert cls_only(torch.randn(1, 16, 20, 20))["regression"].shape == (1, 0, 20, 20)
    with pytest.raises(ValueError, match=r"expected input \(B, 16, H, W\)"):
        model(torch.randn(1, 15, 20, 20))
