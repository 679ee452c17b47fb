"""Losses inside ``global_batch`` average over the whole batch, however it is split over processes."""

import torch

from spatialnet.losses.classification import focal_loss, weighted_cross_entropy
from spatialnet.losses.global_mean import batch_mean, global_batch
from spatialnet.losses.regression import masked_mae


def split_mean(loss, inputs, count_of, halves):
    """What DDP makes of ``loss`` on two processes: the mean of each half's value, each half seeing
    the global count (a stand-in for the all-reduce) through ``global_batch``."""
    total_count = sum(count_of(*(x[h] for x in inputs)) for h in halves)
    values = []
    for h in halves:
        with global_batch(lambda c: torch.as_tensor(total_count, dtype=c.dtype), world_size=2):
            values.append(loss(*(x[h] for x in inputs)))
    return sum(values) / 2


def test_masked_mae_over_uneven_halves_equals_the_whole_batch():
    torch.manual_seed(0)
    pred, target = torch.randn(8, 5), torch.randn(8, 5)
    target[:3] = float("nan")  # the first half has far fewer labelled pixels
    halves = [slice(0, 4), slice(4, 8)]
    split = split_mean(masked_mae, (pred, target), lambda p, t: int((~t.isnan()).sum()), halves)
    assert torch.allclose(split, masked_mae(pred, target))


def test_weighted_cross_entropy_and_focal_over_uneven_halves_equal_the_whole_batch():
    torch.manual_seed(1)
    logits, target = torch.randn(8, 3, 4, 4), torch.randint(0, 3, (8, 4, 4))
    target[:4, :3] = -100
    weights = torch.tensor([0.2, 1.0, 3.0])
    halves = [slice(0, 4), slice(4, 8)]

    def weight_sum(_logits, t):
        valid = t != -100
        return float(weights[t[valid]].sum())

    wce = lambda x, t: weighted_cross_entropy(x, t, class_weights=weights)  # noqa: E731
    assert torch.allclose(split_mean(wce, (logits, target), weight_sum, halves), wce(logits, target))
    count = lambda _x, t: int((t != -100).sum())  # noqa: E731
    assert torch.allclose(split_mean(focal_loss, (logits, target), count, halves), focal_loss(logits, target))


def test_outside_the_block_a_mean_is_local_and_an_empty_one_is_zero():
    assert batch_mean(torch.tensor(3.0), torch.tensor(0.5)) == 6.0  # weights below 1 are counts too
    empty = batch_mean(torch.tensor(0.0, requires_grad=True), torch.tensor(0))
    assert empty == 0.0 and empty.requires_grad
