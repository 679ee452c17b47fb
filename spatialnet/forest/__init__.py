"""Hyperspectral forest-mapping networks: the seed-000 multitask CNN and the TAIGA (Pham) 3D-CNN baseline."""

from spatialnet.forest.blocks import (
    ChannelDoubling,
    ConvBNAct,
    DenseASPP,
    ResidualBlock,
    SpectralSpatialAttention,
)
from spatialnet.forest.pham import PhamNetwork
from spatialnet.forest.seed000 import Seed000Network, centre

__all__ = [
    "ChannelDoubling",
    "ConvBNAct",
    "DenseASPP",
    "PhamNetwork",
    "ResidualBlock",
    "Seed000Network",
    "SpectralSpatialAttention",
    "centre",
]
