"""What results.json records besides the metrics: package versions, settings, cache use.

:func:`package_versions` reads the versions of the packages that decide the numbers from their
metadata (nothing is imported); :func:`settings_record` is the ``settings`` section;
:func:`cache_summary` says whether the dataset and embedding caches were hit; :func:`jsonable`
turns numpy values (and large arrays, as a placeholder) into JSON values.

May import: the standard library, numpy.
"""
from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from gcl_bench import __version__

#: results.json key -> the distribution whose version it records
PACKAGES = (("torch", "torch"), ("open_clip", "open_clip_torch"), ("faiss", "faiss-cpu"),
            ("numpy", "numpy"), ("bm25s", "bm25s"), ("transformers", "transformers"))
FAISS_BUILDS = ("faiss-gpu-cu12", "faiss-gpu", "faiss")


def package_versions() -> dict[str, str | None]:
    """Versions of the packages that decide the numbers (read from metadata, nothing imported)."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {"gcl_bench": __version__, "python": platform.python_version()}
    for key, dist in PACKAGES:
        try:
            found[key] = version(dist)
        except PackageNotFoundError:
            found[key] = None
    if found["faiss"] is None:
        for dist in FAISS_BUILDS:
            try:
                found["faiss"] = version(dist)
                break
            except PackageNotFoundError:
                continue
    return found


def settings_record(settings: Any, metrics: Sequence[str]) -> dict[str, Any]:
    """The ``settings`` section: every field of a run's settings dataclass, the metric names as
    scored; what only decides where output goes or what the console shows is left out."""
    record = asdict(settings)
    record["metrics"] = list(metrics)
    for key in ("show_progress", "output_dir"):
        record.pop(key, None)
    return record


def cache_summary(load_cache: dict[str, Any] | None, retrieval_info: dict[str, Any]) -> dict[str, Any]:
    """Whether the dataset, embedding and BM25 index caches were hit (details stay under ``retrieval``)."""
    embeddings = retrieval_info.get("encode", {}).get("cache")
    summary: dict[str, Any] = {"dataset": load_cache}
    if embeddings is not None:
        summary["embeddings"] = {
            "enabled": embeddings.get("enabled"),
            "hit": embeddings.get("hit"),
            "items_encoded": embeddings.get("items_encoded"),
            "shards_repaired": embeddings.get("shards_repaired", 0),
        }
    bm25_index = retrieval_info.get("bm25_index")
    if bm25_index is not None:
        summary["bm25_index"] = {"status": bm25_index.get("status"), "damaged": bm25_index.get("damaged")}
    return summary


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and arrays as lists (a placeholder past 1,000 items)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 1000 else f"<array {value.shape}>"
    if isinstance(value, np.generic):
        return value.item()
    return value
