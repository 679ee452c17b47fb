"""Loss selection shared by the classification heads (scene-level and dense)."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from spatialnet.errors import RecipeError
from spatialnet.heads.base import HeadConfig
from spatialnet.losses.classification import focal_loss, inverse_median_frequency, weighted_cross_entropy
from spatialnet.losses.regression import masked_mae, masked_mse


@dataclasses.dataclass
class ClassifierConfig(HeadConfig):
    """Fields of every classifying head, scene-level or per-pixel."""

    num_classes: int = 2
    class_names: list[str] = dataclasses.field(default_factory=list)  # shown by predict and in reports
    loss: str = "cross_entropy"  # cross_entropy | focal
    label_smoothing: float = 0.0
    class_weights: list[float] | None = None  # explicit per-class weights (win over class_weighting)
    class_weighting: str = "none"  # none | median_frequency: w_c = median f / f_c from class_frequencies
    class_frequencies: list[float] | None = None  # training-set class counts or shares (filled from data)
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0


def class_weights_of(config: ClassifierConfig) -> list[float] | None:
    """The per-class loss weights the config asks for: explicit, inverse median frequency, or none."""
    if config.class_weights is not None:
        return list(config.class_weights)
    if config.class_weighting == "none":
        return None
    if config.class_weighting != "median_frequency":
        raise RecipeError(
            f"head class_weighting {config.class_weighting!r} is unknown; "
            "expected 'none' or 'median_frequency'"
        )
    if not config.class_frequencies:
        raise RecipeError(
            "head class_weighting 'median_frequency' needs class_frequencies (filled from datasets "
            "that count their classes, or set in the recipe)"
        )
    weights: list[float] = inverse_median_frequency(torch.tensor(config.class_frequencies)).tolist()
    return weights


def classification_loss(logits: Tensor, target: Tensor, config: ClassifierConfig) -> Tensor:
    """Cross-entropy or focal loss of ``logits`` against integer (or soft) targets, per the head config."""
    weights = None
    chosen = class_weights_of(config)
    if chosen is not None:
        weights = torch.tensor(chosen, dtype=logits.dtype, device=logits.device)
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
