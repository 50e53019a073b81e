"""Training checkpoints: where they live, how they are written, read back for an exact resume, and
slimmed for shipping.

Checkpoints are open_clip "states" files (``{"epoch", "name", "state_dict", "optimizer", ...}``)
under ``<output-dir>/checkpoints/``: ``step_<N>.pt`` every ``--save-every`` steps and
``latest.pt`` (the newest; also written at exit), so ``open_clip.create_model_and_transforms(ARCH,
pretrained=PATH)`` and ``gcl-bench run --model open_clip:ARCH --pretrained PATH`` load them. The
extra keys (``scheduler``, ``scaler``, ``rng``, ``position``, ``config``) make a resumed run
continue exactly as the uninterrupted run would: the random number generators (torch, CUDA,
Python, NumPy) are saved and restored with the weights and optimiser.

Imports torch, NumPy, :mod:`gcl_bench.io` and :mod:`gcl_bench.models.checkpoint`.
"""
from __future__ import annotations

import io
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gcl_bench.errors import GclBenchError

CHECKPOINT_DIR = "checkpoints"
LATEST = "latest.pt"


def checkpoint_path(output_dir: str | os.PathLike[str], step: int | None = None) -> Path:
    """``<output_dir>/checkpoints/step_<step>.pt``, or ``latest.pt`` when ``step`` is None."""
    folder = Path(output_dir) / CHECKPOINT_DIR
    return folder / (LATEST if step is None else f"step_{step:07d}.pt")


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` through a temporary file renamed into place (the earlier file stays whole
    when the write fails: a full disk is a GclBenchError naming ``path``)."""
    from gcl_bench.io import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(state, handle)  # a file object: write errors arrive as OSError, not RuntimeError
        handle.flush()
        os.fsync(handle.fileno())


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's weights, detached and on the CPU (what a checkpoint stores)."""
    return {key: value.detach().cpu() for key, value in model.state_dict().items()}


# -- random number generators --------------------------------------------------------------------

def seed_everything(seed: int) -> None:
    """Seed torch, Python's ``random`` and NumPy's global generator with ``seed``."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


def rng_state(device: torch.device) -> dict[str, Any]:
    """Every generator's state (CUDA's too on a CUDA ``device``), as tensors and plain values."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch"])
    random.setstate(_as_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached"]))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _as_tuple(value: Any) -> Any:
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


# -- resume --------------------------------------------------------------------------------------

def resolve_resume(resume: str | None, output_dir: str | os.PathLike[str]) -> Path | None:
    """The checkpoint ``--resume`` names (``latest``: this run's ``latest.pt``); None without it."""
    if not resume:
        return None
    path = checkpoint_path(output_dir) if resume == "latest" else Path(resume).expanduser()
    if not path.is_file():
        raise GclBenchError("resume checkpoint not found", path)
    return path


def load_resume(path: Path, arch: str) -> dict[str, Any]:
    """Read a training checkpoint to resume from; refuse weights-only files and another ``arch``."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any unreadable file is the user's input
        raise GclBenchError(f"not a readable training checkpoint ({str(err).splitlines()[0]})", path) from None
    if not isinstance(state, dict) or "position" not in state or "config" not in state:
        raise GclBenchError("not a gcl_bench training checkpoint (no optimizer/position state); "
                            "use --pretrained to start from its weights", path)
    saved = state["config"]
    if saved.get("arch") != arch:
        raise GclBenchError(f"checkpoint was trained with --arch {saved.get('arch')}, this run uses "
                            f"--arch {arch}", path)
    return state


def apply_resume_weights(model: nn.Module, state: dict[str, Any], path: Path) -> None:
    """Load a resume checkpoint's weights into ``model`` (wrapper prefixes such as ``module.`` dropped)."""
    from gcl_bench.models.checkpoint import apply_state_dict, strip_wrapper_prefixes

    weights = {strip_wrapper_prefixes(k): v for k, v in state["state_dict"].items()}
    apply_state_dict(model, weights, path)


def restore_training_state(state: dict[str, Any], optimizer: torch.optim.Optimizer, scheduler: Any,
                           scaler: torch.amp.GradScaler, rank: int,
                           device: torch.device) -> tuple[int, int]:
    """Load the optimiser, schedule, scaler and this rank's generators; return (step, micro-batch)."""
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    step = int(state["position"]["step"])
    micro = int(state["position"]["micro_batch"])
    rng = state["rng"]
    set_rng_state(rng[rank] if isinstance(rng, list) else rng, device)
    return step, micro


# -- shipping ------------------------------------------------------------------------------------

def export_weights(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str],
                   dtype: torch.dtype = torch.float16) -> Path:
    """Write a checkpoint's weights alone (``{"state_dict": ...}``, cast to ``dtype``) for shipping.

    The optimizer and resume state are dropped; ``gcl-bench run --pretrained OUT`` and open_clip
    load the result (weights are cast back to the model's float32 on load). The same weights
    always give the same bytes.
    """
    from gcl_bench.io import write_bytes
    from gcl_bench.models.checkpoint import load_state_dict

    weights = load_state_dict(checkpoint)
    slim = {key: (value.to(dtype) if value.is_floating_point() else value).contiguous()
            for key, value in weights.items()}
    path = Path(out)
    buffer = io.BytesIO()  # a file object: the archive's inner folder name is fixed, bytes reproducible
    torch.save({"state_dict": slim}, buffer)
    write_bytes(path, buffer.getvalue())
    return path
