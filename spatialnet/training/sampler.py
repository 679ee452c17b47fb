"""Which samples each process trains on, epoch by epoch: the same global batches on 1 or N processes."""

from __future__ import annotations

from torch.utils.data import DistributedSampler

SEED_STRIDE = 1_000_003  # sampler seed = run seed × this (+ epoch, added by the sampler)


def epoch_sampler(size: int, seed: int, rank: int = 0, world_size: int = 1) -> DistributedSampler[int]:
    """A ``DistributedSampler`` over ``size`` items: seeded shuffle per epoch, sharded over ranks.

    The permutation is padded to a multiple of ``world_size`` and rank r takes every
    world_size-th index, so the first ``batch_size × world_size`` indices form the first global
    batch whatever the number of processes, which makes DDP and single-process runs agree.
    """
    return DistributedSampler(
        range(size),  # type: ignore[arg-type]  # the sampler only takes its length
        num_replicas=world_size,
        rank=rank,
        shuffle=True,
        seed=seed * SEED_STRIDE,
    )
