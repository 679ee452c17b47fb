import pytest
import torch

from spatialnet.backbones.factory import build_backbone
from spatialnet.backbones.forest.pham import PHAM_FC_FEATURES, PhamNetwork
from spatialnet.config import BackboneConfig


def test_fc_input_at_taiga_size() -> None:
    torch.manual_seed(0)
    model = PhamNetwork(110)
    assert model.fc_features == PHAM_FC_FEATURES == 1568
    assert model.shared[1].in_features == 1568 and model.shared[1].out_features == 512
    with torch.no_grad():
        out = model(torch.randn(1, 1, 110, 45, 45))
    assert out.pooled.shape == (1, 512) and out.maps["shared"].shape == (1, 512, 1, 1)
    assert out.pixel_map("classification") is out.maps["shared"]
    assert model.last_shared_parameter() is model.shared[1].weight


def test_small_config_and_4d_input() -> None:
    torch.manual_seed(0)
    model = PhamNetwork(20, window=21, channels=(4, 4, 2), spectral_kernels=(8, 6, 4), shared_features=16)
    # bands 20-8+1=13, 19x19 -> pool 9x9; 13-6+1=8 bands, 7x7 -> pool 3x3; 8-4+1=5 bands, 1x1
    assert model.fc_features == 2 * 5 * 1 * 1
    out = model(torch.randn(2, 20, 21, 21))
    assert out.pooled.shape == (2, 16)
    out.pooled.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_errors() -> None:
    with pytest.raises(ValueError, match="too few"):
        PhamNetwork(50)
    with pytest.raises(ValueError, match="too small"):
        PhamNetwork(20, window=15, channels=(2, 2, 2), spectral_kernels=(4, 4, 4))
    model = PhamNetwork(20, window=21, channels=(2, 2, 2), spectral_kernels=(4, 4, 4))
    with pytest.raises(ValueError, match="expected input"):
        model(torch.randn(1, 1, 20, 16, 16))


def test_registered_with_window_from_img_size() -> None:
    config = BackboneConfig(
        type="pham", in_chans=20, img_size=21, options={"channels": [2, 2, 2], "spectral_kernels": [4, 4, 4]}
    )
    backbone = build_backbone(config)
    assert isinstance(backbone, PhamNetwork) and backbone.window == 21 and backbone.embed_dim == 512
