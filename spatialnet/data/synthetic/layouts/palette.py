"""The reference frame, the colours objects are drawn in, and the random picks among them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spatialnet.data.synthetic.scene_graph import (
    RGB,
)

REF = 256.0  # reference frame side, px
# Layout frames may extend beyond the image so rotated layouts still cover its corners.
FRAME_LO, FRAME_HI = -64.0, 320.0
MIN_OBJECT_AREA = 2.0  # px² left after clipping below which an object is dropped
CIRCLE_VERTICES = 32
COLOUR_JITTER = 12  # ± per channel, so objects of one colour name still differ
PLACE_TRIES = 40  # random placements tried before giving up on one object

Palette = Sequence[tuple[str, RGB]]
ROOFS: Palette = (
    ("grey", (128, 128, 128)),
    ("red", (158, 78, 62)),
    ("orange", (196, 122, 82)),
    ("brown", (122, 96, 78)),
    ("white", (214, 214, 208)),
    ("dark", (78, 78, 84)),
)
FLAT_ROOFS: Palette = (("white", (218, 218, 214)), ("grey", (150, 150, 150)), ("dark", (92, 94, 98)))
# Repeated entries weight the draw: most cars are white, silver, black or grey, as in the UCM photos.
CARS: Palette = (
    ("white", (226, 226, 226)),
    ("white", (226, 226, 226)),
    ("silver", (188, 188, 194)),
    ("black", (32, 32, 36)),
    ("black", (32, 32, 36)),
    ("grey", (140, 140, 146)),
    ("red", (172, 42, 42)),
    ("blue", (50, 72, 150)),
    ("grey", (140, 140, 146)),
    ("silver", (188, 188, 194)),
)
COURTS: Palette = (("green", (66, 128, 88)), ("blue", (58, 96, 150)), ("red", (160, 78, 66)))
TANKS: Palette = (("white", (230, 230, 226)), ("grey", (168, 168, 166)))
PLANES: Palette = (("white", (236, 236, 236)), ("grey", (178, 180, 184)))
BOATS: Palette = (
    ("white", (238, 238, 238)),
    ("white", (238, 238, 238)),
    ("white", (238, 238, 238)),
    ("blue", (70, 110, 170)),
)
FIELDS: Palette = (
    ("green", (98, 132, 62)),
    ("brown", (146, 116, 84)),
    ("yellow", (186, 168, 104)),
    ("dark green", (62, 96, 52)),
)

GRASS: RGB = (98, 128, 64)
LAWN: RGB = (108, 142, 70)
DRY_GRASS: RGB = (150, 148, 98)
FOREST: RGB = (46, 74, 40)
SOIL: RGB = (168, 142, 108)
LOESS: RGB = (176, 152, 116)
SAND: RGB = (218, 204, 170)
WATER: RGB = (42, 78, 92)
SEA: RGB = (44, 98, 122)
ASPHALT: RGB = (92, 92, 94)
CONCRETE: RGB = (178, 175, 166)
DIRT: RGB = (182, 146, 106)
WHITE: RGB = (236, 236, 232)
YELLOW: RGB = (214, 184, 64)

LANE_WIDTH = 12.0  # px per traffic lane at 1 ft/px
CAR_W, CAR_L = 7.0, 15.0
SERVICE_LINE_FRACTION = 0.23  # service lines sit this fraction of the court length from the baselines


def pick(rng: np.random.Generator, palette: Palette) -> tuple[str, RGB]:
    """A named colour from a palette, jittered so that same-named objects still differ slightly."""
    name, rgb = palette[int(rng.integers(len(palette)))]
    return name, jitter(rng, rgb)


def jitter(rng: np.random.Generator, rgb: RGB, amount: int = COLOUR_JITTER) -> RGB:
    """A colour moved by up to ``amount`` per channel."""
    # Mostly a brightness change shared by all channels, plus a little hue, so greys stay grey.
    d = rng.integers(-amount, amount + 1) + rng.integers(-(amount // 3), amount // 3 + 1, size=3)
    return (
        int(np.clip(rgb[0] + d[0], 0, 255)),
        int(np.clip(rgb[1] + d[1], 0, 255)),
        int(np.clip(rgb[2] + d[2], 0, 255)),
    )
