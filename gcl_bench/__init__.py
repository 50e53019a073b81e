"""gcl_bench: evaluate and train ranking-aware multi-modal retrievers on Marqo-GS-10M.

The public Python API is small and imported lazily, so ``import gcl_bench`` stays cheap:

- :func:`gcl_bench.evaluate` scores a BEIR-style run against graded judgements;
- :func:`gcl_bench.load_split` loads one split of a dataset folder into a :class:`Split`;
- :func:`gcl_bench.register_model` adds a retriever factory to the model registry.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate", "load_split", "register_model", "GclBenchError", "Split"]

_LAZY = {
    "evaluate": ("gcl_bench.metrics", "evaluate"),
    "load_split": ("gcl_bench.data", "load_split"),
    "Split": ("gcl_bench.data", "Split"),
    "register_model": ("gcl_bench.models", "register_model"),
    "GclBenchError": ("gcl_bench.errors", "GclBenchError"),
}

def _use_numba_cache_dir() -> None:
    """numba kernels keep their compiled code under the cache root (before any is decorated)."""
    from gcl_bench.kernels import use_numba_cache_dir

    use_numba_cache_dir()


_use_numba_cache_dir()

if TYPE_CHECKING:  # pragma: no cover
    from gcl_bench.data import Split, load_split
    from gcl_bench.errors import GclBenchError
    from gcl_bench.metrics import evaluate
    from gcl_bench.models import register_model


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        return getattr(importlib.import_module(module_name), attr)
    raise AttributeError(f"module 'gcl_bench' has no attribute {name!r}")
