"""Building blocks of the seed-000 multitask hyperspectral CNN.

Seed 000 (shared encoder of ResNet blocks, Dense ASPP, channel doubling and a
spectral-spatial residual attention block; see ``/work/shared/specs/taiga.md``,
"Seed 000 model"). Equation numbers refer to the seed paper: Eq. 2 residual
block, Eq. 5 Dense ASPP with sigmoid-gated summation, Eq. 6 pooling + 1x1 channel
doubling, Eq. 7-8 residual attention, Eq. 9-12 channel (spectral) attention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LEAKY_SLOPE = 0.01
"""Negative slope of every LeakyReLU (the paper names LeakyReLU, not its slope; PyTorch's default)."""


class ConvBNAct(nn.Sequential):
    """Conv (3x3 by default) + BatchNorm + LeakyReLU: the encoder stem of seed 000 (Sec. III-C).

    ``padding`` defaults to ``dilation * (kernel_size // 2)`` so odd kernels keep the map size.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        padding: int | None = None,
    ) -> None:
        if padding is None:
            padding = dilation * (kernel_size // 2)
        super().__init__(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                dilation=dilation,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels),
            nn.LeakyReLU(LEAKY_SLOPE, inplace=True),
        )


class ResidualBlock(nn.Module):
    """ResNet basic block, y = A(F(x) + P(x)) (seed Eq. 1-2, Fig. 6b).

    F is conv3x3(stride)-BN-LeakyReLU-conv3x3-BN; P is the identity, or a
    1x1 conv + BN projection when the channels or the stride change. With
    ``residual=False`` the shortcut is dropped (the "baseline" of the ablation:
    a plain two-conv block).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.act = nn.LeakyReLU(LEAKY_SLOPE)
        self.shortcut: nn.Module
        if residual and (stride != 1 or in_channels != out_channels):
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the block output, (B, out_channels, ceil(H/stride), ceil(W/stride))."""
        y = self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))
        if self.residual:
            y = y + self.shortcut(x)
        return self.act(y)


class _ASPPBranch(nn.Sequential):
    """One Dense ASPP branch of Eq. 5: BN(w1x1(A(BN(w3x3,d(.))))), hidden width 1.5*h, output h."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int, dilation: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, hidden, 3, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(hidden),
            nn.LeakyReLU(LEAKY_SLOPE, inplace=True),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )


class DenseASPP(nn.Module):
    """Dense atrous spatial pyramid pooling with a sigmoid-gated sum (seed Eq. 5).

    F_l = f_{l-1} + sum_i sigmoid(lambda_i) * BN(w^c_1x1(A(BN(w^{1.5h}_{3x3,d_i}(.)))))

    Dense connectivity (Sec. III-C.2, Eq. 4 text): branch k sees
    concat(x, y_1, ..., y_{k-1}). Each branch's dilated 3x3 conv has
    ``round(1.5 * channels)`` outputs and its 1x1 conv ``channels`` outputs, so
    the summation and the residual share the input width. The gates
    ``lambda_i`` are learnable and start at 0 (sigmoid = 0.5).

    Pitfall (spec): a dilated 3x3 on a map narrower than 2d+1 sees mostly
    padding; run this block on maps of at least 16x16.
    """

    def __init__(
        self,
        channels: int,
        dilations: tuple[int, ...] = (6, 12, 18),
        hidden_ratio: float = 1.5,
    ) -> None:
        super().__init__()
        if not dilations:
            raise ValueError("DenseASPP: expected at least one dilation rate, got none")
        hidden = max(1, round(hidden_ratio * channels))
        self.dilations = tuple(dilations)
        self.branches = nn.ModuleList(
            _ASPPBranch(channels * (k + 1), hidden, channels, d) for k, d in enumerate(self.dilations)
        )
        self.gates = nn.Parameter(torch.zeros(len(self.dilations)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return x + gated sum of the branch outputs; same shape as ``x``."""
        features = [x]
        out = x
        weights = torch.sigmoid(self.gates)
        for k, branch in enumerate(self.branches):
            y = branch(torch.cat(features, dim=1))
            features.append(y)
            out = out + weights[k] * y
        return out


class ChannelDoubling(nn.Module):
    """Average pooling then 1x1 conv doubling the channels (seed Eq. 6): f_l = A(BN(w^{2c}_1x1(GAP(F_l)))).

    Reading of the paper: the text says the "global average pooling layer"
    "halve[s] the original size in the spatial dimensions", so GAP here is a
    2x2 average pooling with stride 2 (``ceil_mode=True`` so odd maps keep their
    border), not a pooling to 1x1 (which would discard the spatial map the
    decoder needs). The 1x1 conv maps c to 2c channels ("skip layer to
    increase the feature channels to twice the amount of the input channels"),
    followed by BN and LeakyReLU. ``pool=False`` keeps the resolution.
    """

    def __init__(self, in_channels: int, pool: bool = True) -> None:
        super().__init__()
        self.out_channels = 2 * in_channels
        self.pool: nn.Module = nn.AvgPool2d(2, stride=2, ceil_mode=True) if pool else nn.Identity()
        self.proj = nn.Sequential(
            nn.Conv2d(in_channels, self.out_channels, 1, bias=False),
            nn.BatchNorm2d(self.out_channels),
            nn.LeakyReLU(LEAKY_SLOPE, inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return (B, 2C, ceil(H/2), ceil(W/2)) (or (B, 2C, H, W) without pooling)."""
        return self.proj(self.pool(x))


class SpectralSpatialAttention(nn.Module):
    """Spectral-spatial residual attention block, CBAM-like (seed Eq. 8, with Eq. 9-12).

    R_l = R_{l-1} + F(R_{l-1}) * A(F(R_{l-1}))

    F is a conv3x3-BN-LeakyReLU transform. A applies, in sequence, channel
    (spectral) attention M_c = sigmoid(MLP(avgpool F) + MLP(maxpool F)) with one
    shared bottleneck MLP (1x1 convs c -> c/r -> c, ReLU hidden; Eq. 9-12 read
    as in CBAM, the printed Eq. 12 misplaces the sigmoid), then spatial
    attention M_s = sigmoid(conv3x3([mean_c; max_c])). So the residual
    branch is M_s(F') * F' with F' = M_c(F) * F.
    """

    def __init__(self, channels: int, reduction: int = 16, spatial_kernel: int = 3) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.transform = ConvBNAct(channels, channels)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
        )
        self.spatial = nn.Conv2d(2, 1, spatial_kernel, padding=spatial_kernel // 2)

    def channel_weights(self, f: torch.Tensor) -> torch.Tensor:
        """Channel attention M_c(F), (B, C, 1, 1), values in (0, 1)."""
        avg = F.adaptive_avg_pool2d(f, 1)
        mx = F.adaptive_max_pool2d(f, 1)
        return torch.sigmoid(self.mlp(avg) + self.mlp(mx))

    def spatial_weights(self, f: torch.Tensor) -> torch.Tensor:
        """Spatial attention M_s(F), (B, 1, H, W), values in (0, 1)."""
        pooled = torch.cat([f.mean(dim=1, keepdim=True), f.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.spatial(pooled))

    def attention_maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (M_c, M_s) for input ``x``, for inspection and tests."""
        f = self.transform(x)
        mc = self.channel_weights(f)
        return mc, self.spatial_weights(f * mc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return x + F(x) * A(F(x)); same shape as ``x``."""
        f = self.transform(x)
        f = f * self.channel_weights(f)
        return x + f * self.spatial_weights(f)
