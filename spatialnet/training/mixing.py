"""Which dataset each training batch comes from when a recipe trains on several (``datasets``).

Batches stay homogeneous (one dataset, one modality, the losses of its tasks). Per epoch the
number of batches of each dataset is fixed by its share (largest remainder, so the counts are
exact) and their order is a seeded shuffle of ``(seed, epoch)``: a resumed run and every DDP
rank draw the same sequence. A dataset whose loader runs out within the epoch starts another
seeded pass. With one dataset this is exactly its loader, epoch after epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch.utils.data import DataLoader

from spatialnet.errors import RecipeError

MIX_METHODS = ("proportional", "temperature")
PASS_STRIDE = 100_003  # sampler epoch of a further pass within one epoch: far beyond any real epoch


def mixing_shares(
    sizes: Mapping[str, int], proportions: Mapping[str, float], method: str, temperature: float
) -> dict[str, float]:
    """Share of training batches per dataset, summing to 1.

    ``proportional``: ∝ the recipe's ``proportion``; ``temperature``: ∝ size^(1/T) (Arivazhagan et
    al. 2019): T = 1 samples as the data lies, larger T flattens towards equal shares.
    """
    if method == "proportional":
        raw = {name: float(proportions[name]) for name in sizes}
    elif method == "temperature":
        if temperature <= 0:
            raise RecipeError(f"'train.mix_temperature' must be > 0, got {temperature}")
        raw = {name: float(size) ** (1.0 / temperature) for name, size in sizes.items()}
    else:
        raise RecipeError(f"'train.mix' is {method!r}; expected one of: {', '.join(MIX_METHODS)}")
    total = sum(raw.values())
    return {name: value / total for name, value in raw.items()}


def batch_counts(shares: Mapping[str, float], steps: int) -> dict[str, int]:
    """Batches per dataset in one epoch of ``steps``: the shares rounded by largest remainder."""
    exact = {name: share * steps for name, share in shares.items()}
    counts = {name: math.floor(value) for name, value in exact.items()}
    by_remainder = sorted(exact, key=lambda name: (counts[name] - exact[name], name))
    for name in by_remainder[: steps - sum(counts.values())]:
        counts[name] += 1
    return counts


class MixedBatches:
    """Per-dataset loaders interleaved into one epoch of ``steps`` batches, as ``(dataset, batch)``."""

    def __init__(
        self, loaders: Mapping[str, DataLoader[Any]], shares: Mapping[str, float], steps: int, seed: int
    ) -> None:
        if steps < 1:
            raise RecipeError(f"'train.steps_per_epoch' must be ≥ 1, got {steps}")
        self.loaders = dict(loaders)
        self.counts = batch_counts(shares, steps)
        self.steps = steps
        self.seed = seed

    def __len__(self) -> int:
        return self.steps

    def order(self, epoch: int) -> list[str]:
        """The dataset of each batch of ``epoch``."""
        names = [name for name, count in self.counts.items() for _ in range(count)]
        if len(self.loaders) == 1:
            return names
        generator = torch.Generator().manual_seed(self.seed * 1_000_033 + epoch)
        return [names[i] for i in torch.randperm(len(names), generator=generator).tolist()]

    def epoch(self, epoch: int) -> Iterator[tuple[str, Any]]:
        """The batches of ``epoch`` in order; each loader's sampler is set to its pass of this epoch."""
        iterators: dict[str, Iterator[Any]] = {}
        passes: dict[str, int] = {}
        for name in self.order(epoch):
            if name in iterators:
                batch = next(iterators[name], None)
                if batch is not None:
                    yield name, batch
                    continue
            passes[name] = passes.get(name, -1) + 1
            loader = self.loaders[name]
            sampler = loader.sampler
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch + PASS_STRIDE * passes[name])
            iterators[name] = iter(loader)
            yield name, next(iterators[name])
