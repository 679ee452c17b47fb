"""The stand-disjoint TAIGA split of the published baseline (Mõttus et al.; aalto-cbir/AIROBEST).

``specs/taiga.md``, "Split": tile the label raster with non-overlapping 13 x 13 blocks (centres at
rows/cols 6, 19, 32, ...); a block is a sample when all its pixels are labelled and all belong to
one stand set (training or holdout); its centre pixel is the sample centre and the input is the
P x P window around it. Training blocks are split 90/10 into train/val with a seeded shuffle;
test is every holdout block. Labels are stand-disjoint between train/val and test; windows may
still see pixels of neighbouring stands (the dense targets mask those, see ``dataset.py``).

Choices this module makes where the spec is silent:

- "Labelled" (every pixel of a block) means stand id > 0, i.e. the label raster's data mask.
- The block centre must also be a *valid sample centre* (spec, "Targets"): LAI > 0, all three
  categorical labels kept after the < 5 % class removal, and the whole P x P window inside the
  image and free of no-data (cube band sum over *all* bands == 0).
- Class removal (:class:`ClassMap`) and the p98 scaling are fitted on the pixels of the training
  stands only, so nothing about holdout labels shapes the split or the targets.
- Stands listed in ``bad_stands_updated_15092020.csv`` (when the file exists) are dropped from
  both sets, as the baseline excluded them.
- train / val / test centres are returned in raster order (row-major), each as (N, 2) int64.

Everything that touches a raster works on chunks of rows (with a halo of P // 2 rows for the
window test), so memory stays bounded by the chunk size on the 12,143 x 12,826 x 128 real mosaic.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from spatialnet.data.taiga.envi import EnviImage, open_envi
from spatialnet.data.taiga.labels import (
    CATEGORICAL,
    CONTINUOUS_NAMES,
    NUM_LABEL_BANDS,
    ClassMap,
    ContinuousScaling,
    decode_targets,
)
from spatialnet.data.taiga.stands import (
    BAD_STANDS_CSV,
    STANDS_CSV,
    StandSplit,
    read_bad_stands,
    read_stand_split,
)
from spatialnet.errors import DataError
from spatialnet.labels import IGNORE_INDEX

CUBE_NAME = "20170615_reflectance_mosaic_128b"
LABEL_NAME = "forestdata_stands"
BLOCK = 13  # the baseline's block side (px)
WINDOW = 45  # the baseline's input window side P (px)
VAL_FRACTION = 0.1
SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")
# Values (rows x samples x bands) read per chunk when scanning a raster: ~16 MB of int32 per chunk.
CHUNK_VALUES = 1 << 22

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class TaigaSplit:
    """Sample centres (row, col) of each split, each an (N, 2) int64 array in raster order."""

    train: IntArray
    val: IntArray
    test: IntArray

    def get(self, name: str) -> IntArray:
        """The centres of split ``name`` (train, val or test)."""
        if name not in SPLIT_NAMES:
            raise ValueError(f"unknown TAIGA split {name!r}, expected one of {SPLIT_NAMES}")
        centres: IntArray = getattr(self, name)
        return centres

    def counts(self) -> dict[str, int]:
        """Number of samples per split."""
        return {name: len(self.get(name)) for name in SPLIT_NAMES}


def resolve_taiga_root(root: str | os.PathLike[str]) -> Path:
    """The folder holding the TAIGA files: ``root`` itself or ``root/taiga``."""
    p = Path(root)
    for candidate in (p, p / "taiga"):
        if (candidate / f"{LABEL_NAME}.hdr").is_file():
            return candidate
    raise DataError(f"{p}: no TAIGA label raster {LABEL_NAME}.hdr here or in {p / 'taiga'}")


def stand_sets(root: str | os.PathLike[str]) -> StandSplit:
    """The official training/holdout stands of ``root``, without the bad stands when that file exists."""
    folder = resolve_taiga_root(root)
    split = read_stand_split(folder / STANDS_CSV)
    bad = folder / BAD_STANDS_CSV
    return split.without(read_bad_stands(bad)) if bad.is_file() else split


def _chunk_rows(samples: int, bands: int) -> int:
    return max(1, CHUNK_VALUES // max(1, samples * bands))


def _label_chunks(labels: EnviImage, step: int | None = None) -> Iterator[tuple[int, int, npt.NDArray[Any]]]:
    """(r0, r1, raw label rows) over the raster, one bounded chunk of ``step`` rows at a time."""
    if labels.shape[2] != NUM_LABEL_BANDS:
        raise DataError(f"{labels.path}: expected {NUM_LABEL_BANDS} label bands, got {labels.shape[2]}")
    lines, samples, _ = labels.shape
    step = step or _chunk_rows(samples, NUM_LABEL_BANDS)
    view = labels.memmap()
    for r0 in range(0, lines, step):
        r1 = min(lines, r0 + step)
        yield r0, r1, np.asarray(view[r0:r1])


def fit_label_rules(
    labels: EnviImage, training_stands: Collection[int], min_fraction: float = 0.05, percentile: float = 98.0
) -> tuple[dict[str, ClassMap], ContinuousScaling]:
    """Class maps (< ``min_fraction`` classes removed) and p98 scaling from the training stands' pixels.

    Class counts stream over chunks; the percentile needs the values themselves, so the training
    pixels' ten continuous values are gathered as float32 (40 bytes a labelled training pixel).
    """
    train_ids = np.fromiter(training_stands, dtype=np.int64)
    counts: dict[str, dict[int, int]] = {v.name: {} for v in CATEGORICAL}
    values: dict[str, list[npt.NDArray[np.float32]]] = {name: [] for name in CONTINUOUS_NAMES}
    ids: list[IntArray] = []
    for _, _, raw in _label_chunks(labels):
        targets = decode_targets(raw)
        keep = np.isin(targets.stand_id, train_ids)
        for v in CATEGORICAL:
            codes, n = np.unique(targets.categorical[v.name][keep], return_counts=True)
            for code, k in zip(codes.tolist(), n.tolist(), strict=True):
                if code != 0:
                    counts[v.name][code] = counts[v.name].get(code, 0) + k
        for name in CONTINUOUS_NAMES:
            values[name].append(targets.continuous[name][keep])
        ids.append(targets.stand_id[keep])
    maps = {v.name: ClassMap.from_counts(v.name, counts[v.name], min_fraction) for v in CATEGORICAL}
    for name, m in maps.items():
        if m.num_classes == 0:
            raise DataError(f"{labels.path}: no {name} labels on the training stands")
    stacked = {name: np.concatenate(parts) for name, parts in values.items()}
    scaling = ContinuousScaling.fit(stacked, np.concatenate(ids), training_stands, percentile)
    return maps, scaling


def training_label_rules(folder: Path) -> tuple[dict[str, ClassMap], ContinuousScaling]:
    """:func:`fit_label_rules` on a TAIGA folder's training stands, once per process and file version.

    The split and the preprocessing both need them, and on the real ~9 GB label raster one pass
    takes minutes; the cache key includes the label file's and stand table's size and mtime.
    """
    versions = tuple(
        (stat.st_mtime_ns, stat.st_size)
        for stat in (path.stat() for path in (folder / LABEL_NAME, folder / STANDS_CSV))
    )
    return _training_label_rules(str(folder), versions)


@lru_cache(maxsize=4)
def _training_label_rules(
    folder: str, versions: tuple[tuple[int, int], ...]
) -> tuple[dict[str, ClassMap], ContinuousScaling]:
    labels = open_envi(Path(folder) / f"{LABEL_NAME}.hdr")
    return fit_label_rules(labels, stand_sets(folder).training)


def valid_pixels(raw_labels: npt.NDArray[Any], class_maps: dict[str, ClassMap]) -> BoolArray:
    """Pixels whose labels make a sample: LAI > 0 and all three categorical labels kept."""
    targets = decode_targets(raw_labels)
    ok: BoolArray = np.nan_to_num(targets.continuous["lai"], nan=0.0) > 0
    for v in CATEGORICAL:
        ok &= class_maps[v.name].encode(targets.categorical[v.name]) != IGNORE_INDEX
    return ok


def _nodata_rows(cube: EnviImage, r0: int, r1: int) -> BoolArray:
    """No-data mask of rows r0..r1-1: band sum over all bands == 0 (summed band by band)."""
    view = cube.memmap()
    total = np.zeros((r1 - r0, cube.shape[1]), dtype=np.int64)
    for b in range(cube.shape[2]):
        total += view[r0:r1, :, b]
    result: BoolArray = total == 0
    return result


def valid_centre_mask(
    labels: EnviImage, cube: EnviImage, class_maps: dict[str, ClassMap], window: int = WINDOW
) -> tuple[BoolArray, IntArray]:
    """(valid sample centres, stand id raster), both (lines, samples), computed chunk by chunk.

    A centre is valid when :func:`valid_pixels` holds and its ``window`` x ``window`` window lies
    inside the image and holds no no-data pixel. The no-data test reads each chunk with a halo of
    ``window // 2`` rows, so a window is judged on the real neighbouring rows.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be an odd positive size, got {window}")
    if labels.shape[:2] != cube.shape[:2]:
        raise DataError(
            f"{labels.path}: {labels.shape[:2]} (lines, samples), but the cube {cube.path}"
            f" has {cube.shape[:2]}"
        )
    lines, samples, _ = labels.shape
    half = window // 2
    valid = np.zeros((lines, samples), dtype=bool)
    stand_id = np.zeros((lines, samples), dtype=np.int64)
    step = max(_chunk_rows(samples, max(NUM_LABEL_BANDS, 8)), half + 1)
    for r0, r1, raw in _label_chunks(labels, step):
        stand_id[r0:r1] = raw[..., -1]
        ok = valid_pixels(raw, class_maps)
        if ok.any():
            h0, h1 = max(0, r0 - half), min(lines, r1 + half)
            nodata = _nodata_rows(cube, h0, h1)
            # Outside the image counts as no-data (cval): the window must lie inside. Rows padded
            # above/below an inner halo are more than ``half`` rows from the chunk, so unused.
            near = ndimage.maximum_filter(nodata, size=window, mode="constant", cval=True)
            ok &= ~near[r0 - h0 : r0 - h0 + (r1 - r0)]
        valid[r0:r1] = ok
    return valid, stand_id


def block_split(
    stand_id: npt.NDArray[np.integer[Any]],
    label_mask: npt.NDArray[np.bool_],
    training_stands: Collection[int],
    holdout_stands: Collection[int],
    seed: int,
    block: int = BLOCK,
    val_fraction: float = VAL_FRACTION,
    window: int = WINDOW,
    centre_mask: npt.NDArray[np.bool_] | None = None,
) -> TaigaSplit:
    """The baseline's block split of a (lines, samples) stand-id raster.

    ``label_mask``: labelled pixels (every pixel of a kept block must be in it). ``centre_mask``
    (optional, e.g. from :func:`valid_centre_mask`): pixels allowed as sample centres. A block is
    kept when all its pixels are labelled and all are training stands or all holdout stands, its
    centre passes ``centre_mask`` and the ``window`` around the centre lies inside the image.
    Training blocks are shuffled with ``numpy.random.default_rng(seed)``; the first
    ``round(val_fraction * n)`` become val, the rest train.
    """
    stand_id = np.asarray(stand_id)
    label_mask = np.asarray(label_mask, dtype=bool)
    if stand_id.ndim != 2 or label_mask.shape != stand_id.shape:
        raise ValueError(
            f"stand_id {stand_id.shape} and label_mask {label_mask.shape} must be equal 2-D shapes"
        )
    if centre_mask is not None and np.shape(centre_mask) != stand_id.shape:
        raise ValueError(f"centre_mask {np.shape(centre_mask)} must have the shape {stand_id.shape}")
    if block < 1 or window < 1 or not 0.0 <= val_fraction < 1.0:
        raise ValueError(
            f"need block >= 1, window >= 1, 0 <= val_fraction < 1; got {block}, {window}, {val_fraction}"
        )
    overlap = set(training_stands) & set(holdout_stands)
    if overlap:
        raise ValueError(f"stands in both sets: {sorted(overlap)[:10]}")
    lines, samples = stand_id.shape
    nr, nc = lines // block, samples // block
    if nr == 0 or nc == 0:
        empty = np.zeros((0, 2), dtype=np.int64)
        return TaigaSplit(empty, empty.copy(), empty.copy())

    def all_in(mask: BoolArray) -> BoolArray:
        tiles = mask[: nr * block, : nc * block].reshape(nr, block, nc, block)
        result: BoolArray = np.asarray(tiles.all(axis=(1, 3)), dtype=bool)
        return result

    in_train = np.isin(stand_id, np.fromiter(training_stands, dtype=np.int64)) & label_mask
    in_hold = np.isin(stand_id, np.fromiter(holdout_stands, dtype=np.int64)) & label_mask
    rows = np.arange(nr) * block + block // 2
    cols = np.arange(nc) * block + block // 2
    half = window // 2
    centre_ok = ((rows - half >= 0) & (rows + half < lines))[:, None] & (
        (cols - half >= 0) & (cols + half < samples)
    )[None, :]
    if centre_mask is not None:
        centre_ok &= np.asarray(centre_mask, dtype=bool)[np.ix_(rows, cols)]

    def centres(keep: BoolArray) -> IntArray:
        bi, bj = np.nonzero(keep)
        return np.stack([rows[bi], cols[bj]], axis=1).astype(np.int64).reshape(-1, 2)

    training = centres(all_in(in_train) & centre_ok)
    test = centres(all_in(in_hold) & centre_ok)
    order = np.random.default_rng(seed).permutation(len(training))
    n_val = int(round(val_fraction * len(training)))
    is_val = np.zeros(len(training), dtype=bool)
    is_val[order[:n_val]] = True
    return TaigaSplit(train=training[~is_val], val=training[is_val], test=test)


def make_split(
    root: str | os.PathLike[str],
    seed: int = 0,
    window: int = WINDOW,
    block: int = BLOCK,
    val_fraction: float = VAL_FRACTION,
    class_maps: dict[str, ClassMap] | None = None,
) -> TaigaSplit:
    """The block split of a TAIGA folder (or a folder containing ``taiga/``), from its files alone.

    ``class_maps`` default to those fitted on the training stands (:func:`fit_label_rules`).
    """
    folder = resolve_taiga_root(root)
    labels = open_envi(folder / f"{LABEL_NAME}.hdr")
    cube = open_envi(folder / f"{CUBE_NAME}.hdr")
    sets = stand_sets(folder)
    if class_maps is None:
        class_maps, _ = training_label_rules(folder)
    valid, stand_id = valid_centre_mask(labels, cube, class_maps, window)
    return block_split(
        stand_id,
        stand_id > 0,
        sets.training,
        sets.holdout,
        seed,
        block=block,
        val_fraction=val_fraction,
        window=window,
        centre_mask=valid,
    )


def read_centre_labels(
    labels: EnviImage, centres: Sequence[tuple[int, int]] | IntArray
) -> npt.NDArray[np.int32]:
    """The raw 14-band label vectors at ``centres`` ((N, 2) rows/cols), read pixel by pixel."""
    view = labels.memmap()
    pts = np.asarray(centres, dtype=np.int64).reshape(-1, 2)
    out = np.zeros((len(pts), NUM_LABEL_BANDS), dtype=np.int32)
    for i, (r, c) in enumerate(pts.tolist()):
        out[i] = view[r, c]
    return out
