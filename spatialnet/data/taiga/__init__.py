"""TAIGA hyperspectral forest dataset (Mõttus et al.): ENVI images, labels, stands; registers ``taiga``.

``taiga`` reads windows of the cube with the 13 forest targets of their centre pixels.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from spatialnet.config import DataConfig
from spatialnet.data.registry import register_dataset
from spatialnet.data.taiga.envi import INTERLEAVES, EnviImage, header_path_for, open_envi, write_envi
from spatialnet.data.taiga.labels import (
    CATEGORICAL,
    CATEGORICAL_NAMES,
    CONTINUOUS,
    CONTINUOUS_NAMES,
    NUM_LABEL_BANDS,
    STAND_ID_BAND,
    CategoricalVariable,
    ClassMap,
    ContinuousScaling,
    ContinuousVariable,
    Targets,
    class_counts,
    decode_targets,
    kept_classes,
    stack,
)
from spatialnet.data.taiga.stands import (
    BAD_STANDS_CSV,
    STAND_SETS,
    STANDS_CSV,
    StandSplit,
    read_bad_stands,
    read_stand_split,
)
from spatialnet.errors import DataError

if TYPE_CHECKING:  # importing the family (e.g. for its ENVI reader) loads no torch
    from spatialnet.data.base import Fitted, RecipeDataset
    from spatialnet.data.transforms import TrainAugment


@lru_cache(maxsize=4)
def _taiga_split(root: str, seed: int, window: int, block: int) -> Any:
    """The block split of a TAIGA folder, computed once per process (train, val and test share it)."""
    from spatialnet.data.taiga.split import make_split

    return make_split(root, seed, window, block)


@register_dataset("taiga", reads="cube")
def taiga(
    config: DataConfig, split: str, augment: TrainAugment | None, fitted: Fitted | None
) -> RecipeDataset:
    """TAIGA hyperspectral windows (``image_size`` = window P) with the 13 forest targets.

    Dense targets and flips apply to training only: evaluation scores the window centres.
    """
    from spatialnet.data.taiga.dataset import TaigaPreprocessing, TaigaWindows
    from spatialnet.processors import HyperspectralProcessor

    if config.image_size % 2 == 0:
        raise DataError(
            f"data.image_size: TAIGA windows need an odd size (a centre pixel), got {config.image_size}"
        )
    if config.input_norm not in ("standardise", "minmax"):
        raise DataError(f"data.input_norm: {config.input_norm!r}; expected 'standardise' or 'minmax'")
    preprocessing = None
    if fitted is not None:
        if not isinstance(fitted.processor, HyperspectralProcessor) or fitted.state is None:
            raise DataError("taiga: the fitted state needs a hyperspectral processor and class maps")
        preprocessing = TaigaPreprocessing.from_dict(fitted.state, fitted.processor)
    root = str(config.root)
    # split seed 0 for every run: seeds vary the training, not which blocks are validation
    return TaigaWindows(
        root,
        split,
        window=config.image_size,
        bands=config.bands,
        dense=config.dense_targets and augment is not None,
        flips=augment is not None and (augment.hflip or augment.vflip),
        preprocessing=preprocessing,
        splits=_taiga_split(root, 0, config.image_size, config.block),
        input_norm="minmax" if config.input_norm == "minmax" else "standardise",
    )


__all__ = [
    "BAD_STANDS_CSV",
    "CATEGORICAL",
    "CATEGORICAL_NAMES",
    "CONTINUOUS",
    "CONTINUOUS_NAMES",
    "INTERLEAVES",
    "NUM_LABEL_BANDS",
    "STANDS_CSV",
    "STAND_ID_BAND",
    "STAND_SETS",
    "CategoricalVariable",
    "ClassMap",
    "ContinuousScaling",
    "ContinuousVariable",
    "EnviImage",
    "StandSplit",
    "Targets",
    "class_counts",
    "decode_targets",
    "header_path_for",
    "kept_classes",
    "open_envi",
    "read_bad_stands",
    "read_stand_split",
    "stack",
    "write_envi",
]
