"""Procedural layouts: one rule per UC Merced class that turns a random generator into a scene graph.

Layouts work in a 256 px reference frame (UCM's tile size at 1 ft/px, so a car is ~7×15 px and a
tennis court ~50×100 px) and may rotate the whole frame about the image centre; the builder
scales, rotates and clips every polygon to the requested image size, so all geometry stored in the
scene graph is exact for the image that is rendered from it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from spatialnet.data.synthetic.layouts.builder import Builder
from spatialnet.data.synthetic.layouts.palette import (
    CONCRETE,
    DRY_GRASS,
    FOREST,
    GRASS,
    LAWN,
    LOESS,
    SAND,
    SOIL,
    WATER,
    jitter,
)
from spatialnet.data.synthetic.layouts.rules_built import (
    _baseballdiamond,
    _buildings,
    _denseresidential,
    _mediumresidential,
    _mobilehomepark,
    _sparseresidential,
    _storagetanks,
    _tenniscourt,
)
from spatialnet.data.synthetic.layouts.rules_open import (
    _agricultural,
    _beach,
    _chaparral,
    _forest,
    _golfcourse,
    _river,
)
from spatialnet.data.synthetic.layouts.rules_transport import (
    _airplane,
    _freeway,
    _harbor,
    _intersection,
    _overpass,
    _parkinglot,
    _runway,
)
from spatialnet.data.synthetic.scene_graph import RGB, Scene
from spatialnet.data.ucm.classes import UCM_CLASSES

LAYOUTS: dict[str, tuple[Callable[[Builder], None], str, RGB]] = {
    "agricultural": (_agricultural, "farmland", SOIL),
    "airplane": (_airplane, "pavement", CONCRETE),
    "baseballdiamond": (_baseballdiamond, "grass", GRASS),
    "beach": (_beach, "sand", SAND),
    "buildings": (_buildings, "pavement", (150, 148, 142)),
    "chaparral": (_chaparral, "bare ground", LOESS),
    "denseresidential": (_denseresidential, "grass", LAWN),
    "forest": (_forest, "forest", FOREST),
    "freeway": (_freeway, "grass", DRY_GRASS),
    "golfcourse": (_golfcourse, "grass", (86, 122, 58)),
    "harbor": (_harbor, "water", WATER),
    "intersection": (_intersection, "grass", DRY_GRASS),
    "mediumresidential": (_mediumresidential, "grass", LAWN),
    "mobilehomepark": (_mobilehomepark, "bare ground", (150, 140, 118)),
    "overpass": (_overpass, "grass", DRY_GRASS),
    "parkinglot": (_parkinglot, "pavement", (140, 138, 132)),
    "river": (_river, "grass", GRASS),
    "runway": (_runway, "grass", DRY_GRASS),
    "sparseresidential": (_sparseresidential, "grass", LAWN),
    "storagetanks": (_storagetanks, "bare ground", SOIL),
    "tenniscourt": (_tenniscourt, "grass", LAWN),
}
assert tuple(sorted(LAYOUTS)) == UCM_CLASSES, "one layout rule per UCM class"


def layout(landuse: str, rng: np.random.Generator, image_size: int) -> Scene:
    """Draw a random scene graph of class ``landuse`` (objects, markings, land-cover fractions)."""
    rule, background, bg_rgb = LAYOUTS[landuse]
    b = Builder(rng, image_size, landuse, background, jitter(rng, bg_rgb, 10))
    rule(b)
    return b.finish()
