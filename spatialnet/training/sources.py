"""The datasets of a run and what is fitted on them before the model is built.

Each dataset of a recipe gives its train and val splits and what its training split fitted
(:class:`~spatialnet.data.base.Fitted`: the input processor, and a state such as TAIGA's class
maps); its ``head_settings()`` fill the heads' data-derived fields (class names and counts,
scales) into the recipe, and its sentences fit the text heads (:func:`fit_heads`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from spatialnet.config import Recipe, SourceConfig
from spatialnet.data.base import Fitted, RecipeDataset
from spatialnet.data.registry import build_dataset
from spatialnet.errors import DataError
from spatialnet.heads.base import HeadFit, head_class
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


def fill_head_settings(recipe: Recipe, dataset: RecipeDataset, tasks: list[str] | None = None) -> Recipe:
    """The recipe with data-derived head settings filled in where a head entry leaves them out.

    A dataset's ``head_settings()`` maps target keys to settings (class names and counts, scales,
    units); a head whose target matches gets the settings its config has fields for. The stored
    recipe then records them, so a checkpoint rebuilds the same heads without the data.
    """
    settings = dataset.head_settings()
    if not settings:
        return recipe
    heads = {}
    for name, spec in recipe.heads.items():
        if tasks is not None and name not in tasks:
            heads[name] = spec
            continue
        target = spec.get("target") or name
        cls = head_class(str(spec.get("type")))
        known = {f.name for f in dataclasses.fields(cls.config_class)} if cls else set()
        found = settings.get(target, {})
        heads[name] = {**{k: v for k, v in found.items() if k in known and k not in spec}, **spec}
    return dataclasses.replace(recipe, heads=heads)


def fit_run(
    recipe: Recipe, sources: dict[str, SourceData], checkpoint: Path | None
) -> tuple[Recipe, dict[str, HeadFit]]:
    """The fit stage: the recipe with data-derived head settings, and every head's fit.

    The returned recipe is fully resolved (every head field and backbone option written out), as
    the run stores it. Each head learns from the training split of the dataset whose tasks list
    it; ``checkpoint`` is the folder the weights will come from (its vocabularies win, see
    :func:`fit_heads`).
    """
    for source in sources.values():
        recipe = fill_head_settings(recipe, source.train, source.config.tasks)
    recipe = resolved_recipe(recipe)
    data = {task: source.train for source in sources.values() for task in source.config.tasks}
    return recipe, fit_heads(recipe, data, checkpoint)
