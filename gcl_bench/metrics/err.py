"""Expected reciprocal rank: the GCL benchmark's variant and Chapelle's.

Cascade model: the user scans the list from the top and stops at rank r with probability
``R_r``; ERR is the expected reciprocal of the stopping rank:

.. math::

    \\mathrm{ERR@k}(q) = \\sum_{r=1}^{k} \\frac{R_r}{r} \\prod_{i<r} (1 - R_i),
    \\qquad R_r = \\frac{2^{g_q(d_r)} - 1}{2^{g_{max}}}

- :func:`err` (``err``, ``err@k``): the GCL benchmark's ERR, ``g_max = g_max(q)`` the largest
  grade in q's own judgements, summed over the whole retrieved list unless a cutoff is given
  (marqo-ai/GCL ``evals/eval_gs_v1.py``).
- :func:`err_chapelle` (``err_chapelle@k``): Chapelle et al. (CIKM 2009), one ``g_max`` for the
  whole collection (gdeval uses the fixed scale maximum), so scores compare across queries.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.metrics._arrays import as_gain_matrix, as_query_vector, check_cutoff, ranks

__all__ = ["err", "err_chapelle"]


def _stop_probabilities(gains: np.ndarray, max_grades: np.ndarray) -> np.ndarray:
    """``R = (2^g - 1) / 2^g_max`` per entry; ``max_grades`` is (Q,) (low level)."""
    exponent = gains.astype(np.float64) - max_grades[:, None]
    return np.exp2(exponent) - np.exp2(-max_grades.astype(np.float64))[:, None]


def _err_contributions(gains: np.ndarray, max_grades: np.ndarray) -> np.ndarray:
    """Per-rank terms ``R_r / r * prod_{i<r}(1 - R_i)``; row sums over the first k give ERR@k."""
    stop = _stop_probabilities(gains, max_grades)
    reach = np.ones_like(stop)
    if stop.shape[1] > 1:
        np.cumprod(1.0 - stop[:, :-1], axis=1, out=reach[:, 1:])
    return reach * stop / ranks(stop.shape[1])


def _err(gains: np.ndarray, max_grades: np.ndarray, k: int | None) -> np.ndarray:
    """ERR@k from a ranked gain matrix and one g_max per row (low level, no checks)."""
    depth = gains.shape[1] if k is None else min(k, gains.shape[1])
    return _err_contributions(gains[:, :depth], max_grades).sum(axis=1)


def err(gains: ArrayLike, max_grades: ArrayLike, k: int | None = None) -> np.ndarray:
    """The GCL benchmark's ERR per query.

    ``ERR@k(q) = sum_{r=1}^{k} R_r / r * prod_{i<r} (1 - R_i)`` with
    ``R_r = (2^g(d_r) - 1) / 2^g_max(q)``, g_max(q) the largest grade among q's judgements.

    Args:
        gains: (Q, K) ranked gain matrix, best first; 0 for unjudged documents and padding.
        max_grades: (Q,) g_max(q) per query.
        k: rank cutoff, or None for the whole retrieved list (the benchmark's ``err``).

    Returns:
        (Q,) float64 in [0, 1).
    """
    matrix = as_gain_matrix(gains)
    return _err(matrix, as_query_vector(max_grades, matrix.shape[0], "max_grades"), check_cutoff(k))


def err_chapelle(gains: ArrayLike, max_grade: int, k: int | None = None) -> np.ndarray:
    """Chapelle's ERR@k per query: the same cascade with one ``g_max`` for the collection.

    ``ERR@k(q) = sum_{r=1}^{k} R_r / r * prod_{i<r} (1 - R_i)``,
    ``R_r = (2^g(d_r) - 1) / 2^g_max`` where g_max is the largest grade of the collection.

    Args:
        gains: (Q, K) ranked gain matrix, best first; 0 for unjudged documents and padding.
        max_grade: the collection's largest grade.
        k: rank cutoff, or None for the whole retrieved list.

    Returns:
        (Q,) float64.
    """
    matrix = as_gain_matrix(gains)
    max_grades = np.full(matrix.shape[0], int(max_grade), dtype=np.int64)
    return _err(matrix, max_grades, check_cutoff(k))
