"""``--bootstrap``, ``--compare``, ``--seed`` (and ``--resample``): how sure the scorers are.

score-captions, score-vqa and score-rsivqa build a :class:`~spatialnet.metrics.bootstrap.Tally` of
their predictions and hand it here; this module runs the bootstrap and the paired test, and prints
and records them. Scorers whose items can be drawn in more than one unit (a VQA split's questions,
or its images with all their questions) also register ``--resample``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spatialnet.metrics.bootstrap import (
    DEFAULT_RESAMPLES,
    Comparison,
    Interval,
    Intervals,
    Tally,
    bootstrap,
    paired_test,
)


def add_uncertainty_options(
    parser: argparse.ArgumentParser,
    unit: str,
    units: Sequence[str] = (),
    unit_help: str = "",
) -> None:
    """Register ``--bootstrap N``, ``--compare OTHER`` and ``--seed S``; ``unit`` names the items.

    With ``units``, also ``--resample {units}`` (default ``unit``, which must be one of them):
    what one draw of the bootstrap and one swap of the paired test takes; ``unit_help`` says why
    the choice matters.
    """
    if units:
        if unit not in units:
            raise ValueError(f"default unit {unit!r} is not one of {', '.join(units)}")
        parser.add_argument(
            "--resample",
            choices=tuple(units),
            default=unit,
            help=f"what --bootstrap and --compare draw: one of {', '.join(units)} (default {unit}). "
            + unit_help.replace("%", "%%"),
        )
    drawn = "--resample items" if units else unit
    same = "items" if units else unit
    parser.add_argument(
        "--bootstrap",
        type=_positive,
        metavar="N",
        help=f"add 95%% percentile intervals of every metric from N resamples of the {drawn} "
        f"(e.g. {DEFAULT_RESAMPLES}); corpus metrics are recomputed on each resample",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="OTHER",
        help=f"a second predictions file for the same {same}: per metric the difference "
        "PREDICTIONS - OTHER, its paired-bootstrap 95%% interval and the p-value of approximate "
        f"randomisation, each from --bootstrap resamples (default {DEFAULT_RESAMPLES})",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the resampling (default 0): same seed, same figures"
    )


@dataclass(frozen=True)
class Uncertainty:
    """What ``--bootstrap`` and ``--compare`` asked for (None where not asked)."""

    intervals: Intervals | None = None
    comparison: Comparison | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON entries ``bootstrap`` and ``compare``, where asked for."""
        document: dict[str, Any] = {}
        if self.intervals is not None:
            document["bootstrap"] = self.intervals.to_dict()
        if self.comparison is not None:
            document["compare"] = self.comparison.to_dict()
        return document


def measure(
    args: argparse.Namespace,
    predictions: Any,
    tally: Callable[[Any, str], Tally],
    read: Callable[[Path], Any],
) -> Uncertainty:
    """Intervals of ``args.predictions`` and its paired test with ``args.compare``, as asked.

    ``tally(predictions, source)`` builds a system's statistics; ``read`` reads the other file.
    """
    if args.bootstrap is None and args.compare is None:
        return Uncertainty()
    resamples = args.bootstrap or DEFAULT_RESAMPLES
    mine = tally(predictions, str(args.predictions))
    intervals = bootstrap(mine, resamples, args.seed) if args.bootstrap else None
    comparison = None
    if args.compare is not None:
        other = tally(read(args.compare), str(args.compare))
        comparison = paired_test(mine, other, resamples, args.seed)
    return Uncertainty(intervals, comparison)


def interval_cell(interval: Interval) -> str:
    """``[low, high]`` ×100, as the tables print metrics (escaped for rich)."""
    return escape(f"[{100 * interval.low:.2f}, {100 * interval.high:.2f}]")


def print_comparison(comparison: Comparison, console: Console) -> None:
    """One row per metric: both systems ×100, the difference, its interval and the p-value."""
    table = Table(
        title=escape(
            f"paired test, ×100: predictions {comparison.first} - other {comparison.second} "
            f"({comparison.resamples} resamples, seed {comparison.seed})"
        )
    )
    for column in ("metric", "predictions", "other", "difference", "95% interval", "p"):
        table.add_column(column, justify="left" if column == "metric" else "right", no_wrap=True)
    for name, d in comparison.differences.items():
        table.add_row(
            name,
            f"{100 * d.first:.2f}",
            f"{100 * d.second:.2f}",
            f"{100 * d.difference:+.2f}",
            escape(f"[{100 * d.low:+.2f}, {100 * d.high:+.2f}]"),
            f"{d.p_value:.3f}",
        )
    console.print(table)
    console.print(
        f"interval: paired percentile bootstrap over the {comparison.unit}; p: approximate randomisation "
        f"(each trial swaps the two outputs of each of the {comparison.unit} with probability 1/2), "
        "two-sided",
        markup=False,
    )


def _positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of resamples, got {text}")
    return value
