"""Forest-variable metrics of seed 000: per categorical and per continuous variable, pixel and stand level.

Categorical variables get overall accuracy, mean class accuracy, precision/recall/F1 (macro and
weighted), one-vs-rest ROC-AUC computed **from probabilities** (the TAIGA baseline used hard
labels, which turns the AUC into a single operating point) and the row-normalised confusion matrix.
Continuous variables get RMSE, MAE and R² on the p98-normalised targets, plus RMSE in physical
units. Stand level aggregates a stand's pixels first: class probabilities are summed and the
argmax taken; regression outputs and targets are averaged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from spatialnet.labels import IGNORE_INDEX
from spatialnet.metrics.classification import classification_metrics


def categorical_metrics(
    probabilities: npt.ArrayLike, truth: npt.ArrayLike, class_names: Sequence[str]
) -> dict[str, Any]:
    """Metrics of (N, K) class probabilities against (N,) labels; ``IGNORE_INDEX`` rows are skipped."""
    probs = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(truth, dtype=np.int64)
    num_classes = len(class_names)
    if probs.ndim != 2 or probs.shape != (labels.size, num_classes):
        raise ValueError(f"probabilities must be (N, {num_classes}) with N={labels.size}, got {probs.shape}")
    keep = labels != IGNORE_INDEX
    probs, labels = probs[keep], labels[keep]
    if labels.size == 0:
        raise ValueError("categorical_metrics: no labelled samples")
    predicted = probs.argmax(axis=1)
    result = classification_metrics(labels, predicted, num_classes, class_names)
    matrix = np.asarray(result["confusion_matrix"], dtype=np.float64)
    support = matrix.sum(axis=1, keepdims=True)
    result["confusion_matrix_normalised"] = np.divide(
        matrix, support, out=np.zeros_like(matrix), where=support > 0
    ).tolist()
    from sklearn.metrics import precision_recall_fscore_support  # scikit-learn loads when scoring

    present = sorted(set(labels.tolist()))
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = precision_recall_fscore_support(
            labels, predicted, labels=present, average=average, zero_division=0.0
        )
        result[f"precision_{average}"] = float(precision)
        result[f"recall_{average}"] = float(recall)
        result[f"f1_{average}"] = float(f1)
    result["roc_auc_ovr"] = _roc_auc(probs, labels, num_classes)
    return result


def _roc_auc(probs: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], num_classes: int) -> float | None:
    """Macro one-vs-rest ROC-AUC over the classes present (None when fewer than two are)."""
    present = sorted(set(labels.tolist()))
    if len(present) < 2:
        return None
    from sklearn.metrics import roc_auc_score  # loads when scoring

    scores = [roc_auc_score(labels == c, probs[:, c]) for c in present if c < num_classes]
    return float(np.mean(scores))


def continuous_metrics(
    predicted: npt.ArrayLike,
    truth: npt.ArrayLike,
    names: Sequence[str],
    p98: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """RMSE, MAE, R² per variable on normalised (N, V) values; NaN targets are missing.

    With ``p98`` (the scaling of each variable) also ``rmse_physical``: the RMSE in the
    variable's own units. ``mean_rmse`` averages the normalised RMSE over the variables.
    """
    pred = np.asarray(predicted, dtype=np.float64)
    target = np.asarray(truth, dtype=np.float64)
    if pred.shape != target.shape or pred.ndim != 2 or pred.shape[1] != len(names):
        raise ValueError(
            f"predicted and truth must both be (N, {len(names)}), got {pred.shape}, {target.shape}"
        )
    result: dict[str, Any] = {}
    for column, name in enumerate(names):
        present = ~np.isnan(target[:, column])
        y, p = target[present, column], pred[present, column]
        if y.size == 0:
            continue
        residual = p - y
        total = float(((y - y.mean()) ** 2).sum())
        rmse = float(np.sqrt((residual**2).mean()))
        entry = {
            "rmse": rmse,
            "mae": float(np.abs(residual).mean()),
            "r2": float(1.0 - (residual**2).sum() / total) if total > 0 else None,
            "num_samples": int(y.size),
        }
        if p98 is not None and name in p98:
            entry["rmse_physical"] = rmse * float(p98[name])
        result[name] = entry
    rmses = [v["rmse"] for v in result.values()]
    result["mean_rmse"] = float(np.mean(rmses)) if rmses else None
    return result


def stand_level(
    stand_ids: npt.ArrayLike, values: npt.ArrayLike, reduce: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """One row per stand: ``reduce`` = "sum" (class probabilities) or "mean" (regression, NaN-aware).

    Returns the sorted stand ids and the aggregated (S, ...) values.
    """
    ids = np.asarray(stand_ids, dtype=np.int64)
    data = np.asarray(values, dtype=np.float64)
    if data.shape[0] != ids.size:
        raise ValueError(f"{ids.size} stand ids but {data.shape[0]} rows of values")
    if reduce not in ("sum", "mean"):
        raise ValueError(f"reduce must be 'sum' or 'mean', got {reduce!r}")
    stands, inverse = np.unique(ids, return_inverse=True)
    flat = data.reshape(ids.size, -1)
    present = ~np.isnan(flat)
    sums = np.zeros((stands.size, flat.shape[1]))
    counts = np.zeros((stands.size, flat.shape[1]))
    np.add.at(sums, inverse, np.where(present, flat, 0.0))
    np.add.at(counts, inverse, present)
    if reduce == "sum":
        out = sums
    else:
        out = np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)
    return stands, out.reshape((stands.size, *data.shape[1:]))


def stand_labels(stand_ids: npt.ArrayLike, labels: npt.ArrayLike) -> dict[int, int]:
    """The label of each stand (its most frequent labelled value; stands hold one class by design)."""
    ids = np.asarray(stand_ids, dtype=np.int64)
    values = np.asarray(labels, dtype=np.int64)
    result: dict[int, int] = {}
    for stand in np.unique(ids):
        own = values[(ids == stand) & (values != IGNORE_INDEX)]
        if own.size:
            result[int(stand)] = int(np.bincount(own).argmax())
    return result
