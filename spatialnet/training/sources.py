"""The datasets of a run and what is fitted on them before the model is built.

Each dataset of a recipe gives its train and val splits and what its training split fitted
(:class:`~spatialnet.data.base.Fitted`: the input processor, and a state such as TAIGA's class
maps); its ``head_settings()`` fill the heads' data-derived fields (class names and counts,
scales) into the recipe, and its sentences fit the text heads (:func:`fit_heads`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from spatialnet.config import Recipe, SourceConfig
from spatialnet.data.base import Fitted, RecipeDataset
from spatialnet.data.registry import build_dataset
from spatialnet.errors import DataError
from spatialnet.heads.base import HeadFit, TrainingText, head_class
from spatialnet.heads.fitting import fit_heads
from spatialnet.model import resolved_recipe


@dataclasses.dataclass
class SourceData:
    """One dataset of a run: its recipe entry, train and val splits and what train fitted."""

    name: str
    config: SourceConfig
    train: RecipeDataset
    val: RecipeDataset
    fitted: Fitted


def load_sources(recipe: Recipe) -> dict[str, SourceData]:
    """Train and val splits of every dataset the recipe reads; val gets what train fitted."""
    sources = {}
    for name, entry in recipe.sources().items():
        data = entry.data
        train_set = build_dataset(data, data.train_split, train=True)
        fitted = Fitted.of(train_set)
        val_set = build_dataset(data, data.val_split, train=False, fitted=fitted)
        for split, dataset in ((data.train_split, train_set), (data.val_split, val_set)):
            if len(dataset) == 0:
                raise DataError(f"{data.root}: the '{split}' split of {data.dataset} has no samples")
        sources[name] = SourceData(name, entry, train_set, val_set, fitted)
    return sources


def fill_head_settings(
    recipe: Recipe, datasets: RecipeDataset | Sequence[tuple[RecipeDataset, list[str] | None]]
) -> Recipe:
    """The recipe with data-derived head settings filled in where a head entry leaves them out.

    ``datasets`` are training splits, each with the heads it trains (None: every head). A
    dataset's ``head_settings()`` maps target keys to settings (class names and counts, scales,
    units, answers); a head whose target matches gets the settings its config has fields for,
    combined by the head class when several datasets train it (:meth:`TaskHead.merge_settings`).
    The stored recipe then records them, so a checkpoint rebuilds the same heads without the data.
    """
    pairs = [(datasets, None)] if isinstance(datasets, RecipeDataset) else list(datasets)
    heads = {}
    for name, spec in recipe.heads.items():
        target = spec.get("target") or name
        cls = head_class(str(spec.get("type")))
        known = {f.name for f in dataclasses.fields(cls.config_class)} if cls else set()
        found = [
            {k: v for k, v in settings[target].items() if k in known}
            for dataset, tasks in pairs
            if tasks is None or name in tasks
            if target in (settings := dataset.head_settings())
        ]
        if not found or cls is None:
            heads[name] = spec
            continue
        merged = cls.merge_settings(found)
        heads[name] = {**{k: v for k, v in merged.items() if k not in spec}, **spec}
    return dataclasses.replace(recipe, heads=heads)


@dataclasses.dataclass(frozen=True)
class PooledText:
    """The training sentences of several datasets that train one head (its vocabulary's corpus)."""

    parts: tuple[RecipeDataset, ...]

    def texts(self, key: str) -> list[str]:  # noqa: D102
        return [text for part in self.parts for text in part.texts(key)]

    def reference_sets(self, key: str) -> list[list[str]]:  # noqa: D102
        return [refs for part in self.parts for refs in part.reference_sets(key)]


def fit_run(
    recipe: Recipe, sources: dict[str, SourceData], checkpoint: Path | None
) -> tuple[Recipe, dict[str, HeadFit]]:
    """The fit stage: the recipe with data-derived head settings, and every head's fit.

    The returned recipe is fully resolved (every head field and backbone option written out), as
    the run stores it. Each head learns from the training splits of the datasets whose tasks list
    it; ``checkpoint`` is the folder the weights will come from (its vocabularies win, see
    :func:`fit_heads`).
    """
    recipe = fill_head_settings(recipe, [(source.train, source.config.tasks) for source in sources.values()])
    recipe = resolved_recipe(recipe)
    data: dict[str, TrainingText] = {}
    for task in recipe.heads:
        trains = [source.train for source in sources.values() if task in source.config.tasks]
        if trains:
            data[task] = trains[0] if len(trains) == 1 else PooledText(tuple(trains))
    return recipe, fit_heads(recipe, data, checkpoint)
