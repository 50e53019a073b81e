"""Binary-relevance metrics as trec_eval (and so pytrec_eval and BEIR) compute them.

A document is relevant when its grade is at least 1. With ``rel_r`` = 1 if the document at rank r
is relevant, ``R(q)`` the number of relevant documents in q's judgements (retrieved or not) and
k the cutoff (the whole list when omitted):

- average precision (``map``, ``map@k`` = trec_eval ``map`` / ``map_cut.k``):
  ``AP@k = (1 / R) * sum_{r<=k} rel_r * P@r``;
- reciprocal rank (``mrr``, ``mrr@k`` = trec_eval ``recip_rank`` on the list cut at k):
  ``1 / r*`` with r* the rank of the first relevant document within the cutoff, 0 if none;
- recall (``recall@k`` = trec_eval ``recall.k``): ``sum_{r<=k} rel_r / R``;
- precision (``precision@k`` = trec_eval ``P.k``): ``sum_{r<=k} rel_r / k``, divided by k even
  when fewer than k documents were retrieved.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics._arrays import as_gain_matrix, as_query_vector, check_cutoff, ranks

__all__ = ["average_precision", "reciprocal_rank", "recall", "precision"]


def _depth(relevant: np.ndarray, k: int | None) -> int:
    return relevant.shape[1] if k is None else min(k, relevant.shape[1])


def _hits(cum_relevant: np.ndarray, k: int | None) -> np.ndarray:
    """Relevant documents within the first k ranks, from the row-wise cumulative count."""
    depth = _depth(cum_relevant, k)
    if depth == 0:
        return np.zeros(cum_relevant.shape[0])
    return cum_relevant[:, depth - 1].astype(np.float64)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros(numerator.shape, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _average_precision(
    relevant: np.ndarray, cum_relevant: np.ndarray, num_relevant: np.ndarray, k: int | None
) -> np.ndarray:
    """AP@k from the relevance matrix and its row-wise cumulative sum (low level)."""
    depth = _depth(relevant, k)
    precision_at_hits = np.where(relevant[:, :depth], cum_relevant[:, :depth] / ranks(depth), 0.0)
    return _safe_divide(precision_at_hits.sum(axis=1), num_relevant)


def _reciprocal_rank(relevant: np.ndarray, k: int | None) -> np.ndarray:
    """1 / rank of the first relevant document within the cutoff, 0 if none (low level)."""
    depth = _depth(relevant, k)
    if depth == 0:
        return np.zeros(relevant.shape[0])
    window = relevant[:, :depth]
    first = window.argmax(axis=1)
    found = window[np.arange(window.shape[0]), first]
    return np.where(found, 1.0 / (first + 1.0), 0.0)


def _recall(cum_relevant: np.ndarray, num_relevant: np.ndarray, k: int | None) -> np.ndarray:
    return _safe_divide(_hits(cum_relevant, k), num_relevant)


def _precision(cum_relevant: np.ndarray, k: int) -> np.ndarray:
    return _hits(cum_relevant, k) / k


def _relevance(gains: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    relevant = as_gain_matrix(gains) >= 1
    return relevant, np.cumsum(relevant, axis=1, dtype=np.int32)


def average_precision(gains: ArrayLike, num_relevant: ArrayLike, k: int | None = None) -> np.ndarray:
    """Average precision per query: ``AP@k = (1/R) * sum_{r<=k} rel_r * (hits in top r) / r``.

    Args:
        gains: (Q, K) ranked gain matrix, best first; a grade >= 1 is relevant.
        num_relevant: (Q,) R(q), the number of relevant judged documents of each query.
        k: rank cutoff (trec_eval ``map_cut.k``), or None for the whole list (``map``).

    Returns:
        (Q,) float64; 0 for a query with R = 0.
    """
    relevant, cum_relevant = _relevance(gains)
    num_relevant = as_query_vector(num_relevant, relevant.shape[0], "num_relevant")
    return _average_precision(relevant, cum_relevant, num_relevant, check_cutoff(k))


def reciprocal_rank(gains: ArrayLike, k: int | None = None) -> np.ndarray:
    """Reciprocal rank per query: ``1 / r*``, r* the rank of the first relevant document <= k.

    Args:
        gains: (Q, K) ranked gain matrix, best first; a grade >= 1 is relevant.
        k: rank cutoff, or None for the whole list (trec_eval ``recip_rank``).

    Returns:
        (Q,) float64; 0 when no relevant document is within the cutoff.
    """
    relevant, _ = _relevance(gains)
    return _reciprocal_rank(relevant, check_cutoff(k))


def recall(gains: ArrayLike, num_relevant: ArrayLike, k: int) -> np.ndarray:
    """Recall@k per query: ``(relevant documents in the top k) / R(q)`` (trec_eval ``recall.k``).

    Args:
        gains: (Q, K) ranked gain matrix, best first; a grade >= 1 is relevant.
        num_relevant: (Q,) R(q), the number of relevant judged documents of each query.
        k: rank cutoff.

    Returns:
        (Q,) float64; 0 for a query with R = 0.
    """
    relevant, cum_relevant = _relevance(gains)
    num_relevant = as_query_vector(num_relevant, relevant.shape[0], "num_relevant")
    return _recall(cum_relevant, num_relevant, check_cutoff(k))


def precision(gains: ArrayLike, k: int) -> np.ndarray:
    """Precision@k per query: ``(relevant documents in the top k) / k`` (trec_eval ``P.k``).

    Divides by k even when fewer than k documents were retrieved.

    Args:
        gains: (Q, K) ranked gain matrix, best first; a grade >= 1 is relevant.
        k: rank cutoff.

    Returns:
        (Q,) float64.
    """
    _, cum_relevant = _relevance(gains)
    k = check_cutoff(k)
    if k is None:
        raise GclBenchError("precision needs a rank cutoff k")
    return _precision(cum_relevant, k)
