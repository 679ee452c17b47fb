"""The 21 UC Merced land-use classes (Yang & Newsam 2010) and how captions name them.

The order is alphabetical, as in UCM-captions, where image ``N`` has class ``(N - 1) // 100``;
``landuse_index`` in the synthetic scene graphs uses the same order so a classifier trained on
synthetic scenes predicts the same label ids as one trained on the real images.
"""

from __future__ import annotations

from spatialnet.data.ucm.classes import UCM_CLASSES

CLASS_INDEX: dict[str, int] = {name: i for i, name in enumerate(UCM_CLASSES)}

# The noun phrase a caption uses for the scene as a whole ("... in the dense residential area .").
AREA_PHRASE: dict[str, str] = {
    "agricultural": "farmland",
    "airplane": "airport",
    "baseballdiamond": "baseball field",
    "beach": "beach",
    "buildings": "commercial area",
    "chaparral": "chaparral",
    "denseresidential": "dense residential area",
    "forest": "forest",
    "freeway": "freeway",
    "golfcourse": "golf course",
    "harbor": "harbor",
    "intersection": "intersection",
    "mediumresidential": "medium residential area",
    "mobilehomepark": "mobile home park",
    "overpass": "overpass",
    "parkinglot": "parking lot",
    "river": "river",
    "runway": "runway",
    "sparseresidential": "sparse residential area",
    "storagetanks": "storage area",
    "tenniscourt": "tennis court",
}


def class_index(name: str) -> int:
    """Index of a class in the alphabetical UCM order; raises with the known names if unknown."""
    try:
        return CLASS_INDEX[name]
    except KeyError:
        raise KeyError(f"unknown UCM class {name!r}; expected one of {', '.join(UCM_CLASSES)}") from None
