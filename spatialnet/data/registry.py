"""Dataset registry: recipe names (``data.dataset``) to dataset factories.

A factory takes ``(config, split, augment)``: the recipe's ``data`` section, the split name and
the training augmentation (None for evaluation), so a dataset reads the settings it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from torch.utils.data import Dataset

from spatialnet.config import DataConfig
from spatialnet.data.transforms import TrainAugment
from spatialnet.errors import DataError

DatasetFactory = Callable[..., Dataset[Any]]
F = TypeVar("F", bound=DatasetFactory)

DATASETS: dict[str, DatasetFactory] = {}


def register_dataset(name: str) -> Callable[[F], F]:
    """Decorator adding a dataset class or factory to :data:`DATASETS` under ``name``."""

    def decorator(factory: F) -> F:
        if name in DATASETS:
            raise ValueError(f"dataset '{name}' is already registered (by {DATASETS[name]!r})")
        DATASETS[name] = factory
        return factory

    return decorator


def build_dataset(config: DataConfig, split: str, train: bool) -> Dataset[Any]:
    """Dataset ``config.dataset`` for ``split``; ``train=True`` attaches ``config.augment``."""
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
    return DATASETS[config.dataset](config, split, augment)


def _image_settings(config: DataConfig) -> dict[str, Any]:
    """Keyword arguments every image dataset shares."""
    return {"image_size": config.image_size, "mean": tuple(config.mean), "std": tuple(config.std)}


@register_dataset("ucm_landuse")
def ucm_landuse(config: DataConfig, split: str, augment: TrainAugment | None) -> Dataset[Any]:
    """UCM-captions as 21-class land-use classification (labels: scenes.jsonl or file names)."""
    from spatialnet.data.ucm import UCMCaptions  # deferred: registry imports stay light

    return UCMCaptions(Path(str(config.root)), split, augment=augment, **_image_settings(config))


@register_dataset("ucm_captions")
def ucm_captions(config: DataConfig, split: str, augment: TrainAugment | None) -> Dataset[Any]:
    """UCM-captions with captions (batch keys ``captions``, ``references``) and land-use labels."""
    from spatialnet.data.ucm import UCMCaptions

    return UCMCaptions(
        Path(str(config.root)), split, augment=augment, with_captions=True, **_image_settings(config)
    )


@register_dataset("rsvqa_lr")
def rsvqa_lr(config: DataConfig, split: str, augment: TrainAugment | None) -> Dataset[Any]:
    """RSVQA-LR in the official format: one item per image with all its questions and answers."""
    from spatialnet.data.rsvqa import RSVQALR

    return RSVQALR(
        Path(str(config.root)),
        split,
        augment=augment,
        questions_per_image=config.questions_per_image if augment is not None else 0,
        **_image_settings(config),
    )
