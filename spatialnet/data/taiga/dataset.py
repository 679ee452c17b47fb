"""``TaigaWindows``: P x P hyperspectral windows of the TAIGA mosaic with their forest targets.

TAIGA (Mõttus et al., "TAIGA: a novel dataset for multitask learning of continuous and
categorical forest variables from hyperspectral imagery", DOI 10.23729/fe7ce882-...) pairs a
~37 GiB airborne hyperspectral mosaic with stand-level labels (3 categorical + 10 continuous
variables). Samples are the block centres of :mod:`spatialnet.data.taiga.split` (train / val /
test, stand-disjoint between train+val and test); each item is the window around a centre, read
from the memory map (the cube is never loaded whole).

Preprocessing (:class:`TaigaPreprocessing`, JSON-able, stored with checkpoints) is fitted on the
training side only and passed to val/test datasets:

- class maps: classes under 5 % of the *training stands'* labelled pixels are removed;
- continuous targets: value / p98 of the training stands' pixels, clipped to [0, 1];
- input (a :class:`~spatialnet.processors.HyperspectralProcessor`): int16 / reflectance scale
  (header, default 10000), then per band either standardised (``(x - mean) / std``) or min-max
  scaled (``(x - min) / (max - min)``) with statistics of the *centre pixels of the train split*
  (up to ``max_stat_pixels`` of them, a seeded subsample), a cheap and unbiased stand-in for all
  train-window pixels.

Targets: ``dense=False`` gives the centre pixel's labels; ``dense=True`` gives (P, P) maps where a
pixel is labelled only if its stand belongs to this split's stand set (training stands for
train/val, holdout for test: windows may see neighbouring stands of the other set, their labels
must not leak), LAI > 0 and all three categorical labels kept — the same rule as a valid centre.
Elsewhere categorical maps hold ``IGNORE_INDEX`` (-100) and regression maps NaN.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from spatialnet.data.base import RecipeDataset
from spatialnet.data.taiga.envi import EnviImage, open_envi
from spatialnet.data.taiga.labels import (
    CATEGORICAL,
    CATEGORICAL_NAMES,
    CONTINUOUS,
    CONTINUOUS_NAMES,
    NUM_LABEL_BANDS,
    ClassMap,
    ContinuousScaling,
    decode_targets,
    stack,
)
from spatialnet.data.taiga.split import (
    BLOCK,
    CUBE_NAME,
    LABEL_NAME,
    VAL_FRACTION,
    WINDOW,
    TaigaSplit,
    make_split,
    resolve_taiga_root,
    stand_sets,
    training_label_rules,
    valid_pixels,
)
from spatialnet.data.transforms import item_seed
from spatialnet.errors import DataError
from spatialnet.labels import IGNORE_INDEX
from spatialnet.processors.hyperspectral import REFLECTANCE_SCALE, HyperspectralProcessor, InputNorm

DEFAULT_BANDS = tuple(range(110))  # the baseline drops the noisy bands 110-127
MAX_STAT_PIXELS = 20000


@dataclass(frozen=True)
class TaigaPreprocessing:
    """Everything fitted on the training side: the targets' class maps and scales, the input's processor.

    The input side is a :class:`HyperspectralProcessor` (band subset and statistics). Checkpoints
    store the target side as the dataset's state (``data_state.json``) and the input side with
    every run's processors (``processors.json``).
    """

    class_maps: dict[str, ClassMap]
    scaling: ContinuousScaling
    input: HyperspectralProcessor

    @property
    def num_classes(self) -> dict[str, int]:
        """Classes per categorical head."""
        return {name: m.num_classes for name, m in self.class_maps.items()}

    def to_dict(self) -> dict[str, Any]:
        """The target side, JSON-serialisable (the input side is the processor's own)."""
        return {
            "class_maps": {k: m.to_dict() for k, m in self.class_maps.items()},
            "scaling": self.scaling.to_dict(),
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], processor: HyperspectralProcessor | None = None
    ) -> TaigaPreprocessing:
        """Inverse of :meth:`to_dict`, with the input ``processor``.

        Checkpoints from before processors were saved apart held its fields in ``data`` too: they
        are read from there when ``processor`` is not given.
        """
        return cls(
            class_maps={str(k): ClassMap.from_dict(v) for k, v in data["class_maps"].items()},
            scaling=ContinuousScaling.from_dict(data["scaling"]),
            input=processor if processor is not None else HyperspectralProcessor.from_dict(data),
        )


def _open(root: str | os.PathLike[str]) -> tuple[Path, EnviImage, EnviImage]:
    folder = resolve_taiga_root(root)
    return folder, open_envi(folder / f"{CUBE_NAME}.hdr"), open_envi(folder / f"{LABEL_NAME}.hdr")


def _band_subset(bands: Sequence[int] | None, cube: EnviImage) -> tuple[int, ...]:
    nbands = cube.shape[2]
    if bands is None:
        return tuple(b for b in DEFAULT_BANDS if b < nbands)
    picked = tuple(int(b) for b in bands)
    bad = [b for b in picked if not 0 <= b < nbands]
    if bad or not picked:
        raise DataError(f"{cube.path}: bands {bad or picked} outside 0..{nbands - 1}")
    return picked


def fit_preprocessing(
    root: str | os.PathLike[str],
    train_split: npt.NDArray[np.integer[Any]] | TaigaSplit,
    bands: Sequence[int] | None = None,
    input_norm: InputNorm = "standardise",
    max_stat_pixels: int = MAX_STAT_PIXELS,
    seed: int = 0,
) -> TaigaPreprocessing:
    """Fit class maps and p98 scaling on the training stands, band stats on the train centres.

    ``train_split``: the (N, 2) train centres (or a :class:`TaigaSplit`, whose ``train`` is used).
    """
    folder, cube, _ = _open(root)
    centres = np.asarray(train_split.train if isinstance(train_split, TaigaSplit) else train_split)
    centres = centres.astype(np.int64).reshape(-1, 2)
    if len(centres) == 0:
        raise DataError(f"{folder}: the train split is empty, nothing to fit the band statistics on")
    class_maps, scaling = training_label_rules(folder)
    subset = _band_subset(bands, cube)
    if len(centres) > max_stat_pixels:
        pick = np.sort(np.random.default_rng(seed).choice(len(centres), max_stat_pixels, replace=False))
        centres = centres[pick]
    view = cube.memmap()
    index = np.asarray(subset, dtype=np.intp)
    spectra = np.stack([np.asarray(view[r, c])[index] for r, c in centres.tolist()])
    processor = HyperspectralProcessor.fit(
        spectra, subset, input_norm, float(cube.scale or REFLECTANCE_SCALE)
    )
    return TaigaPreprocessing(class_maps=class_maps, scaling=scaling, input=processor)


class TaigaWindows(RecipeDataset):
    """P x P windows of the TAIGA mosaic around the centres of one split, with their targets.

    Args:
        root: the TAIGA folder (or a folder containing ``taiga/``).
        split: ``"train"``, ``"val"`` or ``"test"``.
        window: P, odd (baseline 45).
        bands: input band subset (default 0-109, clipped to the cube's band count); ignored when
            ``preprocessing`` is given (its band subset is used).
        dense: per-pixel (P, P) target maps instead of the centre pixel's targets.
        flips: random horizontal / vertical flips (p = 0.5 each) of window and dense targets,
            drawn from ``item_seed(epoch seed, index)`` (see :meth:`set_epoch`).
        preprocessing: fitted :class:`TaigaPreprocessing`; default: fitted on this root's train
            split (pass the train dataset's ``preprocessing`` to val/test datasets).
        splits: a precomputed :class:`TaigaSplit` (default: :func:`make_split` with
            ``split_seed``, ``window``, ``block``, ``val_fraction``).

    Items: ``image`` float32 (bands, P, P); ``fertility``/``soil``/``species`` int64 (scalar or
    (P, P), ``IGNORE_INDEX`` where unlabelled); one float32 key per continuous variable of
    :data:`CONTINUOUS_NAMES` (scalar or (P, P), p98-normalised, NaN where missing); ``stand_id``
    int64 (the centre's); ``centre`` int64 (2,) = (row, col).
    """

    processor: HyperspectralProcessor

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        window: int = WINDOW,
        bands: Sequence[int] | None = None,
        dense: bool = False,
        flips: bool = False,
        preprocessing: TaigaPreprocessing | None = None,
        splits: TaigaSplit | None = None,
        split_seed: int = 0,
        block: int = BLOCK,
        val_fraction: float = VAL_FRACTION,
        input_norm: InputNorm = "standardise",
    ) -> None:
        if window < 1 or window % 2 == 0:
            raise DataError(f"window must be an odd positive size, got {window}")
        self.root, self.cube, self.labels = _open(root)
        self.split = split
        self.window = window
        self.dense = dense
        self.flips = flips
        self.splits = (
            splits if splits is not None else make_split(self.root, split_seed, window, block, val_fraction)
        )
        self.centres = self.splits.get(split)
        if preprocessing is None:
            preprocessing = fit_preprocessing(self.root, self.splits.train, bands, input_norm)
        self.preprocessing = preprocessing
        self.processor = preprocessing.input
        self.bands = self.processor.bands
        _band_subset(self.bands, self.cube)  # checks the subset fits this cube
        sets = stand_sets(self.root)
        self.stands = sets.holdout if split == "test" else sets.training
        self._stand_ids = np.fromiter(self.stands, dtype=np.int64)
        self._epoch_seed = 0

    @property
    def class_maps(self) -> dict[str, ClassMap]:
        """Fitted class maps (train split)."""
        return self.preprocessing.class_maps

    @property
    def scaling(self) -> ContinuousScaling:
        """Fitted p98 scaling (training stands)."""
        return self.preprocessing.scaling

    def set_epoch(self, seed: int) -> None:
        """Reseed the flips: call once per epoch with a new seed."""
        self._epoch_seed = int(seed)

    def __len__(self) -> int:
        return len(self.centres)

    def targets(self, raw: npt.NDArray[Any], mask_stands: bool) -> dict[str, npt.NDArray[Any]]:
        """Encoded targets of raw (..., 14) labels: class indices and (..., 10) normalised values."""
        decoded = decode_targets(raw)
        out: dict[str, npt.NDArray[Any]] = {
            name: self.class_maps[name].encode(decoded.categorical[name]) for name in CATEGORICAL_NAMES
        }
        out["regression"] = stack(self.scaling.normalise(decoded.continuous), CONTINUOUS_NAMES)
        if mask_stands:
            ok = valid_pixels(raw, self.class_maps) & np.isin(decoded.stand_id, self._stand_ids)
            for name in CATEGORICAL_NAMES:
                out[name] = np.where(ok, out[name], IGNORE_INDEX)
            out["regression"] = np.where(ok[..., None], out["regression"], np.float32(np.nan))
        return out

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} {self.split} windows")
        index %= len(self)
        row, col = (int(v) for v in self.centres[index])
        half = self.window // 2
        image = self.processor.normalise(self.processor.read_window(self.cube, row, col, self.window))
        if self.dense:
            raw = self.labels.read_window(row - half, col - half, self.window)
            stand_id = int(raw[half, half, -1])
        else:
            raw = self.labels.read_window(row, col, 1)[0]  # (1, 14): decode_targets wants a batch axis
            stand_id = int(raw[0, -1])
        targets = self.targets(raw, mask_stands=self.dense)
        if not self.dense:
            targets = {k: v[0] for k, v in targets.items()}
        if self.flips:
            rng = np.random.default_rng(item_seed(self._epoch_seed, index))
            flip_h, flip_v = rng.random(2) < 0.5
            for axis, do in ((1, flip_h), (0, flip_v)):
                if do:
                    image = np.flip(image, axis)
                    if self.dense:
                        targets = {k: np.flip(v, axis) for k, v in targets.items()}
        item: dict[str, Any] = {
            "image": torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))),
            "stand_id": torch.tensor(stand_id, dtype=torch.int64),
            "centre": torch.tensor((row, col), dtype=torch.int64),
        }
        for name in CATEGORICAL_NAMES:
            item[name] = torch.from_numpy(np.array(targets[name], dtype=np.int64))
        regression = targets["regression"]
        for column, name in enumerate(CONTINUOUS_NAMES):
            item[name] = torch.from_numpy(np.array(regression[..., column], dtype=np.float32))
        return item

    def fitted_state(self) -> dict[str, Any]:
        """The target side of the training preprocessing, stored with checkpoints."""
        return self.preprocessing.to_dict()

    def centre_targets(self) -> dict[str, npt.NDArray[Any]]:
        """Every centre's encoded targets, read from the label raster alone (not the cube).

        Class indices and normalised values, one array per variable name in split order, and
        ``stand_id``.
        """
        view = self.labels.memmap()
        pixels = [np.asarray(view[r, c]) for r, c in self.centres.tolist()]
        raw = np.stack(pixels).reshape(-1, NUM_LABEL_BANDS)
        targets = self.targets(raw, mask_stands=False)
        out: dict[str, npt.NDArray[Any]] = {name: targets[name] for name in CATEGORICAL_NAMES}
        out.update({name: targets["regression"][:, i] for i, name in enumerate(CONTINUOUS_NAMES)})
        out["stand_id"] = raw[:, -1].astype(np.int64)
        return out

    def class_counts(self) -> dict[str, list[int]]:
        """Per categorical variable, how many of this split's centres fall in each kept class."""
        targets = self.centre_targets()
        counts: dict[str, list[int]] = {}
        for name in CATEGORICAL_NAMES:
            encoded = targets[name][targets[name] != IGNORE_INDEX]
            counts[name] = np.bincount(encoded, minlength=self.class_maps[name].num_classes).tolist()
        return counts

    def head_settings(self) -> dict[str, dict[str, Any]]:
        """What heads learn from this data, by target key: classes and their counts; scales and units.

        The trainer fills these into the recipe's head entries that leave them out, so a
        checkpoint's recipe records them (physical units and class names come back with it).
        """
        counts = self.class_counts()
        settings: dict[str, dict[str, Any]] = {}
        for variable in CATEGORICAL:
            codes = self.class_maps[variable.name].codes
            settings[variable.name] = {
                "num_classes": len(codes),
                "class_names": [f"{code} {variable.classes.get(code, '')}".strip() for code in codes],
                "class_frequencies": [float(n) for n in counts[variable.name]],
            }
        for continuous in CONTINUOUS:
            settings[continuous.name] = {"scale": self.scaling.p98[continuous.name], "unit": continuous.unit}
        return settings
