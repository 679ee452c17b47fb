"""Explicit L2 penalty λ·½Σθ² added to the loss (seed 004, λ_reg = 0.01).

This is a loss term, distinct from the optimiser's (decoupled) weight decay: with Adam it is
rescaled by the adaptive step like any other gradient. Its strength is ``LossConfig.l2_penalty``.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor
from torch.nn import Parameter


def l2_penalty(parameters: Iterable[Parameter], lam: float) -> Tensor:
    """Return λ·½·Σ_θ θ² over ``parameters``.

    The caller decides which parameters enter (e.g. all trainable model weights, typically without
    the task balancer's own parameters). Returns a 0-d tensor; 0 when ``parameters`` is empty.
    """
    total: Tensor | None = None
    for p in parameters:
        sq = p.square().sum()
        total = sq if total is None else total + sq.to(total.device)
    if total is None:
        return torch.zeros(())
    return 0.5 * lam * total
