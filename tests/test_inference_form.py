"""The inference form answers as the trained form does (to the last bits), without BatchNorm layers."""

from __future__ import annotations

import copy

import torch
from torch import nn

from spatialnet.backbones.forest.blocks import ConvBNAct, DenseASPP, ResidualBlock
from spatialnet.inference_form import fold_batch_norms, inference_form


class ShapeChecked(nn.Module):
    """Blocks behind a forward that fx cannot trace (it branches on the input's shape)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = ConvBNAct(6, 8)
        self.block = ResidualBlock(8, 12, stride=2)
        self.aspp = DenseASPP(12, (1, 2))
        self.shared = nn.Conv2d(12, 12, 1)  # called twice below: its two norms stay
        self.norm_a, self.norm_b = nn.BatchNorm2d(12), nn.BatchNorm2d(12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] < 4:
            raise ValueError("too small")
        y = self.aspp(self.block(self.stem(x)))
        return self.norm_a(self.shared(y)) + self.norm_b(self.shared(y))


def trained_model() -> ShapeChecked:
    torch.manual_seed(0)
    model = ShapeChecked()
    for module in model.modules():  # statistics and affine terms far from the identity
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


def test_folded_model_answers_as_the_trained_one_and_keeps_its_blocks():
    model = trained_model()
    x = torch.randn(4, 6, 17, 17)
    with torch.no_grad():
        expected = model(x)
    fast = inference_form(copy.deepcopy(model))
    with torch.no_grad():
        got = fast(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    norms = [name for name, m in fast.named_modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms == ["norm_a", "norm_b"]  # every norm after a conv folded, except the shared conv's
    assert isinstance(fast.block, ResidualBlock) and isinstance(fast.stem, ConvBNAct)
    assert fast.stem[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_folding_counts_what_it_folds_and_leaves_models_without_batch_norm_alone():
    model = trained_model()
    assert fold_batch_norms(model) == 1 + 3 + 2 * 2  # stem, block (two convs and the shortcut), ASPP
    assert fold_batch_norms(model) == 0
    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    assert fold_batch_norms(plain) == 0


def test_three_d_convolutions_keep_their_layout():
    model = nn.Sequential(nn.Conv3d(1, 4, 3), nn.BatchNorm3d(4), nn.ReLU()).eval()
    x = torch.randn(2, 1, 8, 9, 9)
    with torch.no_grad():
        expected = model(x)
        fast = inference_form(copy.deepcopy(model))
        torch.testing.assert_close(fast(x), expected, rtol=1e-5, atol=1e-5)
    assert isinstance(fast[1], nn.Identity) and fast[0].weight.is_contiguous()
