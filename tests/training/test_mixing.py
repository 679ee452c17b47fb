"""Mixed-dataset batches: exact per-epoch counts, seeded order, passes that restart loaders."""

from __future__ import annotations

import pytest
from torch.utils.data import DataLoader

from spatialnet.errors import RecipeError
from spatialnet.training.mixing import PASS_STRIDE, MixedBatches, batch_counts, mixing_shares
from spatialnet.training.sampler import epoch_sampler


def test_proportional_and_temperature_shares():
    sizes = {"a": 900, "b": 100}
    assert mixing_shares(sizes, {"a": 1, "b": 3}, "proportional", 2.0) == {"a": 0.25, "b": 0.75}
    flat = mixing_shares(sizes, {"a": 1, "b": 1}, "temperature", 2.0)  # ∝ √size: 30 vs 10
    assert flat == pytest.approx({"a": 0.75, "b": 0.25})
    assert mixing_shares(sizes, {"a": 1, "b": 1}, "temperature", 1.0) == pytest.approx({"a": 0.9, "b": 0.1})
    with pytest.raises(RecipeError, match="train.mix"):
        mixing_shares(sizes, {"a": 1, "b": 1}, "uniform", 1.0)


def test_counts_are_exact_by_largest_remainder():
    assert batch_counts({"a": 0.25, "b": 0.40, "c": 0.35}, 80) == {"a": 20, "b": 32, "c": 28}
    counts = batch_counts({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, 10)
    assert sum(counts.values()) == 10 and sorted(counts.values()) == [3, 3, 4]


def loader(size: int, batch: int) -> DataLoader:
    return DataLoader(list(range(size)), batch_size=batch, sampler=epoch_sampler(size, seed=1))


def test_order_is_seeded_per_epoch_and_loaders_restart_with_new_passes():
    loaders = {"small": loader(4, 2), "big": loader(40, 2)}
    mixed = MixedBatches(loaders, {"small": 0.5, "big": 0.5}, steps=10, seed=7)
    first = [name for name, _ in mixed.epoch(0)]
    assert first == mixed.order(0) and first.count("small") == first.count("big") == 5
    assert mixed.order(0) == MixedBatches(loaders, {"small": 0.5, "big": 0.5}, 10, 7).order(0)
    assert mixed.order(1) != mixed.order(0)
    small = [batch.tolist() for name, batch in mixed.epoch(0) if name == "small"]
    # 5 batches from a 2-batch loader: passes 0, 1, 2 with their own seeded shuffles
    passes = []
    for k in range(3):
        sampler = epoch_sampler(4, seed=1)
        sampler.set_epoch(0 + PASS_STRIDE * k)
        passes.append([[i for i in sampler][j : j + 2] for j in (0, 2)])
    assert small == [b for p in passes for b in p][:5]


def test_one_dataset_is_its_loader_in_order():
    data = loader(10, 4)
    mixed = MixedBatches({"only": data}, {"only": 1.0}, steps=len(data), seed=1)
    data.sampler.set_epoch(3)
    expected = [b.tolist() for b in data]
    assert [b.tolist() for _, b in mixed.epoch(3)] == expected
