"""Safe checkpoint loading for open_clip-style models.

Checkpoints are read with ``torch.load(weights_only=True)``, which only rebuilds tensors and
plain containers and cannot run code hidden in a pickle. A file that needs full unpickling (it
stores Python objects such as an ``argparse.Namespace`` or a whole module) is refused with an
explanation unless the caller passes ``trust_checkpoint=True`` (``--trust-checkpoint``).
``.safetensors`` files are read with safetensors.

Accepted layouts: open_clip training "states" files (``{"state_dict": ..., "epoch": ...}``, keys
possibly prefixed ``module.`` by DistributedDataParallel), plain state dicts, and either of those
saved as ``.safetensors``. :func:`apply_state_dict` then checks that the keys fit the model and
names the first missing and unexpected keys when they do not.

Usage::

    state_dict = load_state_dict("gcl-vitb32-117-gs-full-states.pt")
    apply_state_dict(model, state_dict, "gcl-vitb32-117-gs-full-states.pt")

This module may import torch, safetensors and open_clip (inside functions),
:mod:`gcl_bench.errors`, :mod:`gcl_bench.io` and :mod:`gcl_bench.models.base`.
"""
from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gcl_bench.errors import GclBenchError
from gcl_bench.models.base import first_line

#: Key prefixes added by wrappers (DistributedDataParallel, torch.compile), stripped on load.
WRAPPER_PREFIXES = ("module.", "_orig_mod.")

_SHA_MEMO: dict[tuple[str, int, int], str] = {}


def load_state_dict(path: str | os.PathLike[str], trust_checkpoint: bool = False) -> dict[str, Any]:
    """Read a checkpoint file into a flat ``{name: tensor}`` dict on the CPU.

    ``path`` may be a ``.safetensors`` file, a plain ``torch.save``-d state dict, or an open_clip
    "states" file holding one under ``"state_dict"``; ``module.`` / ``_orig_mod.`` prefixes are
    removed. A pickle that needs more than tensors and plain containers is refused unless
    ``trust_checkpoint`` is true. Any problem raises :class:`GclBenchError` naming the file.
    """
    import torch

    file = Path(path)
    if not file.is_file():
        raise GclBenchError("checkpoint file not found", file)
    if file.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file

            loaded: Any = load_file(str(file), device="cpu")
        except Exception as err:  # any safetensors failure is a bad file
            raise GclBenchError(f"not a readable .safetensors file ({_first_line(err)})", file) from None
    else:
        try:
            loaded = torch.load(file, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            if not trust_checkpoint:
                raise GclBenchError(
                    "this checkpoint needs full unpickling, which can run arbitrary code stored in "
                    f"the file ({_unpickling_reason(err)}); refused. If you trust where it came "
                    "from, pass --trust-checkpoint (Python: trust_checkpoint=True), or re-save "
                    "its state_dict as a plain state dict or .safetensors",
                    file,
                ) from None
            try:
                loaded = torch.load(file, map_location="cpu", weights_only=False)
            except Exception as err2:
                raise GclBenchError(f"cannot unpickle checkpoint ({_first_line(err2)})", file) from None
        except Exception as err:  # corrupt zip, truncated file, not a torch file
            raise GclBenchError(f"not a readable PyTorch checkpoint ({_first_line(err)})", file) from None
    return _to_flat_state_dict(loaded, file)


def _to_flat_state_dict(loaded: Any, file: Path) -> dict[str, Any]:
    import torch

    if isinstance(loaded, torch.nn.Module):  # only reachable with trust_checkpoint
        loaded = loaded.state_dict()
    if isinstance(loaded, Mapping) and "state_dict" in loaded:
        loaded = loaded["state_dict"]
    if not isinstance(loaded, Mapping) or not loaded:
        kind = "an empty dict" if isinstance(loaded, Mapping) else type(loaded).__name__
        raise GclBenchError(f"expected a state dict of tensors, found {kind}", file)
    state_dict: dict[str, Any] = {}
    for key, value in loaded.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise GclBenchError(
                f"expected a state dict of tensors, but entry {key!r} is a {type(value).__name__}",
                file,
            )
        state_dict[strip_wrapper_prefixes(key)] = value
    return state_dict


def strip_wrapper_prefixes(key: str) -> str:
    """``module._orig_mod.visual.conv1.weight`` -> ``visual.conv1.weight``."""
    changed = True
    while changed:
        changed = False
        for prefix in WRAPPER_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
                changed = True
    return key


def apply_state_dict(model: Any, state_dict: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Load ``state_dict`` into an open_clip ``model`` strictly, with open_clip's usual fix-ups.

    Fix-ups (as ``open_clip.load_checkpoint`` does): a scalar/1-d ``logit_scale`` reshaped to the
    model's, a stale ``text.transformer.embeddings.position_ids`` dropped, and image/text
    positional embeddings resized when the model was built with another image size or context
    length. Keys that do not fit raise :class:`GclBenchError` naming the first missing and the
    first unexpected key (and the first shape mismatch).
    """
    from open_clip.model import resize_pos_embed, resize_text_pos_embed

    state_dict = dict(state_dict)
    expected = model.state_dict()
    for name in ("logit_scale", "logit_bias"):
        if name in state_dict and name in expected and state_dict[name].shape != expected[name].shape:
            if state_dict[name].numel() == expected[name].numel():
                state_dict[name] = state_dict[name].reshape(expected[name].shape)
    position_ids = "text.transformer.embeddings.position_ids"
    if position_ids in state_dict and position_ids not in expected:
        del state_dict[position_ids]
    if "logit_bias" in expected and "logit_bias" not in state_dict and "logit_scale" in state_dict:
        import torch

        state_dict["logit_bias"] = torch.zeros_like(expected["logit_bias"])
    try:
        resize_pos_embed(state_dict, model)
        resize_text_pos_embed(state_dict, model)
    except Exception:  # leave shapes alone; the check below names the problem
        pass
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (first: {missing[0]!r})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (first: {unexpected[0]!r})")
        raise GclBenchError(
            "checkpoint keys do not fit the architecture: " + ", ".join(parts)
            + "; is --model the architecture this checkpoint was trained with?",
            path,
        )
    for key, value in expected.items():
        if tuple(state_dict[key].shape) != tuple(value.shape):
            raise GclBenchError(
                f"checkpoint tensor {key!r} has shape {tuple(state_dict[key].shape)}, the "
                f"architecture expects {tuple(value.shape)}; is --model the right architecture?",
                path,
            )
    model.load_state_dict(state_dict, strict=True)


def checkpoint_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a checkpoint file, remembered per (path, size, mtime) for this process."""
    from gcl_bench.io import sha256_file

    file = Path(path).resolve()
    stat = file.stat()
    memo_key = (str(file), stat.st_size, stat.st_mtime_ns)
    if memo_key not in _SHA_MEMO:
        _SHA_MEMO[memo_key] = sha256_file(file)
    return _SHA_MEMO[memo_key]


def _unpickling_reason(err: Exception) -> str:
    text = str(err)
    for line in text.splitlines():
        line = line.strip()
        if "GLOBAL" in line or "Unsupported global" in line or "Unsupported operand" in line:
            return line.rstrip(".")
    return _first_line(err)


def _first_line(err: BaseException) -> str:
    return first_line(err).rstrip(".")
