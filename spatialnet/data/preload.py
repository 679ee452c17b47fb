"""Decode a split's images once into one uint8 tensor: CPU training re-reads memory, not JPEGs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from torch import Tensor

from spatialnet.processors.image import ImageProcessor
from spatialnet.progress import progress_bar


def preload_images(
    paths: Sequence[Path], processor: ImageProcessor, label: str, progress: bool = True
) -> Tensor:
    """(N, C, S, S) uint8 tensor of ``paths`` read and resized by ``processor``, in threads.

    PIL and tifffile release the GIL while decoding, so threads scale on a few cores.
    """
    size = processor.image_size
    images = torch.empty((len(paths), processor.channels, size, size), dtype=torch.uint8)

    def load(path: Path) -> Tensor:
        return torch.from_numpy(processor.load(path)).permute(2, 0, 1)

    workers = max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        loaded = progress_bar(pool.map(load, paths), f"loading {label}", progress, total=len(paths))
        for i, image in enumerate(loaded):
            images[i] = image
    return images
