"""The seed-000 multitask hyperspectral CNN: shared encoder, classification and regression decoders.

Seed 000, Sec. III-C..E and Fig. 1 (see ``/work/shared/specs/taiga.md``, "Seed 000 model"):
a 3x3 conv stem, residual stages (Eq. 1-2), Dense ASPP (Eq. 5), pooling with
channel doubling (Eq. 6) and a spectral-spatial residual attention block
(Eq. 8) form the shared encoder. Two decoders, one for all classification
tasks and one for all regression tasks, first compress the shared features
to ``decoder_width`` channels with a 1x1 conv (256 in the paper, "before the
first upsampling step"), then mirror the encoder: bilinear upsampling, skip
concatenation with the matching encoder features, a residual block, and end
at the input size. The network is a SpatialNet backbone (``backbone.type:
seed000``): its two decoded maps go to the per-task heads (``pixel_classification``
and ``pixel_regression``, one 1x1 conv each, as in the paper), so tasks, losses
and balancing come from the recipe like every other head.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from spatialnet.backbones.forest.blocks import (
    LEAKY_SLOPE,
    ChannelDoubling,
    ConvBNAct,
    DenseASPP,
    ResidualBlock,
    SpectralSpatialAttention,
)
from spatialnet.backbones.output import BackboneOutput
from spatialnet.backbones.registry import Backbone, register_backbone
from spatialnet.config import BackboneConfig

FAMILIES = ("classification", "regression")
"""The two task-family decoders of seed 000 (Sec. III-E)."""


def _stage(in_channels: int, out_channels: int, depth: int, stride: int, residual: bool) -> nn.Sequential:
    blocks = [ResidualBlock(in_channels, out_channels, stride=stride, residual=residual)]
    blocks += [ResidualBlock(out_channels, out_channels, residual=residual) for _ in range(depth - 1)]
    return nn.Sequential(*blocks)


class TaskDecoder(nn.Module):
    """One task-family decoder (Sec. III-E): 1x1 compression, then upsample + skip concat + residual block.

    ``skip_channels`` lists the encoder features from the finest to the
    coarsest level; the decoder walks them coarsest first, ending at the
    finest level with ``skip_channels[0]`` channels.
    """

    def __init__(
        self, in_channels: int, skip_channels: Sequence[int], width: int, residual: bool = True
    ) -> None:
        super().__init__()
        self.compress = nn.Sequential(
            nn.Conv2d(in_channels, width, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.LeakyReLU(LEAKY_SLOPE, inplace=True),
        )
        blocks = []
        channels = width
        for skip in reversed(skip_channels):
            blocks.append(ResidualBlock(channels + skip, skip, residual=residual))
            channels = skip
        self.blocks = nn.ModuleList(blocks)
        self.out_channels = channels

    def forward(self, x: torch.Tensor, skips: Sequence[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        """Decode ``x`` using ``skips`` (finest first) and resize the result to ``size``."""
        x = self.compress(x)
        for block, skip in zip(self.blocks, reversed(skips), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        if tuple(x.shape[-2:]) != tuple(size):
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return x


class Seed000Network(Backbone):
    """Seed-000 shared encoder and task-family decoders for per-pixel forest variables.

    Input (B, in_bands, H, W). Output: a :class:`BackboneOutput` whose ``maps`` hold one
    (B, width, H, W) decoded map per family in ``families``; ``tokens``/``pooled`` are the
    bottleneck features (B, h*w, C) and their mean. With the default two stages the encoder
    runs at H, H/2 (residual stages, Dense ASPP) and H/4 (channel doubling, attention); at a
    45x45 window ASPP therefore sees 23x23 maps (the spec asks for at least 16x16).

    Args:
        in_bands: number of spectral bands of the input.
        families: task-family decoders to build (a subset of :data:`FAMILIES`).
        width: channels of the stem and of the first stage; stage i has ``width * 2**i``.
        num_stages: residual stages; every stage after the first halves the resolution.
        blocks_per_stage: residual blocks per stage.
        decoder_width: channels of each decoder's 1x1 compression (256 in the paper).
        dilations: Dense ASPP dilation rates (6, 12, 18 in the paper).
        attention_reduction: bottleneck ratio of the channel-attention MLP.
        use_residual: ablation "+ResNet"; False drops every shortcut (plain conv blocks).
        use_atrous: ablation "+atrous"; False removes the Dense ASPP block.
        use_attention: ablation "+attention"; False removes the residual attention block.
        use_channel_doubling: ablation "+channel pooling"; False keeps the 2x2 average
            pooling but not the 1x1 conv doubling the channels (Eq. 6).
    """

    def __init__(
        self,
        in_bands: int,
        families: Sequence[str] = FAMILIES,
        width: int = 64,
        num_stages: int = 2,
        blocks_per_stage: int = 2,
        decoder_width: int = 256,
        dilations: Sequence[int] = (6, 12, 18),
        attention_reduction: int = 16,
        use_residual: bool = True,
        use_atrous: bool = True,
        use_attention: bool = True,
        use_channel_doubling: bool = True,
    ) -> None:
        super().__init__()
        if num_stages < 1 or blocks_per_stage < 1:
            raise ValueError(
                f"Seed000Network: num_stages and blocks_per_stage must be >= 1, "
                f"got {num_stages} and {blocks_per_stage}"
            )
        unknown = sorted(set(families) - set(FAMILIES))
        if unknown or not families:
            raise ValueError(
                f"Seed000Network: families must be a non-empty subset of {FAMILIES}, got {list(families)}"
            )
        self.in_bands = in_bands
        self.config = BackboneConfig(type="seed000", in_chans=in_bands, embed_dim=width)

        self.stem = ConvBNAct(in_bands, width)
        channels = [width * 2**i for i in range(num_stages)]
        self.stages = nn.ModuleList(
            _stage(
                channels[i - 1] if i else width,
                channels[i],
                blocks_per_stage,
                stride=2 if i else 1,
                residual=use_residual,
            )
            for i in range(num_stages)
        )
        last = channels[-1]
        self.aspp: nn.Module = DenseASPP(last, tuple(dilations)) if use_atrous else nn.Identity()
        self.doubling: nn.Module
        if use_channel_doubling:
            self.doubling = ChannelDoubling(last)
            bottleneck = 2 * last
        else:
            self.doubling = nn.AvgPool2d(2, stride=2, ceil_mode=True)
            bottleneck = last
        self.attention: nn.Module = (
            SpectralSpatialAttention(bottleneck, attention_reduction) if use_attention else nn.Identity()
        )
        self.bottleneck_channels = bottleneck
        self.embed_dim = bottleneck
        self.decoders = nn.ModuleDict(
            {family: TaskDecoder(bottleneck, channels, decoder_width, use_residual) for family in families}
        )
        self.map_channels = {family: width for family in families}

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Shared encoder: return the bottleneck features and the skips (finest first)."""
        if x.ndim != 4 or x.shape[1] != self.in_bands:
            raise ValueError(
                f"Seed000Network: expected input (B, {self.in_bands}, H, W), got {tuple(x.shape)}"
            )
        x = self.stem(x)
        skips: list[torch.Tensor] = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
        x = self.aspp(x)
        skips[-1] = x
        x = self.attention(self.doubling(x))
        return x, skips

    def forward(self, x: torch.Tensor) -> BackboneOutput:
        """Encode, then decode one (B, width, H, W) map per task family."""
        size = (x.shape[-2], x.shape[-1])
        features, skips = self.forward_features(x)
        maps = {family: decoder(features, skips, size) for family, decoder in self.decoders.items()}
        return BackboneOutput.from_feature_map(features, size[0], maps)

    def last_shared_parameter(self) -> torch.Tensor:
        """The last weight matrix of the shared encoder (before the decoders split by family)."""
        encoder = [self.stem, self.stages, self.aspp, self.doubling, self.attention]
        weights = [p for module in encoder for p in module.parameters() if p.ndim > 1]
        return weights[-1]


@dataclasses.dataclass
class Seed000Options:
    """``backbone.options`` of ``type: seed000`` (see :class:`Seed000Network` for each)."""

    width: int = 64
    num_stages: int = 2
    blocks_per_stage: int = 2
    decoder_width: int = 256
    dilations: list[int] = dataclasses.field(default_factory=lambda: [6, 12, 18])
    attention_reduction: int = 16
    families: list[str] = dataclasses.field(default_factory=lambda: list(FAMILIES))
    use_residual: bool = True
    use_atrous: bool = True
    use_attention: bool = True
    use_channel_doubling: bool = True


@register_backbone("seed000", Seed000Options)
def seed000_backbone(config: BackboneConfig, options: Seed000Options) -> Seed000Network:
    """Seed 000's network on ``config.in_chans`` bands."""
    network = Seed000Network(config.in_chans, **dataclasses.asdict(options))
    network.config = config
    return network
