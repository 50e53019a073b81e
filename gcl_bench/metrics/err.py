"""Expected reciprocal rank: the GCL benchmark's variant, Chapelle's, and gdeval's.

Cascade model: the user scans the list from the top and stops at rank r with probability
``R_r``; ERR is the expected reciprocal of the stopping rank:

.. math::

    \\mathrm{ERR@k}(q) = \\sum_{r=1}^{k} \\frac{R_r}{r} \\prod_{i<r} (1 - R_i),
    \\qquad R_r = \\frac{2^{g_q(d_r)} - 1}{2^{g_{max}}}

- :func:`err` (``err``, ``err@k``): the GCL benchmark's ERR, ``g_max = g_max(q)`` the largest
  grade in q's own judgements, summed over the whole retrieved list unless a cutoff is given
  (marqo-ai/GCL ``evals/eval_gs_v1.py``).
- :func:`err_chapelle` (``err_chapelle@k``): Chapelle et al. (CIKM 2009), one ``g_max`` for the
  whole collection, so scores compare across queries.
- :func:`err_gdeval` (``err_gdeval@k``): gdeval's ERR (the TREC Web track script, and so
  ir_measures' ``ERR@k``): ``g_max = 4`` fixed, the top of gdeval's 0..4 scale, for every query;
  judgements with a grade above 4 are refused, as gdeval refuses them.

An unjudged document has ``R = 0``: it adds nothing and leaves the product unchanged, so only
the hits (retrieved documents with a positive grade) are visited.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics._arrays import Hits, as_hits, as_query_vector, check_cutoff

__all__ = ["GDEVAL_MAX_GRADE", "err", "err_chapelle", "err_gdeval"]

#: the top grade of gdeval's relevance scale (its ``$MAX_JUDGMENT``)
GDEVAL_MAX_GRADE = 4


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


def _check_gdeval_scale(max_grade: int) -> None:
    if max_grade > GDEVAL_MAX_GRADE:
        raise GclBenchError(
            f"err_gdeval (gdeval's ERR, ir_measures' ERR@k) is defined for grades 0..{GDEVAL_MAX_GRADE}, "
            f"but the judgements have grade {max_grade}; use err@k (per-query g_max) or "
            "err_chapelle@k (the collection's largest grade) instead"
        )


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


def err_gdeval(gains: ArrayLike, k: int | None = None) -> np.ndarray:
    """gdeval's ERR@k per query (ir_measures ``ERR@k``): the cascade on gdeval's fixed 0..4 scale.

    ``ERR@k(q) = sum_{r=1}^{k} R_r / r * prod_{i<r} (1 - R_i)``, ``R_r = (2^g(d_r) - 1) / 2^4``.

    Args:
        gains: (Q, K) ranked gain matrix, best first, grades 0..4.
        k: rank cutoff, or None for the whole retrieved list.

    Returns:
        (Q,) float64. Raises GclBenchError for a grade above 4.
    """
    hits = as_hits(gains)
    _check_gdeval_scale(int(hits.grades.max(initial=0)))
    return _err(hits, np.full(hits.n_rows, GDEVAL_MAX_GRADE, dtype=np.int64), check_cutoff(k))
