"""``HyperspectralProcessor``: raw ENVI cube pixels to model input with statistics fitted on train."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from spatialnet.errors import DataError

if TYPE_CHECKING:
    from spatialnet.data.taiga.envi import EnviImage

InputNorm = Literal["standardise", "minmax"]
INPUT_NORMS: tuple[str, ...] = ("standardise", "minmax")
REFLECTANCE_SCALE = 10000.0


@dataclass(frozen=True)
class HyperspectralProcessor:
    """Band subset, integer → reflectance (÷ ``reflectance_scale``), then per-band normalisation.

    ``standardise``: ``(x - mean) / std``; ``minmax``: ``(x - min) / (max - min)``, with statistics
    of training pixels (:meth:`fit`). Bands without spread keep a divisor of 1.
    """

    bands: tuple[int, ...]
    band_mean: tuple[float, ...]
    band_std: tuple[float, ...]
    band_min: tuple[float, ...]
    band_max: tuple[float, ...]
    input_norm: InputNorm = "standardise"
    reflectance_scale: float = REFLECTANCE_SCALE
    kind: ClassVar[str] = "hyperspectral"

    def __post_init__(self) -> None:
        if self.input_norm not in INPUT_NORMS:
            raise DataError(f"data.input_norm: {self.input_norm!r}; expected one of {INPUT_NORMS}")
        for name in ("band_mean", "band_std", "band_min", "band_max"):
            if len(getattr(self, name)) != len(self.bands):
                raise ValueError(f"{name} has {len(getattr(self, name))} values for {len(self.bands)} bands")

    @classmethod
    def fit(
        cls,
        spectra: npt.NDArray[Any],
        bands: Sequence[int],
        input_norm: InputNorm = "standardise",
        reflectance_scale: float = REFLECTANCE_SCALE,
    ) -> HyperspectralProcessor:
        """Statistics of (N, len(bands)) raw training spectra (already restricted to ``bands``)."""
        values = np.asarray(spectra, dtype=np.float64) / reflectance_scale
        if values.ndim != 2 or values.shape[1] != len(bands) or len(values) == 0:
            raise DataError(
                f"hyperspectral statistics: expected (N > 0, {len(bands)}) training spectra, "
                f"got {values.shape}"
            )
        return cls(
            bands=tuple(int(b) for b in bands),
            band_mean=tuple(values.mean(axis=0).tolist()),
            band_std=tuple(values.std(axis=0).tolist()),
            band_min=tuple(values.min(axis=0).tolist()),
            band_max=tuple(values.max(axis=0).tolist()),
            input_norm=input_norm,
            reflectance_scale=float(reflectance_scale),
        )

    def check_cube(self, cube: EnviImage) -> None:
        """Refuse a cube that lacks a band this processor reads (a DataError naming the file)."""
        if max(self.bands) >= cube.shape[2]:
            raise DataError(
                f"{cube.path}: {cube.shape[2]} bands, but the model reads bands up to {max(self.bands)}"
            )

    def read_window(self, cube: EnviImage, row: int, col: int, size: int) -> npt.NDArray[Any]:
        """The raw ``size``² window of ``cube`` centred on (row, col), in the bands read: (P, P, bands).

        Datasets, ``predict --pixel``, the app and ``map`` all read their pixels through here or
        :meth:`read_box`, then :meth:`normalise` them: one place says which bands a model sees.
        """
        half = size // 2
        return cube.read_window(row - half, col - half, size, self.bands)

    def read_box(self, cube: EnviImage, rows: range, cols: range) -> npt.NDArray[Any]:
        """The raw pixels ``rows`` × ``cols`` of ``cube`` in the bands read (a strip of a map)."""
        return cube.read_box(rows, cols, self.bands)

    def normalise(self, window: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        """A raw (..., bands) window to float32, per-band normalised (one copy, then in place)."""
        if self.input_norm == "standardise":
            shift, div = np.asarray(self.band_mean), np.asarray(self.band_std)
        else:
            shift, div = np.asarray(self.band_min), np.asarray(self.band_max) - np.asarray(self.band_min)
        div = np.where(div > 0, div, 1.0)
        # one copy, bands innermost whatever the cube's interleave (BSQ cubes give band-major views):
        # windows cut from it are then channels-last, the layout of the model's convolutions
        x = np.array(window, dtype=np.float32, order="C")
        x /= np.float32(self.reflectance_scale)
        x -= shift.astype(np.float32)
        x /= div.astype(np.float32)
        return x

    def __call__(self, window: npt.NDArray[Any]) -> Tensor:
        """A raw (P, P, bands) window as model input: (bands, P, P) float32."""
        return torch.from_numpy(np.ascontiguousarray(self.normalise(window).transpose(2, 0, 1)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "bands": list(self.bands),
            "band_mean": list(self.band_mean),
            "band_std": list(self.band_std),
            "band_min": list(self.band_min),
            "band_max": list(self.band_max),
            "input_norm": self.input_norm,
            "reflectance_scale": self.reflectance_scale,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HyperspectralProcessor:
        """Inverse of :meth:`to_dict` (also reads the flat TAIGA states of older checkpoints)."""
        norm = str(data.get("input_norm", "standardise"))
        if norm not in INPUT_NORMS:
            raise DataError(f"hyperspectral processor: input_norm {norm!r}, expected one of {INPUT_NORMS}")
        stats = {
            k: tuple(float(v) for v in data[k]) for k in ("band_mean", "band_std", "band_min", "band_max")
        }
        return cls(
            bands=tuple(int(b) for b in data["bands"]),
            input_norm="minmax" if norm == "minmax" else "standardise",
            reflectance_scale=float(data.get("reflectance_scale", REFLECTANCE_SCALE)),
            **stats,
        )
