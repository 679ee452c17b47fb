"""A U-Net baseline for per-pixel forest variables, built from timm parts (Ronneberger et al. 2015).

The encoder is any timm CNN created with ``features_only`` and ``in_chans`` = bands (ResNet-18 by
default, random weights: there are no pretrained 110-band weights); the decoder walks its
feature pyramid from the deepest level up, upsampling bilinearly, concatenating the skip and
applying two timm ``ConvNormAct`` blocks, then refines one shared map at the input size that
every per-pixel head reads (``maps["shared"]``). It is the generic segmentation baseline beside
seed 000's task-family decoders and the Pham 3D-CNN (registered as ``backbone.type: unet``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import timm
import torch
import torch.nn.functional as F
from timm.layers.conv_bn_act import ConvNormAct
from torch import nn

from spatialnet.backbones.output import BackboneOutput
from spatialnet.backbones.registry import Backbone, register_backbone
from spatialnet.config import BackboneConfig
from spatialnet.errors import RecipeError


@dataclasses.dataclass
class UNetOptions:
    """``backbone.options`` of ``type: unet``."""

    encoder: str = "resnet18"  # a timm model name that supports features_only
    out_indices: list[int] = dataclasses.field(default_factory=lambda: [0, 1, 2])  # pyramid levels used
    decoder_width: int = 64  # channels of every decoder block and of the shared output map


class UNetBackbone(Backbone):
    """timm encoder + U-Net decoder; output ``maps["shared"]`` (B, decoder_width, H, W)."""

    def __init__(self, config: BackboneConfig, options: UNetOptions) -> None:
        super().__init__()
        self.config = config
        try:
            self.encoder = timm.create_model(
                options.encoder,
                features_only=True,
                out_indices=tuple(options.out_indices),
                in_chans=config.in_chans,
                pretrained=False,
            )
        except (RuntimeError, ValueError, IndexError) as err:
            raise RecipeError(
                f"backbone.options: timm cannot build encoder {options.encoder!r} with out_indices "
                f"{options.out_indices} as a feature pyramid ({err})"
            ) from err
        feature_info: Any = self.encoder.feature_info
        channels: list[int] = feature_info.channels()
        width = options.decoder_width
        self.blocks = nn.ModuleList()
        current = channels[-1]
        for skip in reversed(channels[:-1]):
            self.blocks.append(
                nn.Sequential(ConvNormAct(current + skip, width, 3), ConvNormAct(width, width, 3))
            )
            current = width
        self.refine = nn.Sequential(ConvNormAct(current, width, 3), ConvNormAct(width, width, 3))
        self.in_chans = config.in_chans
        self.embed_dim = channels[-1]
        self.map_channels = {"shared": width}

    def forward(self, x: torch.Tensor) -> BackboneOutput:
        """Encode, decode with skips, and return the shared map at the input size."""
        if x.ndim != 4 or x.shape[1] != self.in_chans:
            raise ValueError(f"UNetBackbone: expected input (B, {self.in_chans}, H, W), got {tuple(x.shape)}")
        features = self.encoder(x)
        y = features[-1]
        for block, skip in zip(self.blocks, reversed(features[:-1]), strict=True):
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip], dim=1))
        y = self.refine(F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False))
        return BackboneOutput.from_feature_map(features[-1], x.shape[-2], {"shared": y})

    def last_shared_parameter(self) -> torch.Tensor:
        """The last conv weight of the shared decoder (every head reads its output)."""
        last: Any = self.refine[-1]
        weight = last.conv.weight
        assert isinstance(weight, torch.Tensor)
        return weight


@register_backbone("unet", UNetOptions)
def unet_backbone(config: BackboneConfig, options: UNetOptions) -> UNetBackbone:
    """The U-Net baseline on ``config.in_chans`` bands."""
    return UNetBackbone(config, options)
