"""Dataset registry: recipe names (``data.dataset``) to dataset factories.

A factory takes ``(config, split, augment, state)``: the recipe's ``data`` section, the split
name, the training augmentation (None for evaluation) and the state fitted on the training split
(None when the dataset fits it itself), so a dataset reads the settings it needs.

A dataset may offer ``fitted_state()`` (preprocessing fitted on its training split, stored with
checkpoints and handed back to the evaluation splits) and ``head_settings()`` (what heads learn
from the data, such as class counts; see :func:`spatialnet.training.sources.fill_head_settings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from torch.utils.data import Dataset

from spatialnet.config import DataConfig
from spatialnet.data.transforms import TrainAugment
from spatialnet.errors import DataError

DatasetFactory = Callable[..., Dataset[Any]]
F = TypeVar("F", bound=DatasetFactory)

DATASETS: dict[str, DatasetFactory] = {}
INPUTS: dict[str, str] = {}  # dataset name -> what its items' images are: "image" (RGB) or "cube" windows


def register_dataset(name: str, reads: str = "image") -> Callable[[F], F]:
    """Decorator adding a dataset class or factory to :data:`DATASETS` under ``name``.

    ``reads`` says what a user hands a model trained on it: an ``image`` file or a hyperspectral
    ``cube`` (windows around pixels).
    """

    def decorator(factory: F) -> F:
        if name in DATASETS:
            raise ValueError(f"dataset '{name}' is already registered (by {DATASETS[name]!r})")
        DATASETS[name] = factory
        INPUTS[name] = reads
        return factory

    return decorator


def dataset_input(name: str) -> str:
    """``image`` or ``cube``: the input of dataset ``name`` (DataError when it is not registered)."""
    if name not in INPUTS:
        raise DataError(f"data.dataset: unknown dataset '{name}'; known: {', '.join(sorted(DATASETS))}")
    return INPUTS[name]


def build_dataset(
    config: DataConfig, split: str, train: bool, state: Mapping[str, Any] | None = None
) -> Dataset[Any]:
    """Dataset ``config.dataset`` for ``split``; ``train=True`` attaches ``config.augment``.

    ``state`` is the training split's ``fitted_state()`` (from a checkpoint, or the train dataset).
    """
    if config.dataset not in DATASETS:
        raise DataError(
            f"data.dataset: unknown dataset '{config.dataset}'; known: {', '.join(sorted(DATASETS))}"
        )
    if config.root is None:
        raise DataError(
            "data.root is not set: point it at a dataset folder (ucm_captions/, rsvqa_lr/), "
            "e.g. one written by `spatialnet synth`"
        )
    augment = TrainAugment.from_config(config.augment) if train else None
    return DATASETS[config.dataset](config, split, augment, state)


def _image_settings(config: DataConfig) -> dict[str, Any]:
    """Keyword arguments every image dataset shares."""
    return {"image_size": config.image_size, "mean": tuple(config.mean), "std": tuple(config.std)}


@register_dataset("ucm_landuse")
def ucm_landuse(
    config: DataConfig, split: str, augment: TrainAugment | None, state: Mapping[str, Any] | None
) -> Dataset[Any]:
    """UCM-captions as 21-class land-use classification (labels: scenes.jsonl or file names)."""
    from spatialnet.data.ucm import UCMCaptions  # deferred: registry imports stay light

    return UCMCaptions(Path(str(config.root)), split, augment=augment, **_image_settings(config))


@register_dataset("ucm_captions")
def ucm_captions(
    config: DataConfig, split: str, augment: TrainAugment | None, state: Mapping[str, Any] | None
) -> Dataset[Any]:
    """UCM-captions with captions (batch keys ``captions``, ``references``) and land-use labels."""
    from spatialnet.data.ucm import UCMCaptions

    return UCMCaptions(
        Path(str(config.root)), split, augment=augment, with_captions=True, **_image_settings(config)
    )


@register_dataset("rsvqa_lr")
def rsvqa_lr(
    config: DataConfig, split: str, augment: TrainAugment | None, state: Mapping[str, Any] | None
) -> Dataset[Any]:
    """RSVQA-LR in the official format: one item per image with all its questions and answers."""
    from spatialnet.data.rsvqa import RSVQALR

    return RSVQALR(
        Path(str(config.root)),
        split,
        augment=augment,
        questions_per_image=config.questions_per_image if augment is not None else 0,
        **_image_settings(config),
    )


@lru_cache(maxsize=4)
def _taiga_split(root: str, seed: int, window: int, block: int) -> Any:
    """The block split of a TAIGA folder, computed once per process (train, val and test share it)."""
    from spatialnet.data.taiga.split import make_split

    return make_split(root, seed, window, block)


@register_dataset("taiga", reads="cube")
def taiga(
    config: DataConfig, split: str, augment: TrainAugment | None, state: Mapping[str, Any] | None
) -> Dataset[Any]:
    """TAIGA hyperspectral windows (``image_size`` = window P) with the 13 forest targets.

    Dense targets and flips apply to training only: evaluation scores the window centres.
    """
    from spatialnet.data.taiga.dataset import TaigaPreprocessing, TaigaWindows

    if config.image_size % 2 == 0:
        raise DataError(
            f"data.image_size: TAIGA windows need an odd size (a centre pixel), got {config.image_size}"
        )
    if config.input_norm not in ("standardise", "minmax"):
        raise DataError(f"data.input_norm: {config.input_norm!r}; expected 'standardise' or 'minmax'")
    root = str(config.root)
    # split seed 0 for every run: seeds vary the training, not which blocks are validation
    splits = _taiga_split(root, 0, config.image_size, config.block)
    return TaigaWindows(
        root,
        split,
        window=config.image_size,
        bands=config.bands,
        dense=config.dense_targets and augment is not None,
        flips=augment is not None and (augment.hflip or augment.vflip),
        preprocessing=TaigaPreprocessing.from_dict(state) if state is not None else None,
        splits=splits,
        input_norm="minmax" if config.input_norm == "minmax" else "standardise",
    )
