"""Masked regression losses: MSE (seed 004) and MAE (seed 000), on normalised targets.

A target may be missing (no field measurement for a pixel, no count for an image): such elements
are left out of the mean. An element is present where ``mask`` is true (when given) and the target is
not NaN, so NaN-coded missing values need no explicit mask.
"""

from __future__ import annotations

import torch
from torch import Tensor

from spatialnet.losses.global_mean import batch_mean


def _present(pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
    """Boolean tensor of ``target``'s shape: true where the target exists."""
    if pred.shape != target.shape:
        raise ValueError(f"pred: expected the target's shape {tuple(target.shape)}, got {tuple(pred.shape)}")
    if target.is_floating_point():
        present = ~torch.isnan(target)
    else:
        present = torch.ones_like(target, dtype=torch.bool)
    if mask is not None:
        try:
            present = present & torch.broadcast_to(mask.to(torch.bool), target.shape)
        except RuntimeError as err:
            raise ValueError(
                f"mask: shape {tuple(mask.shape)} does not broadcast to the target's shape "
                f"{tuple(target.shape)}"
            ) from err
    return present


def _masked_mean(pred: Tensor, target: Tensor, mask: Tensor | None, squared: bool) -> Tensor:
    present = _present(pred, target, mask)
    # Zero the missing targets before the difference so NaNs never reach the backward pass.
    clean = torch.where(present, target.to(pred.dtype), torch.zeros_like(pred))
    diff = (pred - clean) * present.to(pred.dtype)
    err = diff.square() if squared else diff.abs()
    return batch_mean(err.sum(), present.sum())


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean of (pred − target)² over present elements; 0 (with grad to ``pred``) if none is present."""
    return _masked_mean(pred, target, mask, squared=True)


def masked_mae(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean of |pred − target| over present elements; 0 (with grad to ``pred``) if none is present."""
    return _masked_mean(pred, target, mask, squared=False)
