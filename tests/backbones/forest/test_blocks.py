import pytest
import torch

from spatialnet.backbones.forest.blocks import (
    ChannelDoubling,
    ConvBNAct,
    DenseASPP,
    ResidualBlock,
    SpectralSpatialAttention,
)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_conv_bn_act_keeps_size() -> None:
    block = ConvBNAct(5, 8)
    assert block(torch.randn(2, 5, 9, 9)).shape == (2, 8, 9, 9)
    assert ConvBNAct(5, 8, stride=2)(torch.randn(2, 5, 9, 9)).shape == (2, 8, 5, 5)


def test_residual_block_identity_and_projection() -> None:
    same = ResidualBlock(8, 8)
    assert isinstance(same.shortcut, torch.nn.Identity)
    assert same(torch.randn(2, 8, 10, 10)).shape == (2, 8, 10, 10)
    down = ResidualBlock(8, 16, stride=2)
    assert isinstance(down.shortcut, torch.nn.Sequential)
    assert isinstance(down.shortcut[0], torch.nn.Conv2d) and down.shortcut[0].kernel_size == (1, 1)
    assert down(torch.randn(2, 8, 11, 11)).shape == (2, 16, 6, 6)
    plain = ResidualBlock(8, 16, stride=2, residual=False)
    assert plain(torch.randn(2, 8, 11, 11)).shape == (2, 16, 6, 6)
    assert sum(p.numel() for p in plain.parameters()) < sum(p.numel() for p in down.parameters())


def test_residual_block_adds_shortcut() -> None:
    block = ResidualBlock(4, 4).eval()
    torch.nn.init.zeros_(block.bn2.weight)  # residual branch outputs only the BN bias (0)
    x = torch.randn(1, 4, 6, 6)
    torch.testing.assert_close(block(x), torch.nn.functional.leaky_relu(x, 0.01))


def test_dense_aspp_shapes_and_dense_inputs() -> None:
    aspp = DenseASPP(8)
    x = torch.randn(2, 8, 16, 16)
    assert aspp(x).shape == x.shape
    assert aspp.dilations == (6, 12, 18)
    # branch k sees concat(x, y_1..y_{k-1}); 3x3 hidden width 1.5c, 1x1 output c
    for k, branch in enumerate(aspp.branches):
        conv3, conv1 = branch[0], branch[3]
        assert conv3.in_channels == 8 * (k + 1) and conv3.out_channels == 12
        assert conv3.dilation == (aspp.dilations[k],) * 2
        assert conv1.in_channels == 12 and conv1.out_channels == 8


def test_dense_aspp_gates_learnable_and_residual() -> None:
    aspp = DenseASPP(4)
    assert aspp.gates.requires_grad
    torch.testing.assert_close(torch.sigmoid(aspp.gates), torch.full((3,), 0.5))
    x = torch.randn(2, 4, 16, 16)
    aspp(x).square().mean().backward()
    assert aspp.gates.grad is not None and torch.all(aspp.gates.grad != 0)
    # with gates at -inf the block is the identity (the residual path)
    with torch.no_grad():
        aspp.gates.fill_(-1e4)
    aspp.eval()
    torch.testing.assert_close(aspp(x), x)


def test_dense_aspp_matches_eq5_by_hand() -> None:
    aspp = DenseASPP(3, dilations=(1, 2)).eval()
    with torch.no_grad():
        aspp.gates.copy_(torch.tensor([0.3, -1.2]))
    x = torch.randn(1, 3, 16, 16)
    y1 = aspp.branches[0](x)
    y2 = aspp.branches[1](torch.cat([x, y1], 1))
    expected = x + torch.sigmoid(torch.tensor(0.3)) * y1 + torch.sigmoid(torch.tensor(-1.2)) * y2
    torch.testing.assert_close(aspp(x), expected)


def test_channel_doubling() -> None:
    block = ChannelDoubling(6)
    assert block(torch.randn(2, 6, 16, 16)).shape == (2, 12, 8, 8)
    assert block(torch.randn(2, 6, 23, 23)).shape == (2, 12, 12, 12)
    assert ChannelDoubling(6, pool=False)(torch.randn(2, 6, 7, 7)).shape == (2, 12, 7, 7)


def test_attention_shapes_and_weight_range() -> None:
    attn = SpectralSpatialAttention(16, reduction=4)
    x = torch.randn(2, 16, 12, 12)
    assert attn(x).shape == x.shape
    mc, ms = attn.attention_maps(x)
    assert mc.shape == (2, 16, 1, 1) and ms.shape == (2, 1, 12, 12)
    for w in (mc, ms):
        assert torch.all(w > 0) and torch.all(w < 1)


def test_attention_residual_form_eq8() -> None:
    attn = SpectralSpatialAttention(8, reduction=2).eval()
    x = torch.randn(2, 8, 10, 10)
    f = attn.transform(x)
    mc = attn.channel_weights(f)
    expected = x + f * mc * attn.spatial_weights(f * mc)
    torch.testing.assert_close(attn(x), expected)
    # channel attention uses one shared MLP on avg- and max-pooled vectors
    avg, mx = f.mean((2, 3), keepdim=True), f.amax((2, 3), keepdim=True)
    torch.testing.assert_close(mc, torch.sigmoid(attn.mlp(avg) + attn.mlp(mx)))
