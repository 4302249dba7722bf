"""Process-group set-up for data-parallel training under ``torchrun`` (gloo on CPU, NCCL on GPU)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from autodrag import cli_types

__all__ = ["DistInfo", "init_distributed", "resolve_device", "shutdown_distributed"]


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in a (possibly single-process) run."""

    rank: int = 0  # global rank; rank 0 writes checkpoints, logs and samples
    world_size: int = 1  # number of processes
    local_rank: int = 0  # rank on this machine, picks the GPU
    enabled: bool = False  # a process group was initialised

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> ``cuda:<local_rank>`` when CUDA is available, else ``cpu`` (`autodrag.cli_types.resolve_device`)."""
    return cli_types.resolve_device(name, local_rank)


def init_distributed(device_name: str) -> DistInfo:
    """Join the process group ``torchrun`` describes in the environment; a no-op when run plainly."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return DistInfo(rank, world_size, local_rank, enabled=True)


def broadcast_buffers(module: torch.nn.Module, info: DistInfo) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every rank.

    Each rank updates its running statistics from its own batches; evaluating with different
    statistics would give each rank a different validation metric and, with the plateau policy,
    different learning rates.
    """
    if info.enabled:
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def shutdown_distributed(info: DistInfo) -> None:
    """Leave the process group joined by :func:`init_distributed`."""
    if info.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
