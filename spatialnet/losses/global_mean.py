"""Loss means over the global batch, so N processes learn exactly what one process would.

Under DDP each process holds a slice of the global batch, and DDP averages the gradients of the
processes' losses. A loss that averages over a count that varies between slices (tokens of
captions, labelled pixels, present values, class weights, questions per image) would then weigh
each slice equally instead of each element. Inside :func:`global_batch`, :func:`batch_mean`
divides the local sum by the count summed over all processes (times their number, which DDP's
average divides out again): every element weighs the same, whatever the split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

SumOverProcesses = Callable[[Tensor], Tensor]
_reduce: tuple[SumOverProcesses, int] | None = None


@contextmanager
def global_batch(sum_over_processes: SumOverProcesses, world_size: int) -> Iterator[None]:
    """Within the block, :func:`batch_mean` normalises by the count of the whole global batch.

    Every process must compute the same losses in the same order (one collective each).
    """
    global _reduce
    previous, _reduce = _reduce, (sum_over_processes, world_size)
    try:
        yield
    finally:
        _reduce = previous


def batch_mean(total: Tensor, count: Tensor) -> Tensor:
    """``total / count``, or inside :func:`global_batch` ``total × world size / Σ_processes count``.

    A count of 0 gives 0, still connected to ``total``'s graph.
    """
    count = count.detach().to(device=total.device, dtype=total.dtype)  # NCCL reduces device tensors
    world_size = 1
    if _reduce is not None:
        sum_over_processes, world_size = _reduce
        count = sum_over_processes(count.clone())
    denominator = torch.where(count > 0, count, torch.ones_like(count))  # counts may be weights < 1
    return total * world_size / denominator
