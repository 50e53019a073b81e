"""Which torch device a run uses: the one rule for ``--device`` (models, search and training).

``auto`` is CUDA when torch sees a GPU, else the CPU. Under torchrun (``LOCAL_RANK`` set),
``auto`` and ``cuda`` pick this process's GPU, ``cuda:<LOCAL_RANK mod GPU count>``, so the ranks
of one node never share a device. ``cuda:N`` is taken as given; asking for CUDA where there is
none is an error, as is a string torch does not know.
"""
from __future__ import annotations

import os

from gcl_bench.errors import GclBenchError


def resolve_device(device: str | None = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` (``cuda:<local rank>`` under torchrun) or ``"cpu"``; others checked."""
    import torch

    device = (device or "auto").strip().lower()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GclBenchError(f"--device {device}: no CUDA device is available (use --device cpu)")
    if device == "cuda" and os.environ.get("LOCAL_RANK", "").isdigit():
        return f"cuda:{int(os.environ['LOCAL_RANK']) % torch.cuda.device_count()}"
    try:
        torch.device(device)
    except (RuntimeError, ValueError):
        raise GclBenchError(f"--device {device!r} is not a torch device (auto, cpu, cuda, cuda:1)") from None
    return device
