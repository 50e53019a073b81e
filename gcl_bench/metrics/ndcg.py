"""Normalised discounted cumulative gain with linear gain, as trec_eval computes it.

.. math::

    \\mathrm{DCG@k}(q) = \\sum_{r=1}^{k} \\frac{g_q(d_r)}{\\log_2(r + 1)}, \\qquad
    \\mathrm{nDCG@k}(q) = \\frac{\\mathrm{DCG@k}(q)}{\\mathrm{IDCG@k}(q)}

where ``g_q(d_r)`` is the grade of the document at rank r (0 if unjudged) and IDCG@k is the
DCG@k of q's judged documents sorted by grade, best first (all of q's judgements, whether
retrieved or not). Without a cutoff the sums run over the whole retrieved list and all of q's
judgements (trec_eval ``ndcg``); with one they stop at k (trec_eval ``ndcg_cut.k``, BEIR
``NDCG@k``).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.metrics._arrays import as_gain_matrix, check_cutoff, ranks

__all__ = ["ndcg", "dcg"]


def discounts(depth: int) -> np.ndarray:
    """``1 / log2(r + 1)`` for ranks r = 1..depth."""
    return 1.0 / np.log2(ranks(depth) + 1.0)


def _dcg(gains: np.ndarray, k: int | None) -> np.ndarray:
    """DCG of each row of a ranked gain matrix, cut at k (low level, no checks)."""
    depth = gains.shape[1] if k is None else min(k, gains.shape[1])
    if depth == 0:
        return np.zeros(gains.shape[0])
    return gains[:, :depth].astype(np.float64) @ discounts(depth)


def _idcg_from_sorted(
    rows: np.ndarray, grades: np.ndarray, positions: np.ndarray, n_queries: int, k: int | None
) -> np.ndarray:
    """Ideal DCG per query from flat judgements already sorted by grade within each query.

    ``rows[i]`` is the query of judgement i, ``grades[i]`` its grade and ``positions[i]`` its
    0-based rank in the query's ideal ordering (low level, no checks).
    """
    keep = slice(None) if k is None else positions < k
    weights = grades[keep] / np.log2(positions[keep] + 2.0)
    return np.bincount(rows[keep], weights=weights, minlength=n_queries)


def _ndcg(gains: np.ndarray, ideal_dcg: np.ndarray, k: int | None) -> np.ndarray:
    """nDCG from a ranked gain matrix and the ideal DCG at the same cutoff (low level)."""
    dcg = _dcg(gains, k)
    out = np.zeros_like(dcg)
    np.divide(dcg, ideal_dcg, out=out, where=ideal_dcg > 0)
    return out


def dcg(gains: ArrayLike, k: int | None = None) -> np.ndarray:
    """Discounted cumulative gain per query: ``sum_{r<=k} g(d_r) / log2(r + 1)``.

    Args:
        gains: (Q, K) ranked gain matrix, best first; 0 for unjudged documents and padding.
        k: rank cutoff, or None for the whole list.

    Returns:
        (Q,) float64.
    """
    return _dcg(as_gain_matrix(gains), check_cutoff(k))


def ndcg(gains: ArrayLike, ideal_gains: ArrayLike, k: int | None = None) -> np.ndarray:
    """nDCG@k per query, linear gain (trec_eval ``ndcg_cut.k``; ``ndcg`` when k is None).

    ``nDCG@k(q) = DCG@k(q) / IDCG@k(q)`` with ``DCG@k = sum_{r=1}^{k} g(d_r) / log2(r + 1)``
    and IDCG@k the DCG@k of q's judgements sorted by grade, best first. A query with no
    positive judgement scores 0.

    Args:
        gains: (Q, K) ranked gain matrix, best first; 0 for unjudged documents and padding.
        ideal_gains: (Q, L) the grades of each query's judged documents, any order, 0-padded.
        k: rank cutoff, or None for the whole list (the ideal then uses all judgements).

    Returns:
        (Q,) float64 in [0, 1].
    """
    matrix = as_gain_matrix(gains)
    ideal = -np.sort(-as_gain_matrix(ideal_gains), axis=1)
    if ideal.shape[0] != matrix.shape[0]:
        raise ValueError("gains and ideal_gains must have one row per query each")
    k = check_cutoff(k)
    return _ndcg(matrix, _dcg(ideal, k), k)
