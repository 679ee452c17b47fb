"""The datasets of a run and what the model learns from them before it is built.

Each dataset of a recipe gives its train and val splits and the preprocessing it fitted on train
(``fitted_state``); its ``head_settings()`` fill the heads' data-derived fields (class names and
counts, scales) into the recipe, and its sentences (``texts``, ``reference_sets``) train the text
heads' vocabularies and CIDEr statistics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from torch.utils.data import Dataset

from spatialnet.config import Recipe, SourceConfig
from spatialnet.errors import DataError
from spatialnet.heads.base import HEAD_REGISTRY


def fitted_state(dataset: Dataset[Any]) -> dict[str, Any] | None:
    """The preprocessing a dataset fitted on its split (TAIGA band statistics, class maps), if any."""
    method = getattr(dataset, "fitted_state", None)
    return method() if callable(method) else None


@dataclasses.dataclass
class SourceData:
    """One dataset of a run: its recipe entry, train and val splits and the state fitted on train."""

    name: str
    config: SourceConfig
    train: Dataset[Any]
    val: Dataset[Any]
    state: dict[str, Any] | None


def fill_head_settings(recipe: Recipe, dataset: Dataset[Any], tasks: list[str] | None = None) -> Recipe:
    """The recipe with data-derived head settings filled in where a head entry leaves them out.

    A dataset's ``head_settings()`` maps target keys to settings (class names and counts, scales,
    units); a head whose target matches gets the settings its config has fields for. The stored
    recipe then records them, so a checkpoint rebuilds the same heads without the data.
    """
    method = getattr(dataset, "head_settings", None)
    if not callable(method):
        return recipe
    settings: dict[str, dict[str, Any]] = method()
    heads = {}
    for name, spec in recipe.heads.items():
        if tasks is not None and name not in tasks:
            heads[name] = spec
            continue
        target = spec.get("target") or name
        cls = HEAD_REGISTRY.get(str(spec.get("type")))
        known = {f.name for f in dataclasses.fields(cls.config_class)} if cls else set()
        found = settings.get(target, {})
        heads[name] = {**{k: v for k, v in found.items() if k in known and k not in spec}, **spec}
    return dataclasses.replace(recipe, heads=heads)


def texts_of(datasets: list[Dataset[Any]], method: str = "texts") -> Callable[[str], Any] | None:
    """The datasets' ``method`` by batch key; None if no dataset has it.

    ``texts`` gives training sentences (vocabularies), ``reference_sets`` the references per image
    (CIDEr rewards).
    With several datasets, a key is answered by the first dataset that has sentences under it.
    """
    providers = [found for d in datasets if callable(found := getattr(d, method, None))]
    if len(providers) <= 1:
        return providers[0] if providers else None

    def first_with(key: str) -> Any:
        for provider in providers:
            try:
                return provider(key)
            except DataError:
                continue
        raise DataError(f"no dataset of the recipe has sentences under {key!r}")

    return first_with
