"""Small helpers shared by the metric families: rank discounts and input checks.

Every metric function takes a *ranked gain matrix*: ``gains[q, r]`` is the grade of the document
at rank ``r + 1`` of query ``q`` (0 for an unjudged document and for padding after the end of a
short list). Rows are queries, columns are ranks, best first.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError


def ranks(depth: int) -> np.ndarray:
    """``[1, 2, ..., depth]`` as float64."""
    return np.arange(1, depth + 1, dtype=np.float64)


def as_gain_matrix(gains: ArrayLike) -> np.ndarray:
    """Check that ``gains`` is a (Q, K) matrix of non-negative integer grades; return it."""
    matrix = np.asarray(gains)
    if matrix.ndim != 2:
        raise GclBenchError(f"gains must be a (queries, ranks) matrix, got shape {matrix.shape}")
    if matrix.dtype.kind == "f":
        if not (np.isfinite(matrix).all() and (matrix == np.floor(matrix)).all()):
            raise GclBenchError("gains must be non-negative integer grades")
        matrix = matrix.astype(np.int64)
    elif matrix.dtype.kind not in "iub":
        raise GclBenchError(f"gains must be non-negative integer grades, got dtype {matrix.dtype}")
    if matrix.size and matrix.min() < 0:
        raise GclBenchError("gains must be non-negative integer grades")
    return matrix


def as_query_vector(values: ArrayLike, n_queries: int, what: str) -> np.ndarray:
    """Check that ``values`` has one entry per query; return it as int64."""
    vector = np.asarray(values, dtype=np.int64)
    if vector.shape != (n_queries,):
        raise GclBenchError(f"{what} must have one entry per query ({n_queries}), got {vector.shape}")
    return vector


def check_cutoff(k: int | None) -> int | None:
    """None (the whole list) or a positive integer cutoff."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise GclBenchError(f"a rank cutoff must be a positive integer, got {k!r}")
    return None if k is None else int(k)
