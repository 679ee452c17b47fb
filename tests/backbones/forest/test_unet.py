import pytest
import torch

from spatialnet.backbones.factory import build_backbone
from spatialnet.backbones.forest.unet import UNetBackbone
from spatialnet.config import BackboneConfig
from spatialnet.errors import RecipeError


def unet(bands: int = 12, **options: object) -> UNetBackbone:
    torch.manual_seed(0)
    config = BackboneConfig(type="unet", in_chans=bands, img_size=17, options={"decoder_width": 8, **options})
    backbone = build_backbone(config)
    assert isinstance(backbone, UNetBackbone)
    return backbone


@pytest.mark.parametrize("size", [17, 45, 32])
def test_shared_map_at_input_size(size: int) -> None:
    backbone = unet()
    out = backbone(torch.randn(2, 12, size, size))
    assert out.maps["shared"].shape == (2, 8, size, size)
    assert out.pixel_map("species") is out.maps["shared"]
    assert out.pooled.shape == (2, backbone.embed_dim) == (2, 128)  # ResNet-18 level 2 (stride 8)


def test_gradients_reach_the_encoder_and_gradnorm_layer() -> None:
    backbone = unet()
    backbone(torch.randn(2, 12, 17, 17)).maps["shared"].square().mean().backward()
    assert (
        backbone.encoder.conv1.weight.grad is not None and backbone.encoder.conv1.weight.grad.abs().sum() > 0
    )
    assert backbone.last_shared_parameter().grad is not None


def test_bad_options_and_input() -> None:
    with pytest.raises(RecipeError, match="cannot build encoder 'resnet18' with out_indices"):
        unet(out_indices=[0, 9])
    with pytest.raises(ValueError, match=r"expected input \(B, 12, H, W\)"):
        unet()(torch.randn(1, 11, 17, 17))
