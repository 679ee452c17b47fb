"""What the TAIGA tables measure: the metric columns and their titles, and the aggregation of
per-run metrics over seeds (kept apart so the runs, the report and the Markdown share one
definition of a column).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from spatialnet.data.taiga import CATEGORICAL_NAMES, CONTINUOUS_NAMES

# column -> metric key of ``spatialnet evaluate`` (precision/recall/F1 macro: the paper does not say)
CLASS_METRICS = {
    "precision": "precision_macro",
    "recall": "recall_macro",
    "f1": "f1_macro",
    "roc_auc": "roc_auc_ovr",
    "oa": "accuracy",
    "aa": "mean_class_accuracy",
}
VALUE_METRICS = {"rmse": "rmse", "mae": "mae", "r2": "r2"}
SUMMARY = ("oa", "precision", "recall", "rmse", "mae")  # Tables IV-VI: mean over the variables
PERCENT = {"precision", "recall", "f1", "roc_auc", "oa", "aa"}
TITLES = {
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "roc_auc": "ROC-AUC",
    "oa": "OA",
    "aa": "mean class acc.",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}


def stats(values: Sequence[float | None]) -> dict[str, float] | None:
    """Mean, min and max over seeds (None where no seed has a value)."""
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    return {"mean": float(np.mean(present)), "min": float(np.min(present)), "max": float(np.max(present))}


def summary_metrics(metrics: dict[str, Any]) -> dict[str, float | None]:
    """Tables IV-VI columns of one run: OA, precision, recall over the categorical variables, RMSE
    and MAE over the continuous ones (plain means; ×100 for the percentages)."""
    out: dict[str, float | None] = {}
    for column in SUMMARY:
        names = CATEGORICAL_NAMES if column in PERCENT else CONTINUOUS_NAMES
        key = CLASS_METRICS.get(column, column)
        values = [metrics[n][key] for n in names if n in metrics and metrics[n].get(key) is not None]
        scale = 100.0 if column in PERCENT else 1.0
        out[column] = scale * float(np.mean(values)) if values else None
    return out


def headline_metrics(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    """The metrics the tables read, per variable (the run's ``eval_test.json`` has them all)."""
    if metrics is None:
        return None
    keys = [*CLASS_METRICS.values(), *VALUE_METRICS.values()]
    return {name: {k: m[k] for k in keys if k in m} for name, m in metrics.items() if name != "overall"}
