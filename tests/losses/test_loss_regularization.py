"""L2 penalty λ·½Σθ² on a hand-checked example."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spatialnet.losses.regularization import l2_penalty


def test_l2_penalty_value_and_gradient() -> None:
    a = nn.Parameter(torch.tensor([1.0, -2.0]))
    b = nn.Parameter(torch.tensor([[3.0]]))
    penalty = l2_penalty([a, b], lam=0.01)
    assert penalty.item() == pytest.approx(0.01 * 0.5 * (1 + 4 + 9))
    penalty.backward()
    torch.testing.assert_close(a.grad, 0.01 * a.detach())  # ∂/∂θ λ·½θ² = λθ
    torch.testing.assert_close(b.grad, 0.01 * b.detach())


def test_l2_penalty_of_nothing_is_zero() -> None:
    assert l2_penalty([], lam=0.01).item() == 0.0


def test_l2_penalty_over_module_parameters() -> None:
    layer = nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 2.0]]))
        layer.bias.fill_(2.0)
    assert l2_penalty(layer.parameters(), lam=2.0).item() == pytest.approx(1 + 4 + 4)
