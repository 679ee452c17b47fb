"""The numbers a reader looks for first in a model's metrics, one row per (task, metric).

Each head class declares its own (``TaskHead.headlines``); datasets that train several heads add
their aggregates. Shared by ``spatialnet quickstart`` (its one table), the app's model card and
``eval/joint_vs_single.py``, so all of them name and scale every metric the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from spatialnet.heads.base import LOSS, Headline, TaskHead, head_class

MEAN_RMSE = Headline("mean_rmse", "mean RMSE of its value heads (p98 scale)", False, False)
# what a dataset's (or a recipe's ``overall``) aggregate over its heads reports
AGGREGATES: tuple[Headline, ...] = (
    Headline("mean_accuracy", "mean accuracy of its classifiers (%)"),
    MEAN_RMSE,
    LOSS,
)
AGGREGATE_HEADLINES: tuple[Headline, ...] = (MEAN_RMSE,)  # the 10 forest variables in one number
SHARED = "@"  # metrics of a head several datasets train are keyed "<head>@<dataset>"


def score_key(head: str, dataset: str, shared: bool) -> str:
    """The key of a head's metrics on one dataset: the head's name, or ``head@dataset`` when shared."""
    return f"{head}{SHARED}{dataset}" if shared else head


def head_of(key: str) -> str:
    """The head a metrics key belongs to (``vqa@rsivqa`` → ``vqa``)."""
    return key.split(SHARED, 1)[0]


def head_types(heads: Mapping[str, Mapping[str, Any]]) -> dict[str, type[TaskHead]]:
    """Head classes of a recipe's ``heads`` entries, without building the model."""
    classes = {name: head_class(str(spec.get("type"))) for name, spec in heads.items()}
    return {name: cls for name, cls in classes.items() if cls is not None}


def headline_values(
    metrics: Mapping[str, Any], heads: Mapping[str, TaskHead | type[TaskHead]]
) -> list[tuple[Headline, float]]:
    """The headlines found in ``metrics``, keyed by head as ``spatialnet evaluate`` writes them.

    A head several datasets train has one entry per dataset, ``head@dataset``.

    Heads come in the model's order with the metrics their class declares; then the aggregates
    of the other entries (a joint recipe's datasets). Each headline carries its ``task``.
    """
    found: list[tuple[Headline, float]] = []
    for task, values in metrics.items():
        if not isinstance(values, Mapping):
            continue
        head = head_of(task)
        declared = heads[head].headlines if head in heads else AGGREGATE_HEADLINES
        for headline in declared:
            value = values.get(headline.key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.append((dataclasses.replace(headline, task=task), float(value)))
    order = {task: i for i, task in enumerate(heads)}
    return sorted(found, key=lambda item: order.get(head_of(item[0].task), len(order)))


def formatted(headline: Headline, value: float) -> str:
    """``value`` as tables show it (×100 with one decimal, or three decimals)."""
    return f"{100 * value:.1f}" if headline.percent else f"{value:.3f}"
