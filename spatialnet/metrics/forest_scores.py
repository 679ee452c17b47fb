"""Forest heads' scores over collected predictions: pixel level and, where stands are known, stand level."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from spatialnet.metrics.forest import categorical_metrics, continuous_metrics, stand_labels, stand_level


def forest_class_metrics(
    probabilities: torch.Tensor, targets: dict[str, torch.Tensor], class_names: list[str]
) -> dict[str, Any]:
    """Seed 000's categorical metrics at pixel level, plus ``stand`` level when stand ids are known.

    Stand level sums a stand's class probabilities and takes the argmax (specs/taiga.md).
    """
    probs = probabilities.double().numpy()
    truth = targets["target"].numpy()
    result = categorical_metrics(probs, truth, class_names)
    stands = targets["stand_id"].numpy()
    if (stands >= 0).all():
        labels = stand_labels(stands, truth)
        ids, summed = stand_level(stands, probs, "sum")
        keep = np.isin(ids, list(labels))
        if keep.any():
            stand_probs = summed[keep] / summed[keep].sum(axis=1, keepdims=True)
            stand_truth = np.array([labels[int(i)] for i in ids[keep]])
            result["stand"] = categorical_metrics(stand_probs, stand_truth, class_names)
    return result


def forest_value_metrics(
    values: torch.Tensor, targets: dict[str, torch.Tensor], name: str, scale: float
) -> dict[str, Any]:
    """RMSE, MAE, R² on the normalised scale and RMSE in physical units, pixel and ``stand`` level.

    ``values`` are predictions in physical units (what the head's ``predict`` returns), targets
    are normalised; the predictions are brought back to the normalised scale by ``scale``.
    """
    pred = values.double().numpy()[:, None] / scale
    truth = targets["target"].double().numpy()[:, None]
    result: dict[str, Any] = dict(continuous_metrics(pred, truth, [name], {name: scale}).get(name, {}))
    stands = targets["stand_id"].numpy()
    if result and (stands >= 0).all():
        _, stand_pred = stand_level(stands, pred, "mean")
        _, stand_truth = stand_level(stands, truth, "mean")
        result["stand"] = continuous_metrics(stand_pred, stand_truth, [name], {name: scale}).get(name, {})
    return result
