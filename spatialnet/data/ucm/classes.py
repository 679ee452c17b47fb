"""The 21 UC Merced land-use classes, in their index order (no imports: data generators read them too)."""

from __future__ import annotations

UCM_CLASSES: tuple[str, ...] = (
    "agricultural",
    "airplane",
    "baseballdiamond",
    "beach",
    "buildings",
    "chaparral",
    "denseresidential",
    "forest",
    "freeway",
    "golfcourse",
    "harbor",
    "intersection",
    "mediumresidential",
    "mobilehomepark",
    "overpass",
    "parkinglot",
    "river",
    "runway",
    "sparseresidential",
    "storagetanks",
    "tenniscourt",
)
IMAGES_PER_CLASS = 100  # UC Merced: image N (1-based) is class (N - 1) // 100
