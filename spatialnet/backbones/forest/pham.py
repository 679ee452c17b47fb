"""The TAIGA baseline 3D-CNN ("Pham"), the reference model that seed 000 compares against.

Spec ``/work/shared/specs/taiga.md``, "Baseline to compare (TAIGA "Pham" CNN)":
input (1, 110, 45, 45); Conv3d 1->128 k(48,3,3) -> maxpool(1,2,2) -> sum of four
Conv3d with spectral kernels 1/3/5/11 -> Conv3d ->64 k(32,3,3) -> pool ->
Conv3d ->32 k(32,3,3) -> FC 1568->512 (shared) -> per task FC 512->300->K or 1.

As a SpatialNet backbone (``backbone.type: pham``) the network ends at the shared FC; the
per-task FC 512->300->K heads are ``pixel_classification`` / ``pixel_regression`` heads with
``hidden_dim: 300`` reading the shared features as a 1x1 map (``maps["shared"]``).

Free choices (not in the spec): ReLU after every conv and hidden FC; the four
multi-scale convs are 128->128 with kernels (k, 1, 1) and spectral padding
k // 2 so they keep the size; convs have no spatial padding. At 110 bands and
45x45 the feature map before the FC is 32 x 1 x 7 x 7 = 1568; other band
counts and windows get their FC size from a dummy forward.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import nn

from spatialnet.backbones.output import BackboneOutput
from spatialnet.backbones.registry import Backbone, register_backbone
from spatialnet.config import BackboneConfig

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


class PhamNetwork(Backbone):
    """TAIGA baseline 3D-CNN up to its shared FC layer.

    Input (B, 1, bands, window, window) (a (B, bands, window, window) cube is unsqueezed).
    Output: a :class:`BackboneOutput` with ``pooled`` = the (B, shared_features) shared FC
    features, also given as ``maps["shared"]`` (B, shared_features, 1, 1) for per-task heads.

    Args:
        in_bands: spectral bands (110 in TAIGA).
        window: spatial size of the input patch (45 in TAIGA).
        channels: output channels of the three main Conv3d (128, 64, 32).
        spectral_kernels: spectral depths of the three main Conv3d (48, 32, 32).
        multiscale_kernels: spectral kernels of the summed multi-scale convs (1, 3, 5, 11).
        shared_features: width of the shared FC layer (512).
        dropout: dropout before the shared FC layer (0 = none; the spec names none).
    """

    def __init__(
        self,
        in_bands: int,
        window: int = 45,
        channels: Sequence[int] = (128, 64, 32),
        spectral_kernels: Sequence[int] = (48, 32, 32),
        multiscale_kernels: Sequence[int] = (1, 3, 5, 11),
        shared_features: int = 512,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(channels) != 3 or len(spectral_kernels) != 3:
            raise ValueError(
                f"PhamNetwork: channels and spectral_kernels need 3 values each, "
                f"got {list(channels)} and {list(spectral_kernels)}"
            )
        c1, c2, c3 = channels
        k1, k2, k3 = spectral_kernels
        if in_bands - k1 - k2 - k3 + 3 < 1:
            raise ValueError(
                f"PhamNetwork: {in_bands} bands are too few for spectral kernels {list(spectral_kernels)} "
                f"(need at least {k1 + k2 + k3 - 2})"
            )
        self.in_bands = in_bands
        self.window = window
        self.config = BackboneConfig(type="pham", in_chans=in_bands, img_size=window)
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
        self.embed_dim = shared_features
        self.map_channels = {"shared": shared_features}

    def forward(self, x: torch.Tensor) -> BackboneOutput:
        """Shared FC features of each window."""
        if x.ndim == 4:
            x = x.unsqueeze(1)
        expected = (1, self.in_bands, self.window, self.window)
        if x.ndim != 5 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"PhamNetwork: expected input (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}"
            )
        shared = self.shared(self.features(x))
        return BackboneOutput(
            tokens=shared[:, None, :],
            prefix=shared.new_zeros((shared.shape[0], 0, shared.shape[1])),
            pooled=shared,
            grid=(1, 1),
            patch_size=self.window,
            maps={"shared": shared[:, :, None, None]},
        )

    def last_shared_parameter(self) -> torch.Tensor:
        """The shared FC weight (GradNorm's W)."""
        weight = self.shared[1].weight
        assert isinstance(weight, torch.Tensor)
        return weight


@dataclasses.dataclass
class PhamOptions:
    """``backbone.options`` of ``type: pham`` (see :class:`PhamNetwork`); the window is ``img_size``."""

    channels: list[int] = dataclasses.field(default_factory=lambda: [128, 64, 32])
    spectral_kernels: list[int] = dataclasses.field(default_factory=lambda: [48, 32, 32])
    multiscale_kernels: list[int] = dataclasses.field(default_factory=lambda: [1, 3, 5, 11])
    shared_features: int = 512
    dropout: float = 0.0


@register_backbone("pham", PhamOptions)
def pham_backbone(config: BackboneConfig, options: PhamOptions) -> PhamNetwork:
    """The TAIGA baseline CNN on ``config.in_chans`` bands and ``config.img_size`` windows."""
    network = PhamNetwork(config.in_chans, config.img_size, **dataclasses.asdict(options))
    network.config = config
    return network
