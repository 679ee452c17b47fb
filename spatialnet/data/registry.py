"""Dataset registry: recipe names (``data.dataset``) to dataset factories.

Each dataset family (a folder under ``spatialnet/data/``) registers its datasets when imported,
with :func:`register_dataset`; the built-in families are imported on the first lookup. A factory
takes ``(config, split, augment, fitted)``: the recipe's ``data`` section, the split name, the
training augmentation (None for evaluation) and what the training split fitted (None when the
dataset is the training split and fits it itself), and returns a
:class:`~spatialnet.data.base.RecipeDataset`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from spatialnet.config import DataConfig
from spatialnet.errors import DataError

if TYPE_CHECKING:  # the registry stays light: listing datasets loads no torch
    from spatialnet.data.base import Fitted, RecipeDataset
    from spatialnet.data.transforms import TrainAugment

DatasetFactory = Callable[[DataConfig, str, "TrainAugment | None", "Fitted | None"], "RecipeDataset"]
F = TypeVar("F", bound=DatasetFactory)

BUILT_IN_FAMILIES = (
    "spatialnet.data.ucm",
    "spatialnet.data.rsvqa",
    "spatialnet.data.rsivqa",
    "spatialnet.data.taiga",
    "spatialnet.data.hf",
)
DATASETS: dict[str, DatasetFactory] = {}
INPUTS: dict[str, str] = {}  # dataset name -> what its items' images are: "image" (RGB) or "cube" windows
ASKS: dict[str, str] = {}  # VQA dataset name -> the question set its questions are asked in


def register_dataset(name: str, reads: str = "image", question_set: str | None = None) -> Callable[[F], F]:
    """Decorator adding a dataset factory to :data:`DATASETS` under ``name``.

    ``reads`` says what a user hands a model trained on it: an ``image`` file or a hyperspectral
    ``cube`` (windows around pixels); ``question_set`` names a VQA dataset's question set
    (:mod:`spatialnet.data.question_sets`), in which a person's question is then answered.
    """

    def decorator(factory: F) -> F:
        if name in DATASETS:
            raise ValueError(f"dataset '{name}' is already registered (by {DATASETS[name]!r})")
        DATASETS[name] = factory
        INPUTS[name] = reads
        if question_set is not None:
            ASKS[name] = question_set
        return factory

    return decorator


def registered() -> dict[str, DatasetFactory]:
    """Every registered dataset factory by name (the built-in families included)."""
    for family in BUILT_IN_FAMILIES:
        importlib.import_module(family)  # registers on first import
    return DATASETS


def _known(name: str) -> DatasetFactory:
    datasets = registered()
    if name not in datasets:
        raise DataError(f"data.dataset: unknown dataset '{name}'; known: {', '.join(sorted(datasets))}")
    return datasets[name]


def dataset_input(name: str) -> str:
    """``image`` or ``cube``: the input of dataset ``name`` (DataError when it is not registered)."""
    _known(name)
    return INPUTS[name]


def dataset_question_set(name: str) -> str | None:
    """The question set dataset ``name`` asks in (None for datasets without questions)."""
    _known(name)
    return ASKS.get(name)


def build_dataset(config: DataConfig, split: str, train: bool, fitted: Fitted | None = None) -> RecipeDataset:
    """Dataset ``config.dataset`` for ``split``; ``train=True`` attaches ``config.augment``.

    ``fitted`` is what the training split fitted (from a checkpoint, or the train dataset).
    """
    factory = _known(config.dataset)
    if config.root is None:
        raise DataError(
            "data.root is not set: point it at a dataset folder (ucm_captions/, rsvqa_lr/), "
            "e.g. one written by `spatialnet synth` (hf_* datasets: a datasets folder, parquet or a hub name)"
        )
    from spatialnet.data.transforms import TrainAugment

    augment = TrainAugment.from_config(config.augment) if train else None
    return factory(config, split, augment, fitted)
