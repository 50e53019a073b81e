"""numba kernels: where their compiled code is kept, and the one note when they are compiled.

Every numba kernel gcl_bench calls (BM25 retrieval, exact top-k, the metric joins) is jitted with
``cache=True``, so its machine code is compiled on the first use on a machine and loaded from
disk afterwards. :func:`use_numba_cache_dir` (run when ``gcl_bench`` is imported) points
``NUMBA_CACHE_DIR`` at ``<cache root>/numba`` unless it is set already, so that code lives with
gcl_bench's other caches (``gcl-bench cache info``/``clear numba``) and never beside the
installed sources.

Compiling takes seconds (about 6 s for BM25, 4 s for top-k, a few for the metrics), so a
kernel's owner calls :func:`note_if_compiling` just before its first call; when a kernel has no
compiled code in this process and no entry in numba's on-disk cache (its index file, e.g.
``_kernels.judged_cells-103.py311.nbi``, is missing) the note "compiling kernels, once (cached
under DIR)" goes, once per process, to the sink a command set with :func:`set_note_sink`
(``gcl-bench run`` shows it as a note, hidden by ``--quiet``; without a sink nothing is
printed). A kernel whose index file exists but lacks the argument types of this call is
compiled without the note.

May import: :mod:`gcl_bench.config`, the standard library (numba only as the caller's objects).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_sink: Callable[[str], None] | None = None
_announced = False


def use_numba_cache_dir() -> Path:
    """Set ``NUMBA_CACHE_DIR`` to ``<cache root>/numba`` unless it is set; the folder in use.

    When numba was imported before, its config is updated too (kernels decorated after this
    call are cached there).
    """
    from gcl_bench.config import cache_dir

    folder = os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir() / "numba"))
    config = sys.modules.get("numba.core.config")
    if config is not None and not getattr(config, "CACHE_DIR", None):
        config.CACHE_DIR = folder
    return Path(folder)


def set_note_sink(sink: Callable[[str], None] | None) -> None:
    """Where :func:`note_if_compiling` sends its note (None: nowhere)."""
    global _sink
    _sink = sink


def will_compile(dispatcher: Any) -> bool:
    """Whether calling the numba ``dispatcher`` compiles it: no code in this process and no
    index file in numba's on-disk cache (or no on-disk cache at all)."""
    if getattr(dispatcher, "signatures", None):
        return False
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    index_path = getattr(cache_file, "_index_path", None)
    return index_path is None or not os.path.exists(index_path)


def note_if_compiling(*dispatchers: Any) -> bool:
    """Send the compile note (once per process) if any of ``dispatchers`` :func:`will_compile`;
    whether it was sent now."""
    global _announced
    if _announced or _sink is None or not any(will_compile(d) for d in dispatchers):
        return False
    _announced = True
    _sink(f"compiling kernels, once (cached under {os.environ.get('NUMBA_CACHE_DIR') or 'numba default'})")
    return True
