"""The numbers a reader looks for first in a model's metrics, one row per (task, metric).

Shared by ``spatialnet quickstart`` (its one table) and ``eval/joint_vs_single.py`` (joint and
single-task runs side by side), so both name and scale every metric the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Headline:
    """One headline metric: where it sits in the metrics, how it is shown, which way is better."""

    task: str  # head name, or a joint recipe's dataset name for its aggregates (e.g. "taiga")
    key: str  # metric name under the task
    label: str
    percent: bool = True  # shown ×100
    higher_is_better: bool = True


HEADLINES: tuple[Headline, ...] = (
    Headline("captions", "Bleu_4", "BLEU-4"),
    Headline("captions", "METEOR", "METEOR"),
    Headline("captions", "ROUGE_L", "ROUGE-L"),
    Headline("captions", "CIDEr", "CIDEr"),
    Headline("landuse", "accuracy", "accuracy (%)"),
    Headline("vqa", "presence", "presence (%)"),
    Headline("vqa", "comp", "comparison (%)"),
    Headline("vqa", "count", "count (%)"),
    Headline("vqa", "rural_urban", "rural/urban (%)"),
    Headline("vqa", "AA", "AA (%)"),
    Headline("vqa", "OA", "OA (%)"),
    Headline("fertility", "accuracy", "OA (%)"),
    Headline("soil", "accuracy", "OA (%)"),
    Headline("species", "accuracy", "OA (%)"),
    Headline("taiga", "mean_rmse", "mean RMSE, 10 variables (p98 scale)", False, False),
)


def headline_values(metrics: dict[str, Any]) -> list[tuple[Headline, float]]:
    """The headlines ``metrics`` (``spatialnet evaluate``'s, keyed by head) has, with their values."""
    found = []
    for headline in HEADLINES:
        value = metrics.get(headline.task, {}).get(headline.key)
        if isinstance(value, int | float):
            found.append((headline, float(value)))
    return found


def formatted(headline: Headline, value: float) -> str:
    """``value`` as the table shows it (×100 with one decimal, or three decimals)."""
    return f"{100 * value:.1f}" if headline.percent else f"{value:.3f}"
