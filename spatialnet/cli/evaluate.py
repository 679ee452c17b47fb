"""``spatialnet evaluate``: score a trained run on a dataset split."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the subcommand is registered without loading torch
    from spatialnet.heads.base import TaskHead


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score a run on a split (metrics JSON, confusion matrices, generated captions)",
        description="Evaluate a run (its best checkpoint) or a checkpoint folder on one split of a dataset.",
    )
    parser.add_argument("run", type=Path, help="run folder (uses best/) or checkpoint folder")
    parser.add_argument("--data", help="dataset root (default: the one in the run's recipe)")
    parser.add_argument("--split", default="test", help="split to score (default: test)")
    parser.add_argument("--out", type=Path, help="metrics JSON path (default: RUN/eval_<split>.json)")
    parser.add_argument("--batch-size", type=int, help="inference batch size (default: the recipe's)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument(
        "--tta",
        action="store_true",
        help="average scene labels (land use) over the 8 flips and quarter turns of each image",
    )
    parser.set_defaults(handler=run)


def print_summary(
    metrics: dict[str, Any],
    heads: Mapping[str, TaskHead | type[TaskHead]],
    title: str,
    console: Console | None = None,
) -> None:
    """A table of each head's headline and summary metrics (as the head declares them), then aggregates."""
    from spatialnet.heads.headlines import AGGREGATES, head_of

    table = Table(title=title)
    table.add_column("task")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for task, values in metrics.items():
        head = heads.get(head_of(task))
        shown = (*head.headlines, *head.summary_metrics) if head is not None else AGGREGATES
        for metric in shown:
            value = values.get(metric.key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                table.add_row(task, metric.label, f"{100 * value:.2f}" if metric.percent else f"{value:.4f}")
    (console or Console()).print(table)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the summary table."""
    from spatialnet.checkpoint import read_recipe, resolve_checkpoint
    from spatialnet.heads.headlines import head_types
    from spatialnet.training.evaluation import evaluate_run

    metrics, out = evaluate_run(
        args.run, args.split, args.data, args.out, args.device, args.batch_size, args.tta
    )
    recipe = read_recipe(resolve_checkpoint(Path(args.run)))
    print_summary(metrics, head_types(recipe.heads), f"{args.run} on {args.split}")
    print(f"metrics written to {out}")
    return 0
