"""What a backbone hands to the task heads."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class BackboneOutput:
    """Encoder features of one batch.

    ``tokens`` are the patch tokens (B, N, D) in row-major grid order, ``prefix`` the class
    (and register) tokens (B, P, D), ``pooled`` the pooled vector (B, D) and ``grid`` the
    (rows, cols) of the patch grid, so dense heads can fold tokens back into a map.
    """

    tokens: Tensor
    prefix: Tensor
    pooled: Tensor
    grid: tuple[int, int]
    patch_size: int
