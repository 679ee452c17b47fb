"""Decode a split's images once into one uint8 tensor: CPU training re-reads memory, not JPEGs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from torch import Tensor

from spatialnet.data.images import load_image
from spatialnet.progress import progress_bar


def preload_images(paths: Sequence[Path], size: int, label: str, progress: bool = True) -> Tensor:
    """(N, 3, size, size) uint8 tensor of ``paths`` decoded with :func:`load_image`, in threads.

    PIL and tifffile release the GIL while decoding, so threads scale on a few cores.
    """
    images = torch.empty((len(paths), 3, size, size), dtype=torch.uint8)

    def load(path: Path) -> Tensor:
        return torch.from_numpy(load_image(path, size, channels=3)).permute(2, 0, 1)

    workers = max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        loaded = progress_bar(pool.map(load, paths), f"loading {label}", progress, total=len(paths))
        for i, image in enumerate(loaded):
            images[i] = image
    return images
