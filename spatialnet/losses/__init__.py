"""Losses (classification, masked regression, L2 penalty) and multitask loss balancing."""

from spatialnet.losses.balancing import (
    FixedWeights,
    GradNorm,
    TaskBalancer,
    UncertaintyWeighting,
    build_balancer,
)
from spatialnet.losses.classification import focal_loss, inverse_median_frequency, weighted_cross_entropy
from spatialnet.losses.regression import masked_mae, masked_mse
from spatialnet.losses.regularization import l2_penalty

__all__ = [
    "FixedWeights",
    "GradNorm",
    "TaskBalancer",
    "UncertaintyWeighting",
    "build_balancer",
    "focal_loss",
    "inverse_median_frequency",
    "l2_penalty",
    "masked_mae",
    "masked_mse",
    "weighted_cross_entropy",
]
