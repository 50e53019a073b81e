"""Where gcl_bench keeps downloads, the bundled sample and caches, and where the Hugging Face cache is.

gcl_bench's own cache (:func:`cache_dir`) holds release archives, weights from URLs, the columnar
data cache and embeddings. Models and datasets that come from the Hugging Face Hub stay in the
Hugging Face cache (:func:`hub_cache_dir`), shared with ``hf download``, transformers and the
``datasets`` library, so a copy fetched by any of them is found. Both are read from the
environment at call time, so a change of ``HF_HUB_CACHE`` or ``HF_HUB_OFFLINE`` after import counts.
"""
from __future__ import annotations

import os
from pathlib import Path

_TRUE = ("1", "on", "yes", "true")


def cache_dir() -> Path:
    """The cache root: ``$GCL_BENCH_CACHE``, else ``$XDG_CACHE_HOME/gcl_bench``, else ``~/.cache/gcl_bench``."""
    env = os.environ.get("GCL_BENCH_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "gcl_bench"


def hub_cache_dir() -> Path:
    """The Hugging Face cache, by huggingface_hub's rules: ``$HF_HUB_CACHE``, else
    ``$HUGGINGFACE_HUB_CACHE``, else ``$HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``,
    else ``~/.cache/huggingface/hub``."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(name):
            return Path(os.path.expandvars(os.environ[name])).expanduser()
    home = os.environ.get("HF_HOME")
    if not home:
        xdg = os.environ.get("XDG_CACHE_HOME")
        home = str(Path(xdg).expanduser() / "huggingface") if xdg else str(Path.home() / ".cache" / "huggingface")
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def hub_offline() -> bool:
    """Whether the Hugging Face Hub must not be contacted: ``HF_HUB_OFFLINE`` set to 1/on/yes/true."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE
