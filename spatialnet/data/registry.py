"""Dataset registry: recipe names (``data.dataset``) to dataset factories.

Factories take keyword arguments ``root, split, image_size, mean, std, augment`` so that
:func:`build_dataset` can build any registered dataset from a :class:`DataConfig`.
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
            "data.root is not set: point it at a folder with ucm_captions/dataset.json, "
            "e.g. one written by `spatialnet synth`"
        )
    augment = TrainAugment.from_config(config.augment) if train else None
    return DATASETS[config.dataset](
        root=Path(config.root),
        split=split,
        image_size=config.image_size,
        mean=tuple(config.mean),
        std=tuple(config.std),
        augment=augment,
    )


@register_dataset("ucm_landuse")
def ucm_landuse(root: Path, split: str, **kwargs: Any) -> Dataset[Any]:
    """UCM-captions as 21-class land-use classification (labels: scenes.jsonl or file names)."""
    from spatialnet.data.ucm import UCMCaptions  # deferred: registry imports stay light

    return UCMCaptions(root, split=split, **kwargs)


@register_dataset("ucm_captions")
def ucm_captions(root: Path, split: str, **kwargs: Any) -> Dataset[Any]:
    """UCM-captions with captions (batch keys ``captions``, ``references``) and land-use labels."""
    from spatialnet.data.ucm import UCMCaptions

    return UCMCaptions(root, split=split, with_captions=True, **kwargs)
