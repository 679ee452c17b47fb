"""``spatialnet evaluate``: score a trained run on a dataset split."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spatialnet.data.registry import build_dataset
from spatialnet.data.views import DIHEDRAL_VIEWS
from spatialnet.heads.caption import CaptionHead
from spatialnet.heads.pixel import PixelRegressionHead
from spatialnet.heads.vqa import VQAHead
from spatialnet.metrics.figures import save_confusion_matrix, save_error_histogram, save_prediction_scatter
from spatialnet.training.checkpoint import read_data_states, write_json
from spatialnet.training.evaluation import evaluate_sources
from spatialnet.training.trainer import dump_metrics, load_run

CAPTION_KEYS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")
VQA_KEYS = ("count", "presence", "comp", "rural_urban", "AA", "OA", "mean3")
PERCENT_KEYS = (*CAPTION_KEYS, *VQA_KEYS)  # reported ×100, as the papers do
SUMMARY_KEYS = (
    "accuracy",
    "mean_class_accuracy",
    "macro_f1",
    "roc_auc_ovr",
    "rmse",
    "r2",
    "rmse_physical",
    "mean_accuracy",
    "mean_rmse",
    *PERCENT_KEYS,
    "loss",
)


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
) -> tuple[dict[str, Any], Path]:
    """Evaluate ``run_dir`` on ``split``: metrics JSON, confusion matrices, generated captions.

    Each classifier gets a confusion-matrix PNG; each caption head's captions are written as
    COCO results (``[{"image_id", "caption"}]``) and each VQA head's answers in the official
    evaluator's format (``[{"question_id", "answer"}]``), with its answer confusion matrix; each
    per-pixel regression head gets a prediction-vs-target scatter (marginal densities, Pearson r)
    and a 100-bin absolute-error histogram, in physical units.
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
        if isinstance(model.head(name), CaptionHead):
            results = [
                {"image_id": t["image_id"], "caption": caption}
                for t, caption in zip(targets[name], predictions[name], strict=True)
            ]
            path = out.with_name(f"{out.stem}_{name}_predictions.json")
            write_json(path, results)
            metrics[name]["predictions_file"] = path.name
        head = model.head(name)
        if isinstance(head, VQAHead):
            chosen = predictions[name].argmax(dim=1).tolist()
            answers = [
                {"question_id": t["question_id"], "answer": head.answers[i]}
                for t, i in zip(targets[name], chosen, strict=True)
            ]
            path = out.with_name(f"{out.stem}_{name}_predictions.json")
            write_json(path, answers)
            metrics[name]["predictions_file"] = path.name
            png = out.with_name(f"{out.stem}_{name}_confusion.png")
            save_confusion_matrix(
                metrics[name]["confusion"], metrics[name]["answers"], png, title=f"{name} — {split}"
            )
            metrics[name]["confusion_png"] = png.name
        if isinstance(head, PixelRegressionHead):
            config = head.config
            predicted = predictions[name].numpy()
            truth = targets[name]["target"].numpy() * config.scale
            title = f"{name} — {split}"
            scatter = save_prediction_scatter(
                predicted, truth, out.with_name(f"{out.stem}_{name}_scatter.png"), title, config.unit
            )
            errors = save_error_histogram(
                predicted - truth, out.with_name(f"{out.stem}_{name}_errors.png"), title, config.unit
            )
            metrics[name].update(scatter_png=scatter.name, error_histogram_png=errors.name)
    for name, head_metrics in metrics.items():
        if "confusion_matrix" in head_metrics:
            png = out.with_name(f"{out.stem}_{name}_confusion.png")
            names = list(head_metrics.get("per_class_accuracy", {}))
            save_confusion_matrix(head_metrics["confusion_matrix"], names, png, title=f"{name} — {split}")
            head_metrics["confusion_matrix_png"] = png.name
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
    return metrics, out


def print_summary(metrics: dict[str, Any], title: str, console: Console | None = None) -> None:
    """A table of each head's headline metrics."""
    table = Table(title=title)
    table.add_column("task")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for head, values in metrics.items():
        for key in SUMMARY_KEYS:
            if isinstance(values.get(key), float):
                scale = 100.0 if key in PERCENT_KEYS else 1.0
                table.add_row(
                    head, key, f"{values[key] * scale:.4f}" if scale == 1 else f"{values[key] * scale:.2f}"
                )
    (console or Console()).print(table)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the summary table."""
    metrics, out = evaluate_run(
        args.run, args.split, args.data, args.out, args.device, args.batch_size, test_views=args.tta
    )
    print_summary(metrics, f"{args.run} on {args.split}")
    print(f"metrics written to {out}")
    return 0
