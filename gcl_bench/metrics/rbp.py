"""Rank-biased precision (Moffat and Zobel, TOIS 2008): graded as in the GCL benchmark, and binary.

The user reads rank r+1 after rank r with probability p (the persistence):

.. math::

    \\mathrm{RBP@p}(q) = (1 - p) \\sum_{r \\ge 1} u_q(d_r)\\, p^{r-1}

- :func:`rbp` (``rbp@p``): the GCL benchmark's graded RBP, ``u_q(d) = g_q(d) / g_max(q)``
  (grade over the largest grade in q's judgements), over the whole retrieved list
  (marqo-ai/GCL ``evals/eval_gs_v1.py``; reported for p = 0.7, 0.8, 0.9).
- :func:`rbp_binary` (``rbp_binary@p``): the original binary RBP, ``u_q(d) = 1`` if
  ``g_q(d) >= 1`` else 0.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics._arrays import Hits, as_hits, as_query_vector

__all__ = ["rbp", "rbp_binary"]


def _rbp(hits: Hits, utilities: np.ndarray, p: float) -> np.ndarray:
    """``(1 - p) * sum over hits of u * p^(r-1)`` per row (low level)."""
    terms = utilities * np.power(p, hits.ranks.astype(np.float64))
    return np.bincount(hits.rows, weights=terms, minlength=hits.n_rows) * (1.0 - p)


def _graded_utilities(hits: Hits, max_grades: np.ndarray) -> np.ndarray:
    return hits.grades / max_grades[hits.rows]


def _check_p(p: float) -> float:
    if not 0.0 < float(p) < 1.0:
        raise GclBenchError(f"the RBP persistence p must satisfy 0 < p < 1, got {p!r}")
    return float(p)


def rbp(gains: ArrayLike, max_grades: ArrayLike, p: float) -> np.ndarray:
    """The GCL benchmark's graded RBP per query.

    ``RBP@p(q) = (1 - p) * sum_r (g(d_r) / g_max(q)) * p^(r-1)`` over the whole list.

    Args:
        gains: (Q, K) ranked gain matrix, best first; 0 for unjudged documents and padding.
        max_grades: (Q,) g_max(q) per query (> 0).
        p: persistence, 0 < p < 1.

    Returns:
        (Q,) float64 in [0, 1).
    """
    hits = as_hits(gains)
    max_grades = as_query_vector(max_grades, hits.n_rows, "max_grades")
    if (max_grades <= 0).any():
        raise GclBenchError("max_grades must be positive: a query without a positive grade has no RBP")
    return _rbp(hits, _graded_utilities(hits, max_grades), _check_p(p))


def rbp_binary(gains: ArrayLike, p: float) -> np.ndarray:
    """Binary RBP per query: ``(1 - p) * sum_r [g(d_r) >= 1] * p^(r-1)`` over the whole list.

    Args:
        gains: (Q, K) ranked gain matrix, best first; 0 for unjudged documents and padding.
        p: persistence, 0 < p < 1.

    Returns:
        (Q,) float64 in [0, 1).
    """
    hits = as_hits(gains)
    return _rbp(hits, np.ones(hits.rows.size), _check_p(p))
