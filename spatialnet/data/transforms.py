"""Seeded training augmentation of uint8 images.

Images are kept as uint8 (C, H, W) tensors until the last step (a preloaded split is 4× smaller
than in float32); :meth:`spatialnet.processors.ImageProcessor.normalize` is the single place
where they become model input.
Every random draw of :class:`TrainAugment` comes from an explicit ``torch.Generator`` so that a
run is reproducible whatever the number of DataLoader workers.
"""

from __future__ import annotations

import math

import torch
import torchvision.transforms.v2.functional as TF
from torch import Tensor

from spatialnet.config import AugmentConfig
from spatialnet.errors import DataError

_CROP_RATIO = (3.0 / 4.0, 4.0 / 3.0)  # aspect-ratio range of RandomResizedCrop (torchvision default)
_CROP_TRIES = 10


class TrainAugment:
    """Random flips, 90° rotations, resized crop and colour jitter on uint8 (C, H, W) tensors.

    Batch-level augmentations of :class:`AugmentConfig` (``mixup``, ``cutmix``) mix labels too
    and therefore belong to the trainer, not here.
    """

    def __init__(
        self,
        hflip: bool = True,
        vflip: bool = True,
        rot90: bool = True,
        random_resized_crop: float | None = None,
        color_jitter: float = 0.0,
    ) -> None:
        if random_resized_crop is not None and not 0.0 < random_resized_crop <= 1.0:
            raise DataError(f"augment.random_resized_crop must be in (0, 1], got {random_resized_crop}")
        if not 0.0 <= color_jitter < 1.0:
            raise DataError(f"augment.color_jitter must be in [0, 1), got {color_jitter}")
        self.hflip = hflip
        self.vflip = vflip
        self.rot90 = rot90
        self.random_resized_crop = random_resized_crop
        self.color_jitter = color_jitter

    @classmethod
    def from_config(cls, config: AugmentConfig) -> TrainAugment:
        """Build from the recipe's ``data.augment`` section."""
        return cls(
            hflip=config.hflip,
            vflip=config.vflip,
            rot90=config.rot90,
            random_resized_crop=config.random_resized_crop,
            color_jitter=config.color_jitter,
        )

    def __repr__(self) -> str:
        return (
            f"TrainAugment(hflip={self.hflip}, vflip={self.vflip}, rot90={self.rot90}, "
            f"random_resized_crop={self.random_resized_crop}, color_jitter={self.color_jitter})"
        )

    def __call__(self, image: Tensor, generator: torch.Generator) -> Tensor:
        """Augment one uint8 (C, H, W) image; the same generator state gives the same output."""
        if image.ndim != 3:
            raise DataError(f"TrainAugment: expected one image (C, H, W), got shape {tuple(image.shape)}")
        if self.random_resized_crop is not None:
            image = self._resized_crop(image, self.random_resized_crop, generator)
        hflip = self.hflip and _uniform(generator) < 0.5
        vflip = self.vflip and _uniform(generator) < 0.5
        turns = int(torch.randint(0, 4, (1,), generator=generator).item()) if self.rot90 else 0
        image = flip_and_turn(image, hflip, vflip, turns)
        if self.color_jitter > 0:
            image = self._jitter(image, self.color_jitter, generator)
        return image.contiguous()

    def jitter(self, image: Tensor, generator: torch.Generator) -> Tensor:
        """Only the colour jitter (for datasets that draw their own geometric operations)."""
        return self._jitter(image, self.color_jitter, generator) if self.color_jitter > 0 else image

    @staticmethod
    def _resized_crop(image: Tensor, min_area: float, generator: torch.Generator) -> Tensor:
        """RandomResizedCrop: keep a box of area fraction in [min_area, 1], resize back to (H, W)."""
        height, width = image.shape[-2:]
        area = height * width
        log_lo, log_hi = math.log(_CROP_RATIO[0]), math.log(_CROP_RATIO[1])
        for _ in range(_CROP_TRIES):
            target = area * (min_area + (1.0 - min_area) * _uniform(generator))
            ratio = math.exp(log_lo + (log_hi - log_lo) * _uniform(generator))
            w = round(math.sqrt(target * ratio))
            h = round(math.sqrt(target / ratio))
            if 0 < w <= width and 0 < h <= height:
                top = int(torch.randint(0, height - h + 1, (1,), generator=generator).item())
                left = int(torch.randint(0, width - w + 1, (1,), generator=generator).item())
                return TF.resized_crop(image, top, left, h, w, [height, width], antialias=True)
        return image  # no valid box in 10 tries (extreme aspect ratios): keep the whole image

    @staticmethod
    def _jitter(image: Tensor, strength: float, generator: torch.Generator) -> Tensor:
        """Brightness, contrast and (RGB only) saturation factors drawn in [1 - s, 1 + s]."""
        factors = [1.0 + strength * (2.0 * _uniform(generator) - 1.0) for _ in range(3)]
        image = TF.adjust_brightness(image, factors[0])
        image = TF.adjust_contrast(image, factors[1]) if image.shape[0] in (1, 3) else image
        image = TF.adjust_saturation(image, factors[2]) if image.shape[0] == 3 else image
        return image


def flip_and_turn(image: Tensor, hflip: bool, vflip: bool, quarter_turns: int) -> Tensor:
    """``image`` flipped left-right, then top-bottom, then turned ``quarter_turns`` × 90° (last two dims).

    The one definition of a view: datasets that rewrite answers for a view (side words, locations)
    move their grids with this same function.
    """
    if hflip:
        image = image.flip(-1)
    if vflip:
        image = image.flip(-2)
    return torch.rot90(image, quarter_turns, dims=(-2, -1))


def _uniform(generator: torch.Generator) -> float:
    """One U[0, 1) draw from ``generator``."""
    return float(torch.rand((), generator=generator).item())


def item_seed(seed: int, index: int) -> int:
    """SplitMix64 of (epoch seed, item index): well-spread, distinct generator seeds per item and epoch.

    Seeding each item from this makes augmentation independent of worker count and sampling order.
    """
    z = ((seed & 0xFFFFFFFF) << 32 | (index & 0xFFFFFFFF)) + 0x9E3779B97F4A7C15
    z &= 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF
