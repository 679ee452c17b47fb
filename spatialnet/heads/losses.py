"""Loss selection shared by the classification heads (scene-level and dense)."""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from spatialnet.errors import RecipeError
from spatialnet.losses.classification import focal_loss, weighted_cross_entropy
from spatialnet.losses.regression import masked_mae, masked_mse


class _ClassificationLossConfig(Protocol):
    loss: str
    label_smoothing: float
    class_weights: list[float] | None
    focal_alpha: float
    focal_gamma: float


def classification_loss(logits: Tensor, target: Tensor, config: _ClassificationLossConfig) -> Tensor:
    """Cross-entropy or focal loss of ``logits`` against integer (or soft) targets, per the head config."""
    weights = None
    if config.class_weights is not None:
        weights = torch.tensor(config.class_weights, dtype=logits.dtype, device=logits.device)
    if config.loss == "cross_entropy":
        return weighted_cross_entropy(
            logits, target, class_weights=weights, label_smoothing=config.label_smoothing
        )
    if config.loss == "focal":
        return focal_loss(
            logits, target, alpha=config.focal_alpha, gamma=config.focal_gamma, class_weights=weights
        )
    raise RecipeError(f"head loss {config.loss!r} is unknown; expected 'cross_entropy' or 'focal'")


def regression_loss(pred: Tensor, target: Tensor, loss: str) -> Tensor:
    """Masked MSE (seed 004) or MAE (seed 000); NaN targets count as missing."""
    target = target.to(pred.dtype)
    if loss == "mse":
        return masked_mse(pred, target)
    if loss == "mae":
        return masked_mae(pred, target)
    raise RecipeError(f"head loss {loss!r} is unknown; expected 'mse' or 'mae'")
