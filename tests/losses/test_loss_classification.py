"""Classification losses against formulas computed by hand with ``math``."""

from __future__ import annotations

import math

import pytest
import torch

from spatialnet.losses.classification import focal_loss, inverse_median_frequency, weighted_cross_entropy

ROWS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]
TARGET = [0, 2]


def log_softmax_row(row: list[float]) -> list[float]:
    lse = math.log(sum(math.exp(z) for z in row))
    return [z - lse for z in row]


def ce(row: list[float], y: int) -> float:
    return -log_softmax_row(row)[y]


def logits() -> torch.Tensor:
    return torch.tensor(ROWS, requires_grad=True)


def test_inverse_median_frequency_known_answer() -> None:
    w = inverse_median_frequency([10, 20, 40])
    torch.testing.assert_close(w, torch.tensor([2.0, 1.0, 0.5]))


def test_inverse_median_frequency_even_count_and_zero_class() -> None:
    # present frequencies 1/10, 2/10, 3/10, 4/10 -> median (2+3)/20 = 0.25; absent class -> 0
    w = inverse_median_frequency(torch.tensor([10, 0, 20, 30, 40]))
    torch.testing.assert_close(w, torch.tensor([2.5, 0.0, 1.25, 0.25 / 0.3, 0.25 / 0.4]))


@pytest.mark.parametrize("bad", [[], [0, 0], [1, -1]])
def test_inverse_median_frequency_refuses_bad_counts(bad: list[int]) -> None:
    with pytest.raises(ValueError, match="counts"):
        inverse_median_frequency(bad)


def test_cross_entropy_unweighted() -> None:
    expected = (ce(ROWS[0], 0) + ce(ROWS[1], 2)) / 2
    assert weighted_cross_entropy(logits(), torch.tensor(TARGET)).item() == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_weighted_mean_is_sum_w_ce_over_sum_w() -> None:
    w = [1.0, 2.0, 0.5]
    expected = (w[0] * ce(ROWS[0], 0) + w[2] * ce(ROWS[1], 2)) / (w[0] + w[2])
    got = weighted_cross_entropy(logits(), torch.tensor(TARGET), class_weights=torch.tensor(w))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_dense_maps_and_ignore_index() -> None:
    dense = torch.tensor(ROWS).T.reshape(1, 3, 1, 2)  # pixel j holds ROWS[j]
    w = torch.tensor([1.0, 2.0, 0.5])
    expected = (1.0 * ce(ROWS[0], 0) + 0.5 * ce(ROWS[1], 2)) / 1.5
    got = weighted_cross_entropy(dense, torch.tensor([[[0, 2]]]), class_weights=w)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    got = weighted_cross_entropy(dense, torch.tensor([[[-100, 2]]]), class_weights=w)
    assert got.item() == pytest.approx(ce(ROWS[1], 2), rel=1e-6)


def test_cross_entropy_soft_targets() -> None:
    q = [[0.7, 0.2, 0.1], [0.0, 0.0, 1.0]]
    pairs = zip(q, ROWS, strict=True)
    expected = -sum(qc * lp for qi, row in pairs for qc, lp in zip(qi, log_softmax_row(row), strict=True)) / 2
    got = weighted_cross_entropy(logits(), torch.tensor(q))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_label_smoothing() -> None:
    eps, k = 0.1, 3
    per = [
        (1 - eps) * ce(row, y) + eps / k * sum(-lp for lp in log_softmax_row(row))
        for row, y in zip(ROWS, TARGET, strict=True)
    ]
    got = weighted_cross_entropy(logits(), torch.tensor(TARGET), label_smoothing=eps)
    assert got.item() == pytest.approx(sum(per) / 2, rel=1e-6)


def test_cross_entropy_all_ignored_is_zero_with_grad() -> None:
    x = logits()
    loss = weighted_cross_entropy(x, torch.tensor([-100, -100]))
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert x.grad is not None and torch.equal(x.grad, torch.zeros_like(x))


def test_cross_entropy_shape_error_names_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2,\)"):
        weighted_cross_entropy(logits(), torch.tensor([[0, 1]]))


def focal_term(row: list[float], y: int, alpha: float, gamma: float, w: float = 1.0) -> float:
    log_p = log_softmax_row(row)[y]
    return -alpha * w * (1 - math.exp(log_p)) ** gamma * log_p


def test_focal_loss_default_alpha_gamma() -> None:
    expected = (focal_term(ROWS[0], 0, 0.25, 2.0) + focal_term(ROWS[1], 2, 0.25, 2.0)) / 2
    got = focal_loss(logits(), torch.tensor(TARGET))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_focal_loss_class_weights_mean_over_valid_count() -> None:
    w = [1.0, 2.0, 0.5]
    expected = (focal_term(ROWS[0], 0, 0.5, 3.0, w[0]) + focal_term(ROWS[1], 2, 0.5, 3.0, w[2])) / 2
    got = focal_loss(logits(), torch.tensor(TARGET), alpha=0.5, gamma=3.0, class_weights=torch.tensor(w))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_focal_gamma_zero_relations_to_cross_entropy() -> None:
    t = torch.tensor(TARGET)
    # without class weights: α·CE
    plain = focal_loss(logits(), t, alpha=0.25, gamma=0.0)
    torch.testing.assert_close(plain, 0.25 * weighted_cross_entropy(logits(), t))
    # with class weights the focal mean divides by N, weighted CE by Σw_y: focal = α·wCE·Σw_y/N
    w = torch.tensor([1.0, 2.0, 0.5])
    weighted = focal_loss(logits(), t, alpha=0.25, gamma=0.0, class_weights=w)
    wce = weighted_cross_entropy(logits(), t, class_weights=w)
    torch.testing.assert_close(weighted, 0.25 * wce * (1.0 + 0.5) / 2)


def test_focal_loss_dense_with_ignored_pixel() -> None:
    rows = ROWS + [[0.0, 0.0, 3.0]]
    dense = torch.tensor(rows).T.reshape(1, 3, 1, 3)
    target = torch.tensor([[[0, -100, 2]]])
    expected = (focal_term(rows[0], 0, 0.25, 2.0) + focal_term(rows[2], 2, 0.25, 2.0)) / 2
    assert focal_loss(dense, target).item() == pytest.approx(expected, rel=1e-6)


def test_focal_loss_all_ignored_is_zero_with_grad() -> None:
    x = logits()
    loss = focal_loss(x, torch.tensor([-100, -100]))
    assert loss.item() == 0.0
    loss.backward()
    assert x.grad is not None and torch.equal(x.grad, torch.zeros_like(x))


def test_focal_loss_refuses_soft_targets() -> None:
    with pytest.raises(ValueError, match="integer"):
        focal_loss(logits(), torch.rand(2, 3))
