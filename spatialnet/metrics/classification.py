"""Scene-classification metrics: overall / average accuracy, macro F1, confusion matrix.

Overall accuracy (OA) and mean class accuracy (AA, macro recall) are the remote-sensing
scene-classification conventions; macro F1 and the confusion matrix come from scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray


def classification_metrics(
    y_true: ArrayLike | torch.Tensor,
    y_pred: ArrayLike | torch.Tensor,
    num_classes: int,
    class_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Metrics of integer predictions against integer labels in ``0..num_classes-1``.

    Returns ``accuracy`` (OA), ``mean_class_accuracy`` (AA: recall averaged over the classes
    present in ``y_true``), ``macro_f1`` (F1 averaged over the classes present in ``y_true`` *or*
    ``y_pred``: a class never seen nor predicted has an undefined 0/0 F1 and is left out, while a
    class only predicted scores 0 because its predictions are all false positives),
    ``confusion_matrix`` (rows = truth, columns = prediction, all ``num_classes``),
    ``per_class_accuracy`` (name → recall, ``None`` for classes absent from ``y_true``) and
    ``num_samples``. All values are plain Python types, ready for ``metrics.json``.
    """
    true = _labels(y_true, "y_true")
    pred = _labels(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} labels but y_pred has {pred.size}")
    if true.size == 0:
        raise ValueError("classification_metrics: no samples")
    names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise ValueError(f"class_names has {len(names)} names, expected num_classes={num_classes}")
    for label_name, labels in (("y_true", true), ("y_pred", pred)):
        if labels.min() < 0 or labels.max() >= num_classes:
            outside = sorted({v for v in labels.tolist() if not 0 <= v < num_classes})
            raise ValueError(f"{label_name} holds labels outside 0..{num_classes - 1}: {outside}")

    from sklearn.metrics import confusion_matrix, f1_score  # scikit-learn loads when scoring, not predicting

    matrix = confusion_matrix(true, pred, labels=list(range(num_classes)))
    support = matrix.sum(axis=1)
    present = support > 0
    recall = np.divide(np.diag(matrix), support, out=np.zeros(num_classes), where=present)
    f1_labels = sorted(set(true.tolist()) | set(pred.tolist()))
    macro_f1 = f1_score(true, pred, labels=f1_labels, average="macro", zero_division=0.0)
    return {
        "accuracy": float(np.mean(true == pred)),
        "mean_class_accuracy": float(recall[present].mean()),
        "macro_f1": float(macro_f1),
        "confusion_matrix": matrix.astype(int).tolist(),
        "per_class_accuracy": {
            name: (float(recall[i]) if present[i] else None) for i, name in enumerate(names)
        },
        "num_samples": int(true.size),
    }


def top_k_accuracy(scores: ArrayLike | torch.Tensor, y_true: ArrayLike | torch.Tensor, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest of ``scores`` (N, C)."""
    if isinstance(scores, torch.Tensor):
        scores = scores.detach().cpu().numpy()
    values = np.asarray(scores, dtype=np.float64)
    true = _labels(y_true, "y_true")
    if values.ndim != 2 or values.shape[0] != true.size:
        raise ValueError(f"scores must be (N, C) with N={true.size}, got shape {values.shape}")
    if not 1 <= k <= values.shape[1]:
        raise ValueError(f"k must be in 1..{values.shape[1]}, got {k}")
    top = np.argsort(-values, axis=1, kind="stable")[:, :k]
    return float(np.mean((top == true[:, None]).any(axis=1)))


def _labels(values: ArrayLike | torch.Tensor, name: str) -> NDArray[np.int64]:
    """Integer label vector from a list, array or tensor."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D label vector, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices, got dtype {array.dtype}")
    return array.astype(np.int64)
