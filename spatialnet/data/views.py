"""The eight flips and quarter turns of an image: the symmetries of a nadir aerial view.

A scene label does not change when an aerial image is flipped or turned, so averaging a
classifier's probabilities over these views at test time is the field's cheapest ensemble.
"""

from __future__ import annotations

from torch import Tensor

DIHEDRAL_VIEWS = 8


def dihedral_views(images: Tensor) -> list[Tensor]:
    """``images`` (…, H, W) turned by 0/90/180/270° and each of those mirrored: 8 views.

    Non-square images have no quarter turns of the same shape: their 4 flips are returned.
    """
    height, width = images.shape[-2:]
    turns = range(4) if height == width else (0, 2)
    views = []
    for k in turns:
        turned = images.rot90(k, dims=(-2, -1)) if k else images
        views += [turned, turned.flip(-1)]
    return views
