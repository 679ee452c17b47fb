"""Masked regression losses against hand-computed means."""

from __future__ import annotations

import math

import pytest
import torch

from spatialnet.losses.regression import masked_mae, masked_mse


def test_unmasked_mse_and_mae() -> None:
    pred = torch.tensor([1.0, 2.0, 3.0])
    target = torch.tensor([0.0, 2.5, 5.0])
    assert masked_mse(pred, target).item() == pytest.approx((1 + 0.25 + 4) / 3)
    assert masked_mae(pred, target).item() == pytest.approx((1 + 0.5 + 2) / 3)


@pytest.mark.parametrize(("fn", "expected"), [(masked_mse, (0.25 + 1.0) / 2), (masked_mae, (0.5 + 1.0) / 2)])
def test_nan_targets_and_mask_are_missing(fn, expected) -> None:  # type: ignore[no-untyped-def]
    pred = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    target = torch.tensor([1.5, math.nan, 2.0, 0.0])
    mask = torch.tensor([True, True, True, False])
    loss = fn(pred, target, mask)
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    assert pred.grad[1].item() == 0.0 and pred.grad[3].item() == 0.0


def test_mse_gradient_matches_formula() -> None:
    pred = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    target = torch.tensor([0.0, math.nan, 5.0])
    masked_mse(pred, target).backward()
    # d/dp_i of Σ(p−t)²/n = 2(p_i − t_i)/n over present i, n = 2
    torch.testing.assert_close(pred.grad, torch.tensor([1.0, 0.0, -2.0]))


def test_mask_broadcasts_over_channels() -> None:
    pred = torch.zeros(2, 3, 2, 2)
    target = torch.ones(2, 3, 2, 2)
    target[1] = 3.0
    mask = torch.tensor([True, False]).view(2, 1, 1, 1)
    assert masked_mse(pred, target, mask).item() == pytest.approx(1.0)
    assert masked_mae(pred, target, ~mask).item() == pytest.approx(3.0)


@pytest.mark.parametrize("fn", [masked_mse, masked_mae])
def test_nothing_present_gives_zero_with_grad(fn) -> None:  # type: ignore[no-untyped-def]
    pred = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = fn(pred, torch.tensor([math.nan, 1.0]), torch.tensor([True, False]))
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert pred.grad is not None and torch.equal(pred.grad, torch.zeros(2))


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="pred"):
        masked_mse(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match="mask"):
        masked_mae(torch.zeros(3), torch.zeros(3), torch.ones(2, dtype=torch.bool))
