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

An unjudged document has ``R = 0``: it adds nothing and leaves the product unchanged, so only
the hits (retrieved documents with a positive grade) are visited.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.metrics._arrays import Hits, as_hits, as_query_vector, check_cutoff

__all__ = ["err", "err_chapelle"]


def _err_terms(hits: Hits, max_grades: np.ndarray) -> np.ndarray:
    """Per-hit terms ``R_r / r * prod_{i<r}(1 - R_i)``; ``max_grades`` is g_max per row (low level)."""
    top = max_grades[hits.rows].astype(np.float64)
    stop = np.exp2(hits.grades - top) - np.exp2(-top)  # (2^g - 1) / 2^g_max
    survive = hits.table(fill=1.0)
    survive[hits.rows, hits.within + 1] = 1.0 - stop
    np.cumprod(survive, axis=1, out=survive)
    reach = survive[hits.rows, hits.within]  # probability that the user gets to this hit
    return reach * stop / (hits.ranks + 1.0)


def _err(hits: Hits, max_grades: np.ndarray, k: int | None) -> np.ndarray:
    return hits.at(hits.running(_err_terms(hits, max_grades)), k)


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
    hits = as_hits(gains)
    return _err(hits, as_query_vector(max_grades, hits.n_rows, "max_grades"), check_cutoff(k))


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
    hits = as_hits(gains)
    return _err(hits, np.full(hits.n_rows, int(max_grade), dtype=np.int64), check_cutoff(k))
