"""Decode a split's images once into one uint8 tensor: CPU training re-reads memory, not JPEGs.

:class:`PreloadedImages` is the dataset side of it: the tensor, the image ids and the seeded
per-item randomness every image dataset (captions, VQA) shares.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import Tensor

from spatialnet.data.base import RecipeDataset
from spatialnet.data.images import ImageSource
from spatialnet.data.transforms import TrainAugment, item_seed
from spatialnet.processors.image import ImageProcessor
from spatialnet.progress import progress_bar


def preload_images(
    paths: Sequence[ImageSource], processor: ImageProcessor, label: str, progress: bool = True
) -> Tensor:
    """(N, C, S, S) uint8 tensor of ``paths`` (files or their bytes) read and resized by ``processor``.

    Decoded in threads: PIL and tifffile release the GIL while decoding, so threads scale on a few cores.
    """
    size = processor.image_size
    images = torch.empty((len(paths), processor.channels, size, size), dtype=torch.uint8)

    def load(path: ImageSource) -> Tensor:
        return torch.from_numpy(processor.load(path)).permute(2, 0, 1)

    workers = max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        loaded = progress_bar(pool.map(load, paths), f"loading {label}", progress, total=len(paths))
        for i, image in enumerate(loaded):
            images[i] = image
    return images


class PreloadedImages(RecipeDataset):
    """A split held as one uint8 (N, C, S, S) tensor, with its image ids and seeded augmentation.

    Item ``i`` draws its randomness from the dataset's generator reseeded from ``(epoch seed, i)``
    (:meth:`seeded`): outputs depend on neither the DataLoader worker count nor the sampling
    order. The trainer calls :meth:`set_epoch` with a new seed each epoch (default 0).
    """

    processor: ImageProcessor

    def __init__(
        self,
        split: str,
        processor: ImageProcessor,
        augment: TrainAugment | None,
        images: Tensor,
        image_ids: Sequence[int],
    ) -> None:
        self.split = split
        self.processor = processor
        self.augment = augment
        self.images = images
        self.image_ids = list(image_ids)
        self._generator = torch.Generator()
        self._epoch_seed = 0

    def __len__(self) -> int:
        return len(self.image_ids)

    def position(self, index: int) -> int:
        """``index`` as a position in 0..N-1 (negative indices count from the end)."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} {self.split} images")
        return index % len(self)

    def seeded(self, index: int) -> torch.Generator:
        """The generator, reseeded for item ``index`` of this epoch."""
        return self._generator.manual_seed(item_seed(self._epoch_seed, index))

    def set_epoch(self, seed: int) -> None:
        """Reseed augmentation: call once per epoch with a new seed (e.g. ``recipe.seed * 1000 + epoch``)."""
        self._epoch_seed = int(seed)
