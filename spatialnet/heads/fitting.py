"""The fit stage of heads: what they learn from the training data before the model is built.

Text heads train their vocabularies here (or read them from the checkpoint the weights come
from), so building a head never reaches back into a dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from spatialnet.config import Recipe
from spatialnet.heads.base import HeadFit, TrainingText, head_config


def fit_heads(
    recipe: Recipe,
    data: Mapping[str, TrainingText] | None = None,
    checkpoint: Path | None = None,
    source: str = "recipe",
) -> dict[str, HeadFit]:
    """Every head's :class:`HeadFit`, in recipe order.

    ``data`` maps a head name to the training split it learns from; ``checkpoint`` is the folder
    whose weights the model will load (a head's saved files there win over fitting anew).
    """
    fits = {}
    for name, spec in recipe.heads.items():
        cls, config = head_config(name, spec, source)
        saved = checkpoint / name if checkpoint is not None else None
        fits[name] = cls.fit(config, (data or {}).get(name), saved)
    return fits


@dataclass(frozen=True)
class Sentences:
    """Sentences given directly rather than by a dataset (benchmarks, notebooks, tests).

    The same list answers every key; each sentence is its own reference set unless ``references``
    are given.
    """

    sentences: list[str]
    references: list[list[str]] | None = None

    def texts(self, key: str) -> list[str]:  # noqa: D102
        return list(self.sentences)

    def reference_sets(self, key: str) -> list[list[str]]:  # noqa: D102
        return self.references if self.references is not None else [[s] for s in self.sentences]
