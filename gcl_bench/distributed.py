"""torch.distributed helpers for runs started with ``torchrun`` (rank and world size from env).

Nothing here distributes work by itself: callers shard by :func:`rank` / :func:`world_size` and
meet at :func:`barrier`. Outside torchrun (``WORLD_SIZE`` unset or 1) every helper is a no-op and
the process is the main process.
"""
from __future__ import annotations

import os
from typing import Any


def world_size() -> int:
    """Number of processes (``WORLD_SIZE``, default 1)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def rank() -> int:
    """Global rank of this process (``RANK``, default 0)."""
    return int(os.environ.get("RANK", "0") or 0)


def local_rank() -> int:
    """Rank on this node (``LOCAL_RANK``, default 0): the GPU index to use."""
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def is_distributed() -> bool:
    """True under torchrun with more than one process."""
    return world_size() > 1


def is_main_process() -> bool:
    """True on rank 0 (and always outside torchrun): the process that searches, scores, writes."""
    return rank() == 0


def local_world_size() -> int:
    """Processes on this node (``LOCAL_WORLD_SIZE``, default :func:`world_size`)."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "") or world_size())


def pick_backend(use_cuda: bool, gpus: int, ranks_on_node: int) -> str:
    """``nccl`` when every rank of the node has a GPU of its own, else ``gloo`` (CPU, or several
    ranks sharing a GPU, which NCCL refuses)."""
    return "nccl" if use_cuda and gpus >= ranks_on_node else "gloo"


def init_process_group(device: str | None = None, backend: str | None = None) -> bool:
    """Join the process group when distributed and not joined yet; True if this call joined it.

    backend: by default :func:`pick_backend` (the GPU ``local_rank mod GPU count`` is selected on
    CUDA, the device :func:`gcl_bench.devices.resolve_device` gives this rank).
    """
    if not is_distributed():
        return False
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return False
    use_cuda = bool(device and str(device).startswith("cuda") and torch.cuda.is_available())
    gpus = torch.cuda.device_count() if use_cuda else 0
    if backend is None:
        backend = pick_backend(use_cuda, gpus, local_world_size())
    if use_cuda:
        torch.cuda.set_device(local_rank() % gpus)
    dist.init_process_group(backend=backend)
    return True


def destroy_process_group() -> None:
    """Leave the process group if this process is in one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (no-op when not distributed or not initialised)."""
    if not is_distributed():
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """``obj`` from rank ``src`` on every rank (returns ``obj`` unchanged when not distributed)."""
    if not is_distributed():
        return obj
    import torch.distributed as dist

    if not dist.is_initialized():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_gather_object(obj: Any) -> list[Any]:
    """``obj`` of every rank, in rank order (``[obj]`` when not distributed or not initialised)."""
    if not is_distributed():
        return [obj]
    import torch.distributed as dist

    if not dist.is_initialized():
        return [obj]
    objects: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(objects, obj)
    return objects


def mean_over_ranks(value: float, device: Any = "cpu") -> float:
    """The mean of ``value`` over every rank, summed in float64 on ``device`` (the backend's: a
    GPU for NCCL); ``value`` itself when not distributed or not initialised."""
    if not is_distributed():
        return value
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        return value
    total = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return float(total.item()) / dist.get_world_size()
