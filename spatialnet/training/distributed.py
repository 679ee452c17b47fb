"""Multi-process training through torchrun + PyTorch DDP.

``torchrun --nproc-per-node N -m spatialnet train …`` (one node) or with ``--nnodes`` and
a rendezvous endpoint (several nodes) sets RANK/WORLD_SIZE/LOCAL_RANK; this module joins
the process group (NCCL on GPUs, gloo on CPUs) and offers the few collectives the
trainer needs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from spatialnet.devices import select_device


@dataclass
class DistributedContext:
    """Where this process stands in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Only rank 0 writes checkpoints, prints and shows progress."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:  # noqa: D102
        return self.world_size > 1


def init_distributed(requested_device: str) -> DistributedContext:
    """Join the torchrun process group if launched by torchrun, else a single-process context."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = select_device(requested_device, local_rank)
    if world_size <= 1:
        return DistributedContext(device=device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return DistributedContext(dist.get_rank(), dist.get_world_size(), local_rank, device)


def all_reduce_mean(value: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Mean of ``value`` over processes (identity in a single process)."""
    if not context.enabled:
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / context.world_size


def all_gather_tensor(value: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Concatenate equally shaped per-process tensors along dim 0 in rank order."""
    if not context.enabled:
        return value
    parts = [torch.empty_like(value) for _ in range(context.world_size)]
    dist.all_gather(parts, value.contiguous())
    return torch.cat(parts)


def sum_over_processes(value: torch.Tensor) -> torch.Tensor:
    """Σ of ``value`` over the process group (a collective: every process must call it)."""
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def broadcast_from_main(value: float, context: DistributedContext) -> float:
    """Rank 0's ``value`` on every process (identity in a single process)."""
    if not context.enabled:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=context.device)
    dist.broadcast(tensor, src=0)
    return float(tensor.item())


def barrier(context: DistributedContext) -> None:
    """Wait for every process (no-op in a single process)."""
    if context.enabled:
        dist.barrier()


def shutdown(context: DistributedContext) -> None:
    """Leave the process group."""
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
