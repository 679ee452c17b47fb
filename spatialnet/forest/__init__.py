"""Hyperspectral forest-mapping backbones: the seed-000 multitask CNN and the TAIGA (Pham) 3D-CNN baseline.

Importing this package registers both as ``backbone.type`` ``seed000`` and ``pham``.
"""

from spatialnet.forest.blocks import (
    ChannelDoubling,
    ConvBNAct,
    DenseASPP,
    ResidualBlock,
    SpectralSpatialAttention,
)
from spatialnet.forest.pham import PhamNetwork
from spatialnet.forest.seed000 import FAMILIES, Seed000Network

__all__ = [
    "FAMILIES",
    "ChannelDoubling",
    "ConvBNAct",
    "DenseASPP",
    "PhamNetwork",
    "ResidualBlock",
    "Seed000Network",
    "SpectralSpatialAttention",
]
