"""What the cache root holds, kind by kind, and how to clear it (``gcl-bench cache info|clear``).

Every cache lives under :func:`gcl_bench.config.cache_dir` (``$GCL_BENCH_CACHE``, else
``$XDG_CACHE_HOME/gcl_bench``, else ``~/.cache/gcl_bench``), one folder per kind
(:data:`CACHE_KINDS`). Everything in it can be rebuilt: datasets are parsed again, embeddings
encoded again, BM25 indexes built again, the bundled sample regenerated, weights downloaded again (the one kind that
needs the network).

May import: :mod:`gcl_bench.config`, :mod:`gcl_bench.errors`, the standard library.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from gcl_bench.config import cache_dir
from gcl_bench.errors import GclBenchError

CACHE_KINDS: dict[str, tuple[str, str]] = {
    "datasets": ("data", "parsed splits and corpora"),
    "embeddings": ("embeddings", "query and document embeddings"),
    "weights": ("weights", "downloaded model weights"),
    "bm25": ("bm25", "BM25 indexes, one per corpus and settings"),
    "numba": ("numba", "compiled numba kernels (BM25, top-k, metrics)"),
    "images": ("images", "images of the HF parquet export"),
    "sample": ("sample", "the bundled sample benchmark"),
    "tmp": ("tmp", "scratch of unfinished torchrun encodes"),
}
"""kind -> (folder under the cache root, what it holds)."""

KIND_ALIASES = {"models": "weights", "data": "datasets"}
"""Other names users give those kinds."""


@dataclass
class KindUsage:
    """Files and bytes of one cache kind (``path`` may not exist: then both are 0)."""

    kind: str
    path: Path
    what: str
    files: int
    bytes: int


def cache_root_source() -> str:
    """Which setting chose the cache root: ``GCL_BENCH_CACHE``, ``XDG_CACHE_HOME`` or the default."""
    if os.environ.get("GCL_BENCH_CACHE"):
        return "GCL_BENCH_CACHE"
    return "XDG_CACHE_HOME" if os.environ.get("XDG_CACHE_HOME") else "default (~/.cache)"


def _usage(path: Path) -> tuple[int, int]:
    files = size = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                size += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # removed while walking
                continue
            files += 1
    return files, size


def cache_usage() -> list[KindUsage]:
    """One :class:`KindUsage` per kind of :data:`CACHE_KINDS`, then one per unknown folder (``other``)."""
    root = cache_dir()
    rows = []
    for kind, (folder, what) in CACHE_KINDS.items():
        rows.append(KindUsage(kind, root / folder, what, *_usage(root / folder)))
    known = {folder for folder, _ in CACHE_KINDS.values()}
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.name not in known:
                rows.append(KindUsage("other", path, "not written by gcl_bench", *_usage(path)))
    return rows


def check_kind(kind: str) -> str:
    """The kind ``kind`` names (:data:`CACHE_KINDS`, or an alias), else one clear error listing them."""
    kind = KIND_ALIASES.get(kind, kind)
    if kind not in CACHE_KINDS:
        raise GclBenchError(f"unknown cache kind {kind!r}; valid: {', '.join(CACHE_KINDS)}")
    return kind


def clear_cache(kinds: list[str]) -> list[KindUsage]:
    """Remove the folders of ``kinds`` (each checked); return what they held."""
    root = cache_dir()
    removed = []
    for kind in map(check_kind, kinds):
        folder, what = CACHE_KINDS[kind]
        path = root / folder
        usage = KindUsage(kind, path, what, *_usage(path))
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        removed.append(usage)
    return removed


def format_bytes(count: int) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover - the loop always returns
