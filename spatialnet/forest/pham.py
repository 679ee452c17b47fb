"""The TAIGA baseline 3D-CNN ("Pham"), the reference model that seed 000 compares against.

Spec ``/work/shared/specs/taiga.md``, "Baseline to compare (TAIGA "Pham" CNN)":
input (1, 110, 45, 45); Conv3d 1->128 k(48,3,3) -> maxpool(1,2,2) -> sum of four
Conv3d with spectral kernels 1/3/5/11 -> Conv3d ->64 k(32,3,3) -> pool ->
Conv3d ->32 k(32,3,3) -> FC 1568->512 (shared) -> per task FC 512->300->K or 1.

Free choices (not in the spec): ReLU after every conv and hidden FC; the four
multi-scale convs are 128->128 with kernels (k, 1, 1) and spectral padding
k // 2 so they keep the size; convs have no spatial padding. At 110 bands and
45x45 the feature map before the FC is 32 x 1 x 7 x 7 = 1568; other band
counts and windows get their FC size from a dummy forward.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from spatialnet.forest.seed000 import ForestOutput

PHAM_FC_FEATURES = 1568
"""FC input size of the baseline at 110 bands and 45x45 windows (32 channels x 1 band x 7 x 7)."""


class MultiScaleSpectralConv(nn.Module):
    """Sum of Conv3d with spectral kernels (k, 1, 1), k in ``kernels``, padded to keep the size (spec)."""

    def __init__(self, channels: int, kernels: Sequence[int] = (1, 3, 5, 11)) -> None:
        super().__init__()
        if any(k % 2 == 0 for k in kernels):
            raise ValueError(
                f"MultiScaleSpectralConv: kernels must be odd to keep the size, got {list(kernels)}"
            )
        self.convs = nn.ModuleList(
            nn.Conv3d(channels, channels, (k, 1, 1), padding=(k // 2, 0, 0)) for k in kernels
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the sum of the branch outputs; same shape as ``x``."""
        out = self.convs[0](x)
        for conv in self.convs[1:]:
            out = out + conv(x)
        return out


class PhamNetwork(nn.Module):
    """TAIGA baseline 3D-CNN with a shared FC trunk and one FC head per task.

    Input (B, 1, bands, window, window) (a (B, bands, window, window) cube is
    unsqueezed). Output ``{"classification": [(B, K_i)], "regression": (B, R)}``.

    Args:
        in_bands: spectral bands (110 in TAIGA).
        num_classes: classes of each categorical task (a 512->300->K head each).
        num_regression: continuous variables (a 512->300->1 head each).
        window: spatial size of the input patch (45 in TAIGA).
        channels: output channels of the three main Conv3d (128, 64, 32).
        spectral_kernels: spectral depths of the three main Conv3d (48, 32, 32).
        multiscale_kernels: spectral kernels of the summed multi-scale convs (1, 3, 5, 11).
        shared_features: width of the shared FC layer (512).
        head_hidden: width of each head's hidden FC layer (300).
        dropout: dropout before each FC layer (0 = none; the spec names none).
    """

    def __init__(
        self,
        in_bands: int,
        num_classes: Sequence[int],
        num_regression: int,
        window: int = 45,
        channels: tuple[int, int, int] = (128, 64, 32),
        spectral_kernels: tuple[int, int, int] = (48, 32, 32),
        multiscale_kernels: Sequence[int] = (1, 3, 5, 11),
        shared_features: int = 512,
        head_hidden: int = 300,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        c1, c2, c3 = channels
        k1, k2, k3 = spectral_kernels
        if in_bands - k1 - k2 - k3 + 3 < 1:
            raise ValueError(
                f"PhamNetwork: {in_bands} bands are too few for spectral kernels {spectral_kernels} "
                f"(need at least {k1 + k2 + k3 - 2})"
            )
        self.in_bands = in_bands
        self.window = window
        self.num_classes = list(num_classes)
        self.num_regression = num_regression
        self.features = nn.Sequential(
            nn.Conv3d(1, c1, (k1, 3, 3)),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 2, 2)),
            MultiScaleSpectralConv(c1, multiscale_kernels),
            nn.ReLU(inplace=True),
            nn.Conv3d(c1, c2, (k2, 3, 3)),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 2, 2)),
            nn.Conv3d(c2, c3, (k3, 3, 3)),
            nn.ReLU(inplace=True),
            nn.Flatten(),
        )
        try:
            with torch.no_grad():
                self.fc_features = int(self.features(torch.zeros(1, 1, in_bands, window, window)).shape[1])
        except RuntimeError as error:
            raise ValueError(
                f"PhamNetwork: a {window}x{window} window is too small for three 3x3 convs and two "
                f"2x2 poolings (need at least 21): {error}"
            ) from error
        self.shared = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(self.fc_features, shared_features), nn.ReLU(inplace=True)
        )

        def head(out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(shared_features, head_hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(head_hidden, out),
            )

        self.classification_heads = nn.ModuleList(head(k) for k in self.num_classes)
        self.regression_heads = nn.ModuleList(head(1) for _ in range(num_regression))

    def forward(self, x: torch.Tensor) -> ForestOutput:
        """Return per-sample logits per categorical task and the (B, num_regression) values."""
        if x.ndim == 4:
            x = x.unsqueeze(1)
        expected = (1, self.in_bands, self.window, self.window)
        if x.ndim != 5 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"PhamNetwork: expected input (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}"
            )
        shared = self.shared(self.features(x))
        logits = [h(shared) for h in self.classification_heads]
        if self.regression_heads:
            regression = torch.cat([h(shared) for h in self.regression_heads], dim=1)
        else:
            regression = shared.new_zeros((shared.shape[0], 0))
        return {"classification": logits, "regression": regression}
