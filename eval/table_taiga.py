"""Forest variables of a TAIGA run beside the data-only baselines, per variable, pixel and stand level.

    python eval/table_taiga.py RUN --split test [--data ROOT] [--out FILE.json]

Categorical variables: overall accuracy (OA), mean class accuracy (AA), macro F1 and one-vs-rest
ROC-AUC of the model and of the training majority class. Continuous variables: RMSE and R² on the
p98-normalised scale and RMSE in physical units, of the model and of the training mean. Both
baselines learn from the run's train split (its centre pixels) and are scored on the same
windows as the model, with the same metric code. "beats" says whether the model is better on
the variable's headline metrics (OA and AA; RMSE and R²) at pixel level.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import run_table
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spatialnet.checkpoint import read_fitted
from spatialnet.data.registry import build_dataset
from spatialnet.errors import RecipeError
from spatialnet.heads.pixel import PixelClassificationHead, PixelRegressionHead
from spatialnet.metrics.forest_baselines import baseline_predictions
from spatialnet.metrics.forest_scores import forest_class_metrics, forest_value_metrics
from spatialnet.model import load_run
from spatialnet.training.evaluation import collect_predictions, score_predictions

CLASS_COLUMNS: tuple[str, ...] = ("accuracy", "mean_class_accuracy", "f1_macro", "roc_auc_ovr")
VALUE_COLUMNS: tuple[str, ...] = ("rmse", "r2", "rmse_physical")


def _pick(metrics: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    row = {c: metrics.get(c) for c in columns}
    row["stand"] = {c: metrics.get("stand", {}).get(c) for c in columns}
    return row


def _beats(kind: str, model: dict[str, Any], baseline: dict[str, Any]) -> bool:
    if kind == "categorical":
        return bool(
            model["accuracy"] > baseline["accuracy"]
            and model["mean_class_accuracy"] > baseline["mean_class_accuracy"]
        )
    return bool(model["rmse"] < baseline["rmse"] and (model["r2"] or 0.0) > (baseline["r2"] or 0.0))


def evaluate_table(run: Path, split: str, data: str | None, device: str) -> dict[str, Any]:
    """Score the run and the baselines on ``split``: one row pair per forest variable."""
    model, recipe, _, folder = load_run(run, device)
    try:
        name, source = recipe.source_reading("taiga")  # a joint run: its TAIGA dataset
    except RecipeError as err:
        raise SystemExit(f"{folder}: not a TAIGA run ({err})") from err
    if data is not None:
        source.data.root = data
    fitted = read_fitted(folder, recipe)[name]
    dataset: Any = build_dataset(source.data, split, train=False, fitted=fitted)
    train: Any = build_dataset(source.data, source.data.train_split, train=False, fitted=fitted)
    device_ = next(model.parameters()).device
    predictions, targets, losses = collect_predictions(
        model, dataset, recipe.train.eval_batch_size, device_, True, source.tasks, source.modality
    )
    ours = score_predictions(model, predictions, targets, losses)
    classes = {
        n: h.config.num_classes for n, h in model.heads.items() if isinstance(h, PixelClassificationHead)
    }
    scales = {n: h.config.scale for n, h in model.heads.items() if isinstance(h, PixelRegressionHead)}
    guesses = baseline_predictions(train.centre_targets(), classes, scales, len(dataset))
    rows: dict[str, Any] = {}
    for name in [*classes, *scales]:
        head: Any = model.heads[name]
        if name in classes:
            names = head.config.class_names or [str(i) for i in range(classes[name])]
            base = forest_class_metrics(guesses[name], targets[name], names)
            kind, columns = "categorical", CLASS_COLUMNS
        else:
            base = forest_value_metrics(guesses[name], targets[name], name, scales[name])
            kind, columns = "continuous", VALUE_COLUMNS
        rows[name] = {
            "kind": kind,
            "unit": getattr(head.config, "unit", ""),
            "model": _pick(ours[name], columns),
            "baseline": _pick(base, columns),
        }
        rows[name]["beats"] = _beats(kind, rows[name]["model"], rows[name]["baseline"])
    return {
        "run": str(folder),
        "recipe": recipe.name,
        "split": split,
        "windows": len(dataset),
        "stands": int(len(set(targets[next(iter(rows))]["stand_id"].tolist()))),
        "variables": rows,
        "beats_everywhere": all(r["beats"] for r in rows.values()),
    }


def _fmt(value: Any, percent: bool) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.1f}" if percent else f"{value:.3f}"


def show(result: dict[str, Any], console: Console) -> None:
    """Two tables (categorical, continuous): model / baseline per metric, pixel and stand level."""
    title = (
        f"{result['recipe']} on {result['split']} ({result['windows']} windows, {result['stands']} stands)"
    )
    for kind, columns in (("categorical", CLASS_COLUMNS), ("continuous", VALUE_COLUMNS)):
        table = Table(title=f"{title}: {kind} (model / baseline; stand level in brackets)")
        table.add_column("variable")
        for column in columns:
            table.add_column(column, justify="right")
        table.add_column("beats")
        for name, row in result["variables"].items():
            if row["kind"] != kind:
                continue
            cells = []
            for column in columns:
                percent = kind == "categorical"
                pixel = f"{_fmt(row['model'][column], percent)} / {_fmt(row['baseline'][column], percent)}"
                stand = (
                    f"{_fmt(row['model']['stand'][column], percent)} / "
                    f"{_fmt(row['baseline']['stand'][column], percent)}"
                )
                cells.append(f"{pixel} ({stand})")
            label = escape(f"{name} [{row['unit']}]") if row["unit"] else name  # [...] is rich markup
            table.add_row(label, *cells, "yes" if row["beats"] else "NO")
        console.print(table)
    console.print(f"beats the baselines on every variable: {'yes' if result['beats_everywhere'] else 'NO'}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    return run_table(__doc__, evaluate_table, show, "test", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
