"""``RecipeDataset``: what the trainer, evaluation and the fit stage may ask of a dataset.

Every registered dataset derives from it. Beyond ``__len__``/``__getitem__`` (dictionaries of
tensors and lists, see :mod:`spatialnet.data.collate`) a dataset declares:

- ``processor``: how its raw pixels become model input, fitted on the training split and handed
  to the evaluation splits, the predictor and maps through the checkpoint;
- ``fitted_state()``: what else it fitted on the training split (class maps, target scales);
- ``head_settings()``: what heads learn from the data (class names and counts, units), filled into
  the recipe before the model is built;
- ``texts(key)`` / ``reference_sets(key)``: the sentences under a batch key, for the heads'
  vocabularies and CIDEr statistics (fitted before the model is built, too);
- ``set_epoch(seed)``: reseeds augmentation, called by the trainer every epoch.

The defaults say "nothing of that kind", so a dataset only writes what it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch.utils.data import Dataset

from spatialnet.config import DataConfig
from spatialnet.errors import DataError
from spatialnet.processors import ImageProcessor, Processor


class RecipeDataset(Dataset[dict[str, Any]]):
    """Base class of the datasets a recipe names (``data.dataset``)."""

    processor: Processor
    split: str

    def __len__(self) -> int:
        raise NotImplementedError

    def fitted_state(self) -> dict[str, Any] | None:
        """State fitted on the training split besides the processor (None: nothing)."""
        return None

    def head_settings(self) -> dict[str, dict[str, Any]]:
        """Data-derived head settings by target key (empty: none)."""
        return {}

    def texts(self, key: str) -> list[str]:
        """Every sentence of the split under batch key ``key``."""
        raise DataError(f"{type(self).__name__} has no sentences under {key!r}")

    def reference_sets(self, key: str) -> list[list[str]]:
        """Every item's reference sentences under batch key ``key``."""
        raise DataError(f"{type(self).__name__} has no reference sentences under {key!r}")

    def set_epoch(self, seed: int) -> None:
        """Reseed the split's randomness for an epoch (default: it has none)."""
        return None


@dataclass(frozen=True)
class Fitted:
    """What a training split fitted, handed to its other splits: the input processor and any state."""

    processor: Processor
    state: dict[str, Any] | None = None

    @classmethod
    def of(cls, dataset: RecipeDataset) -> Fitted:
        """What ``dataset`` (a training split) fitted."""
        return cls(dataset.processor, dataset.fitted_state())


def image_processor(config: DataConfig, fitted: Fitted | None) -> ImageProcessor:
    """An image dataset's processor: the fitted one, else the recipe's (its fit reads the recipe)."""
    if fitted is None:
        return ImageProcessor.from_config(config)
    if not isinstance(fitted.processor, ImageProcessor):
        raise DataError(f"{config.dataset}: expected an image processor, got a {fitted.processor.kind} one")
    return fitted.processor
