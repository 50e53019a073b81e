"""Checks on what a model returns: every output becomes a float32 (rows, D) matrix or an error.

:func:`as_embedding_matrix` is the one gate between a model's ``encode_*`` output and the cache:
numpy or torch, 2-D, floating point, one row per item, a positive dimension, finite (an all-NaN
row is allowed where it marks an unusable value). Errors name the model.

Imports: numpy, :mod:`gcl_bench.errors` (torch only when the output is a list of tensors).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError


def as_embedding_matrix(
    output: Any, rows: int, model: str, what: str, allow_nan_rows: bool = False
) -> np.ndarray:
    """Check a model's output and return it as a float32 numpy matrix (rows, D).

    Accepts numpy arrays and torch tensors; raises GclBenchError naming the model when the output
    is not 2-D, not floating point, has the wrong number of rows, or holds NaN / inf
    (``allow_nan_rows``: a row that is entirely NaN is allowed; it marks an unusable value).
    """
    if hasattr(output, "detach") and hasattr(output, "cpu"):  # torch tensor
        output = output.detach().cpu()
        if output.is_floating_point():
            output = output.float()
        output = output.numpy()
    if isinstance(output, list) and output and hasattr(output[0], "detach"):
        return as_embedding_matrix(__import__("torch").stack(output), rows, model, what)
    array = np.asarray(output)
    if array.ndim != 2:
        raise GclBenchError(f"model {model}: {what} returned shape {array.shape}; expected 2-D ({rows}, dim)")
    if not np.issubdtype(array.dtype, np.floating):
        raise GclBenchError(f"model {model}: {what} returned dtype {array.dtype}; expected floating point")
    if array.shape[0] != rows:
        raise GclBenchError(f"model {model}: {what} returned {array.shape[0]} rows for {rows} items")
    if array.shape[1] == 0:
        raise GclBenchError(f"model {model}: {what} returned embeddings of dimension 0")
    array = np.ascontiguousarray(array, dtype=np.float32)
    finite = np.isfinite(array).all(axis=1)
    if allow_nan_rows:
        finite |= np.isnan(array).all(axis=1)
    if not finite.all():
        raise GclBenchError(
            f"model {model}: {what} returned NaN or infinite values ({int((~finite).sum())} of {rows} rows)"
        )
    return array
