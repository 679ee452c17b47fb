"""Which samples each process trains on, epoch by epoch: the same global batches on 1 or N processes."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class EpochSampler(Sampler[int]):
    """Seeded shuffle per epoch, sharded over ranks (rank r takes every world_size-th index).

    The first ``batch_size × world_size`` indices of the permutation form the first global
    batch whatever the number of processes, which makes DDP and single-process runs agree.
    """

    def __init__(
        self, size: int, seed: int, rank: int = 0, world_size: int = 1, shuffle: bool = True
    ) -> None:
        self.size, self.seed, self.rank, self.world_size, self.shuffle = size, seed, rank, world_size, shuffle
        self.epoch = 0
        self.per_rank = math.ceil(size / world_size)

    def set_epoch(self, epoch: int) -> None:  # noqa: D102
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.size, generator=generator).tolist()
        else:
            order = list(range(self.size))
        order += order[: self.per_rank * self.world_size - self.size]  # pad so every rank has equal work
        return iter(order[self.rank :: self.world_size])

    def __len__(self) -> int:
        return self.per_rank
