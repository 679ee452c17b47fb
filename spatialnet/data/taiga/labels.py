"""The TAIGA label raster (14 int32 bands per pixel) decoded into forest variables in physical units.

Band layout from the TAIGA baseline (Mõttus et al., aalto-cbir/AIROBEST; ``specs/taiga.md``):
three categorical variables (raw codes, 0 = none), ten continuous variables stored as integers
(some x100) and the stand id. Also the two data-driven target rules of the baseline: categorical
classes under 5 % of labelled pixels are dropped, and continuous variables are scaled by their
98th percentile, here computed on training stands only (the baseline used the whole image).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spatialnet.errors import DataError
from spatialnet.labels import IGNORE_INDEX

NUM_LABEL_BANDS = 14
STAND_ID_BAND = 13


@dataclass(frozen=True)
class CategoricalVariable:
    """A categorical label band: raw codes 1.. with 0 meaning no label."""

    name: str
    band: int
    classes: Mapping[int, str]


@dataclass(frozen=True)
class ContinuousVariable:
    """A continuous label band stored as ``round(value * factor)``."""

    name: str
    band: int
    factor: float
    unit: str


CATEGORICAL: tuple[CategoricalVariable, ...] = (
    CategoricalVariable(
        "fertility",
        0,
        {
            1: "herb-rich forest",
            2: "herb-rich heath forest",
            3: "mesic heath forest",
            4: "sub-xeric heath forest",
            5: "xeric heath forest",
            6: "barren heath forest",
            7: "code 7 (unnamed in the baseline metadata)",
        },
    ),
    CategoricalVariable("soil", 1, {1: "mineral", 2: "organic"}),
    CategoricalVariable(
        "species", 2, {1: "Scots pine", 2: "Norway spruce", 3: "birch and other broadleaves"}
    ),
)
CONTINUOUS: tuple[ContinuousVariable, ...] = (
    ContinuousVariable("basal_area", 3, 100.0, "m²/ha"),
    ContinuousVariable("dbh", 4, 100.0, "cm"),
    ContinuousVariable("stem_density", 5, 1.0, "1/ha"),
    ContinuousVariable("height", 6, 100.0, "m"),
    ContinuousVariable("pine", 7, 1.0, "%"),
    ContinuousVariable("spruce", 8, 1.0, "%"),
    ContinuousVariable("birch", 9, 1.0, "%"),
    ContinuousVariable("biomass", 10, 1.0, "t/ha"),
    ContinuousVariable("lai", 11, 100.0, "m²/m²"),
    ContinuousVariable("effective_lai", 12, 100.0, "m²/m²"),
)
CATEGORICAL_NAMES: tuple[str, ...] = tuple(v.name for v in CATEGORICAL)
CONTINUOUS_NAMES: tuple[str, ...] = tuple(v.name for v in CONTINUOUS)


@dataclass(frozen=True)
class Targets:
    """Decoded labels of a window: raw categorical codes (0 = none), physical values, stand ids.

    Continuous values are NaN where the pixel belongs to no stand (stand id 0, the raster's data
    ignore value). Inside a stand a 0 is kept as a real value: 0 % birch in a pure pine stand is
    a measurement, not a gap.
    """

    categorical: dict[str, npt.NDArray[np.int64]]
    continuous: dict[str, npt.NDArray[np.float32]]
    stand_id: npt.NDArray[np.int64]


def decode_targets(label_window: npt.NDArray[Any]) -> Targets:
    """Decode a (..., 14) label array (a window or a list of pixels) into :class:`Targets`."""
    if label_window.shape[-1:] != (NUM_LABEL_BANDS,):
        raise DataError(
            f"TAIGA labels: expected {NUM_LABEL_BANDS} bands in the last axis, got shape {label_window.shape}"
        )
    raw = np.asarray(label_window).astype(np.int64, copy=False)
    stand_id = raw[..., STAND_ID_BAND].copy()
    unlabelled = stand_id == 0
    categorical = {v.name: raw[..., v.band].copy() for v in CATEGORICAL}
    continuous: dict[str, npt.NDArray[np.float32]] = {}
    for v in CONTINUOUS:
        values = (raw[..., v.band] / v.factor).astype(np.float32)
        continuous[v.name] = np.where(unlabelled, np.float32(np.nan), values).astype(np.float32)
    return Targets(categorical=categorical, continuous=continuous, stand_id=stand_id)


def class_counts(codes: npt.NDArray[np.integer[Any]]) -> dict[int, int]:
    """Pixel count per non-zero raw code (0 = no label is not a class)."""
    values, counts = np.unique(np.asarray(codes), return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True) if v != 0}


def kept_classes(counts: Mapping[int, int], min_fraction: float = 0.05) -> tuple[int, ...]:
    """The raw codes holding at least ``min_fraction`` of the labelled pixels (code 0 excluded), sorted.

    The baseline's rule: rare classes are too few to learn and leave the mask instead.
    """
    labelled = {code: n for code, n in counts.items() if code != 0}
    total = sum(labelled.values())
    if total == 0:
        return ()
    return tuple(sorted(code for code, n in labelled.items() if n / total >= min_fraction))


@dataclass(frozen=True)
class ClassMap:
    """Raw codes of one categorical variable to contiguous class indices; others map to ``IGNORE_INDEX``."""

    name: str
    codes: tuple[int, ...]

    @classmethod
    def from_counts(cls, name: str, counts: Mapping[int, int], min_fraction: float = 0.05) -> ClassMap:
        """The map keeping the classes :func:`kept_classes` keeps."""
        return cls(name, kept_classes(counts, min_fraction))

    @property
    def num_classes(self) -> int:
        """How many classes the head predicts."""
        return len(self.codes)

    def encode(self, raw: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int64]:
        """Class indices 0..K-1 for kept codes, ``IGNORE_INDEX`` for none (0) and removed codes."""
        raw = np.asarray(raw)
        out = np.full(raw.shape, IGNORE_INDEX, dtype=np.int64)
        for index, code in enumerate(self.codes):
            out[raw == code] = index
        return out

    def decode(self, index: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int64]:
        """Raw codes of class indices (``IGNORE_INDEX`` back to 0 = none)."""
        table = np.asarray((*self.codes, 0), dtype=np.int64)
        index = np.asarray(index)
        return table[np.where(index == IGNORE_INDEX, len(self.codes), index)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, stored with the checkpoint."""
        return {"name": self.name, "codes": list(self.codes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassMap:
        """Inverse of :meth:`to_dict`."""
        return cls(str(data["name"]), tuple(int(c) for c in data["codes"]))


@dataclass(frozen=True)
class ContinuousScaling:
    """Per-variable scale ``value / p98`` clipped to [0, 1] (minimum fixed at 0), as in the baseline.

    Fitted on training-stand pixels only so holdout values do not leak into the targets; stored
    with the checkpoint so predictions go back to physical units.
    """

    p98: dict[str, float]
    percentile: float = 98.0

    @classmethod
    def fit(
        cls,
        continuous: Mapping[str, npt.NDArray[np.floating[Any]]],
        stand_id: npt.NDArray[np.integer[Any]],
        training_stands: Collection[int],
        percentile: float = 98.0,
    ) -> ContinuousScaling:
        """Percentiles of each variable over the labelled pixels whose stand is a training stand."""
        stand_id = np.asarray(stand_id)
        in_training = np.isin(stand_id, np.fromiter(training_stands, dtype=np.int64))
        p98: dict[str, float] = {}
        for name, values in continuous.items():
            values = np.asarray(values)
            if values.shape != stand_id.shape:
                raise ValueError(
                    f"{name}: values of shape {values.shape} but stand ids of shape {stand_id.shape}"
                )
            picked = values[in_training & ~np.isnan(values)]
            if picked.size == 0:
                raise DataError(f"TAIGA labels: no training-stand pixels with a value for {name!r}")
            p = float(np.percentile(picked, percentile))
            if p <= 0:
                raise DataError(
                    f"TAIGA labels: the {percentile:g}th percentile of {name!r} is {p}, cannot scale by it"
                )
            p98[name] = p
        return cls(p98=p98, percentile=percentile)

    def normalise(self, continuous: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[np.float32]]:
        """Physical values to [0, 1] (NaN stays NaN: a missing target)."""
        self._check(continuous)
        return {
            k: np.clip(np.asarray(v, dtype=np.float32) / self.p98[k], 0.0, 1.0) for k, v in continuous.items()
        }

    def denormalise(self, scaled: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[np.float32]]:
        """Scaled values (e.g. predictions) back to physical units."""
        self._check(scaled)
        return {
            k: (np.asarray(v, dtype=np.float32) * self.p98[k]).astype(np.float32) for k, v in scaled.items()
        }

    def _check(self, values: Mapping[str, Any]) -> None:
        unknown = sorted(set(values) - set(self.p98))
        if unknown:
            raise KeyError(f"no scaling fitted for {unknown}; fitted: {sorted(self.p98)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, stored with the checkpoint."""
        return {"percentile": self.percentile, "p98": dict(self.p98)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ContinuousScaling:
        """Inverse of :meth:`to_dict`."""
        return cls(
            p98={str(k): float(v) for k, v in data["p98"].items()}, percentile=float(data["percentile"])
        )


def stack(
    values: Mapping[str, npt.NDArray[Any]], names: Sequence[str] = CONTINUOUS_NAMES
) -> npt.NDArray[Any]:
    """Variables stacked on a new last axis in ``names`` order (the regression head's output order)."""
    missing = [n for n in names if n not in values]
    if missing:
        raise KeyError(f"missing variables {missing}")
    return np.stack([np.asarray(values[n]) for n in names], axis=-1)
