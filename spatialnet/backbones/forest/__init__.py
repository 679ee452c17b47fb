"""Hyperspectral forest-mapping backbones: the seed-000 multitask CNN, the TAIGA (Pham) 3D-CNN, a U-Net.

Importing this package registers them as ``backbone.type`` ``seed000``, ``pham`` and ``unet``.
"""

from spatialnet.backbones.forest.blocks import (
    ChannelDoubling,
    ConvBNAct,
    DenseASPP,
    ResidualBlock,
    SpectralSpatialAttention,
)
from spatialnet.backbones.forest.pham import PhamNetwork
from spatialnet.backbones.forest.seed000 import FAMILIES, Seed000Network
from spatialnet.backbones.forest.unet import UNetBackbone

__all__ = [
    "FAMILIES",
    "ChannelDoubling",
    "ConvBNAct",
    "DenseASPP",
    "PhamNetwork",
    "ResidualBlock",
    "Seed000Network",
    "SpectralSpatialAttention",
    "UNetBackbone",
]
