"""``spatialnet evaluate``: score a trained run on a dataset split."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spatialnet.data.registry import build_dataset
from spatialnet.data.views import DIHEDRAL_VIEWS
from spatialnet.heads.base import TaskHead
from spatialnet.heads.headlines import AGGREGATES
from spatialnet.training.checkpoint import read_data_states
from spatialnet.training.evaluation import evaluate_sources
from spatialnet.training.trainer import dump_metrics, load_run


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


def evaluate_run(
    run_dir: Path,
    split: str,
    data_root: str | None = None,
    out: Path | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    test_views: bool = False,
    console: Console | None = None,
) -> tuple[dict[str, Any], Path]:
    """Evaluate ``run_dir`` on ``split``: the metrics JSON at ``out`` and each head's artifacts beside it.

    Each head writes what it has (:meth:`TaskHead.write_artifacts`): confusion matrices of
    classifiers, caption heads' COCO results, VQA heads' answers in the official evaluator's
    format, per-pixel regression heads' scatter and error histogram. With ``console``, the
    summary table is printed there.
    """
    model, recipe, _, folder = load_run(run_dir, device)
    if data_root is not None:  # a joint recipe's datasets then all read from this world folder
        recipe.data.root = data_root
        recipe.datasets = {
            name: dataclasses.replace(entry, data=dataclasses.replace(entry.data, root=None))
            for name, entry in recipe.datasets.items()
        }
    states = read_data_states(folder, recipe)
    sources = {
        name: (entry, build_dataset(entry.data, split, train=False, state=states.get(name)))
        for name, entry in recipe.sources().items()
    }
    device_ = next(model.parameters()).device
    batch = batch_size or recipe.train.eval_batch_size
    metrics, predictions, targets = evaluate_sources(
        model, sources, batch, device_, True, detailed=True, by_dataset=recipe.is_joint, test_views=test_views
    )
    out = out or Path(run_dir) / f"eval_{split}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in predictions:
        stem, title = out.with_name(f"{out.stem}_{name}"), f"{name} — {split}"
        files = model.head(name).write_artifacts(predictions[name], targets[name], metrics[name], stem, title)
        metrics[name].update(files)
    dump_metrics(
        out,
        {
            "checkpoint": str(folder),
            "split": split,
            "test_views": DIHEDRAL_VIEWS if test_views else 1,
            "data": {name: entry.data.root for name, entry in recipe.sources().items()},
            "metrics": metrics,
        },
    )
    if console is not None:
        print_summary(metrics, model.task_heads(), f"{run_dir} on {split}", console)
    return metrics, out


def print_summary(
    metrics: dict[str, Any], heads: Mapping[str, TaskHead], title: str, console: Console | None = None
) -> None:
    """A table of each head's headline and summary metrics (as the head declares them), then aggregates."""
    table = Table(title=title)
    table.add_column("task")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for task, values in metrics.items():
        head = heads.get(task)
        shown = (*head.headlines, *head.summary_metrics) if head is not None else AGGREGATES
        for metric in shown:
            value = values.get(metric.key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                table.add_row(task, metric.label, f"{100 * value:.2f}" if metric.percent else f"{value:.4f}")
    (console or Console()).print(table)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the summary table."""
    _, out = evaluate_run(
        args.run, args.split, args.data, args.out, args.device, args.batch_size, args.tta, Console()
    )
    print(f"metrics written to {out}")
    return 0
