"""torch.distributed plumbing for `torchrun --nproc_per_node N -m latentsearch train ...`.

Without torchrun's environment (WORLD_SIZE unset or 1) everything is a single process and these
helpers do nothing.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def setup() -> tuple[int, int, torch.device]:
    """(rank, world size, device); joins the process group when torchrun started us."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world == 1:
        return 0, 1, torch.device("cuda" if cuda else "cpu")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return dist.get_rank(), world, torch.device(f"cuda:{local_rank}" if cuda else "cpu")


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel when running distributed, else the module itself."""
    if not active():
        return module
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)


def mean(value: torch.Tensor) -> float:
    if active():
        value = value.clone()
        dist.all_reduce(value)
        value /= dist.get_world_size()
    return value.item()


def barrier() -> None:
    if active():
        dist.barrier()


def finish() -> None:
    if active():
        dist.destroy_process_group()
