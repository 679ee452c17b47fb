import pytest
import torch

from spatialnet.forest.pham import PHAM_FC_FEATURES, PhamNetwork


def test_fc_input_at_taiga_size() -> None:
    torch.manual_seed(0)
    model = PhamNetwork(110, [4, 2, 3], 10)
    assert model.fc_features == PHAM_FC_FEATURES == 1568
    assert model.shared[1].in_features == 1568 and model.shared[1].out_features == 512
    assert model.classification_heads[0][1].out_features == 300
    with torch.no_grad():
        out = model(torch.randn(1, 1, 110, 45, 45))
    assert [t.shape for t in out["classification"]] == [(1, 4), (1, 2), (1, 3)]
    assert out["regression"].shape == (1, 10)


def test_small_config_and_4d_input() -> None:
    torch.manual_seed(0)
    model = PhamNetwork(
        20,
        [3],
        2,
        window=21,
        channels=(4, 4, 2),
        spectral_kernels=(8, 6, 4),
        shared_features=16,
        head_hidden=8,
    )
    # bands 20-8+1=13, 19x19 -> pool 9x9; 13-6+1=8 bands, 7x7 -> pool 3x3; 8-4+1=5 bands, 1x1
    assert model.fc_features == 2 * 5 * 1 * 1
    out = model(torch.randn(2, 20, 21, 21))
    assert out["classification"][0].shape == (2, 3) and out["regression"].shape == (2, 2)
    loss = out["classification"][0].sum() + out["regression"].sum()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_errors() -> None:
    with pytest.raises(ValueError, match="too few"):
        PhamNetwork(50, [2], 1)
    with pytest.raises(ValueError, match="too small"):
        PhamNetwork(20, [2], 1, window=15, channels=(2, 2, 2), spectral_kernels=(4, 4, 4))
    model = PhamNetwork(20, [2], 0, window=21, channels=(2, 2, 2), spectral_kernels=(4, 4, 4))
    assert model(torch.randn(1, 1, 20, 21, 21))["regression"].shape == (1, 0)
    with pytest.raises(ValueError, match="expected input"):
        model(torch.randn(1, 1, 20, 16, 16))
