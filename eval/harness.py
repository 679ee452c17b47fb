"""The command line every table script shares: score a run on a split, print, optionally save JSON.

Tables that can say how sure they are take ``--bootstrap N --seed S`` and put 95% percentile
intervals of our row beside it (spatialnet.metrics.bootstrap).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from spatialnet.files import write_json
from spatialnet.metrics.bootstrap import DEFAULT_RESAMPLES, Intervals

# evaluate(run, split, data, device), plus bootstrap= and seed= keywords for tables with intervals
Evaluate = Callable[..., dict[str, Any]]
Print = Callable[[dict[str, Any], Console], None]


def run_table(
    doc: str | None,
    evaluate: Evaluate,
    show: Print,
    default_split: str,
    argv: Sequence[str] | None,
    intervals: bool = False,
) -> int:
    """Parse ``RUN --split --data --out --device``, build the table with ``evaluate`` and ``show`` it.

    With ``intervals``, also ``--bootstrap N --seed S``, passed on to ``evaluate`` as keywords.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("run", type=Path, help="run folder (uses best/) or checkpoint folder")
    parser.add_argument("--split", default=default_split, help=f"split to score (default: {default_split})")
    parser.add_argument("--data", help="dataset root (default: the run's recipe)")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    parser.add_argument("--device", default="auto")
    if intervals:
        parser.add_argument(
            "--bootstrap",
            type=int,
            metavar="N",
            help=f"95%% intervals of our row from N bootstrap resamples (e.g. {DEFAULT_RESAMPLES})",
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")
    args = parser.parse_args(argv)
    options = {"bootstrap": args.bootstrap, "seed": args.seed} if intervals else {}
    result = evaluate(args.run, args.split, args.data, args.device, **options)
    show(result, Console(width=160))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.out, result)
        print(f"written to {args.out}")
    return 0


def percent_intervals(intervals: Intervals, columns: Sequence[str]) -> dict[str, Any]:
    """Interval bounds ×100 in column order (None where a column has none), with their settings."""
    bounds = [intervals.intervals.get(c) for c in columns]
    return {
        "resamples": intervals.resamples,
        "seed": intervals.seed,
        "low": [None if b is None else 100 * b.low for b in bounds],
        "high": [None if b is None else 100 * b.high for b in bounds],
    }


def interval_row(bounds: dict[str, Any]) -> list[str]:
    """The label and cells of an interval row under a table row: "low–high" or "—"."""
    cells = [
        "—" if low is None else f"{low:.2f}–{high:.2f}"
        for low, high in zip(bounds["low"], bounds["high"], strict=True)
    ]
    return [f"  95% interval ({bounds['resamples']} resamples)", *cells]
