"""Where gcl_bench keeps downloads, the bundled sample and caches."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache root: ``$GCL_BENCH_CACHE``, else ``$XDG_CACHE_HOME/gcl_bench``, else ``~/.cache/gcl_bench``."""
    env = os.environ.get("GCL_BENCH_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "gcl_bench"
