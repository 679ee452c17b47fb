"""The command line every table script shares: score a run on a split, print, optionally save JSON."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from spatialnet.files import write_json

Evaluate = Callable[[Path, str, "str | None", str], dict[str, Any]]
Print = Callable[[dict[str, Any], Console], None]


def run_table(
    doc: str | None, evaluate: Evaluate, show: Print, default_split: str, argv: Sequence[str] | None
) -> int:
    """Parse ``RUN --split --data --out --device``, build the table with ``evaluate`` and ``show`` it."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("run", type=Path, help="run folder (uses best/) or checkpoint folder")
    parser.add_argument("--split", default=default_split, help=f"split to score (default: {default_split})")
    parser.add_argument("--data", help="dataset root (default: the run's recipe)")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    result = evaluate(args.run, args.split, args.data, args.device)
    show(result, Console(width=160))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.out, result)
        print(f"written to {args.out}")
    return 0
