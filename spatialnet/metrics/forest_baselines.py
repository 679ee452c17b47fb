"""Data-only baselines for the forest variables: the training majority class and the training mean.

A model "beats the baseline" on a variable when it does better than always answering the most
frequent training class (categorical) or the mean training value (continuous) on the same test
windows; these rows sit beside the model's in ``eval/table_taiga.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from spatialnet.labels import IGNORE_INDEX


def majority_probabilities(train_labels: npt.ArrayLike, num_classes: int, count: int) -> torch.Tensor:
    """(count, K) one-hot rows of the most frequent training class (ties: the lowest index)."""
    labels = np.asarray(train_labels, dtype=np.int64)
    labels = labels[labels != IGNORE_INDEX]
    if labels.size == 0:
        raise ValueError("majority baseline: no labelled training sample")
    majority = int(np.bincount(labels, minlength=num_classes).argmax())
    probabilities = torch.zeros((count, num_classes), dtype=torch.float64)
    probabilities[:, majority] = 1.0
    return probabilities


def mean_values(train_values: npt.ArrayLike, count: int, scale: float = 1.0) -> torch.Tensor:
    """(count,) copies of the mean training value (NaN = missing, skipped), times ``scale``."""
    values = np.asarray(train_values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        raise ValueError("mean baseline: no training value")
    return torch.full((count,), float(values.mean()) * scale, dtype=torch.float64)


def baseline_predictions(
    train_targets: Mapping[str, npt.ArrayLike],
    num_classes: Mapping[str, int],
    scales: Mapping[str, float],
    count: int,
) -> dict[str, Any]:
    """Per variable, the baseline's predictions in the heads' ``predict`` form for ``count`` windows.

    ``num_classes`` names the categorical variables, ``scales`` the continuous ones (predictions
    in physical units, like a regression head's).
    """
    result: dict[str, Any] = {}
    for name, classes in num_classes.items():
        result[name] = majority_probabilities(train_targets[name], classes, count)
    for name, scale in scales.items():
        result[name] = mean_values(train_targets[name], count, scale)
    return result
