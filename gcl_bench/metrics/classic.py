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
  when fewer than k documents were retrieved;
- top-k accuracy (``accuracy@k`` = BEIR ``Accuracy@k``, trec_eval ``success.k``, ir_measures
  ``Success@k``): 1 if a relevant document is within the top k, else 0.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics._arrays import Hits, as_hits, as_query_vector, check_cutoff, safe_divide

__all__ = ["accuracy", "average_precision", "reciprocal_rank", "recall", "precision"]


def _precision_at_hits(hits: Hits) -> np.ndarray:
    """Per-hit terms of average precision: precision at the hit's rank (low level)."""
    return (hits.within + 1.0) / (hits.ranks + 1.0)


def _average_precision(hits: Hits, running: np.ndarray, num_relevant: np.ndarray, k: int | None) -> np.ndarray:
    return safe_divide(hits.at(running, k), num_relevant)


def _reciprocal_rank(hits: Hits, k: int | None) -> np.ndarray:
    """1 / rank of each row's first hit, 0 if it is not within the cutoff (low level)."""
    first = np.full(hits.n_rows, np.inf)
    found = hits.counts > 0
    first[found] = hits.ranks[hits.starts[found]]
    limit = hits.depth if k is None else k
    return np.where(first < limit, 1.0 / (first + 1.0), 0.0)


def _recall(hits: Hits, num_relevant: np.ndarray, k: int | None) -> np.ndarray:
    return safe_divide(hits.above(k).astype(np.float64), num_relevant)


def _precision(hits: Hits, k: int) -> np.ndarray:
    return hits.above(k) / k


def _accuracy(hits: Hits, k: int) -> np.ndarray:
    return (hits.above(k) > 0).astype(np.float64)


def average_precision(gains: ArrayLike, num_relevant: ArrayLike, k: int | None = None) -> np.ndarray:
    """Average precision per query: ``AP@k = (1/R) * sum_{r<=k} rel_r * (hits in top r) / r``.

    Args:
        gains: (Q, K) ranked gain matrix, best first; a grade >= 1 is relevant.
        num_relevant: (Q,) R(q), the number of relevant judged documents of each query.
        k: rank cutoff (trec_eval ``map_cut.k``), or None for the whole list (``map``).

    Returns:
        (Q,) float64; 0 for a query with R = 0.
    """
    hits = as_hits(gains)
    num_relevant = as_query_vector(num_relevant, hits.n_rows, "num_relevant")
    return _average_precision(hits, hits.running(_precision_at_hits(hits)), num_relevant, check_cutoff(k))


def reciprocal_rank(gains: ArrayLike, k: int | None = None) -> np.ndarray:
    """Reciprocal rank per query: ``1 / r*``, r* the rank of the first relevant document <= k.

    Args:
        gains: (Q, K) ranked gain matrix, best first; a grade >= 1 is relevant.
        k: rank cutoff, or None for the whole list (trec_eval ``recip_rank``).

    Returns:
        (Q,) float64; 0 when no relevant document is within the cutoff.
    """
    return _reciprocal_rank(as_hits(gains), check_cutoff(k))


def recall(gains: ArrayLike, num_relevant: ArrayLike, k: int) -> np.ndarray:
    """Recall@k per query: ``(relevant documents in the top k) / R(q)`` (trec_eval ``recall.k``).

    Args:
        gains: (Q, K) ranked gain matrix, best first; a grade >= 1 is relevant.
        num_relevant: (Q,) R(q), the number of relevant judged documents of each query.
        k: rank cutoff.

    Returns:
        (Q,) float64; 0 for a query with R = 0.
    """
    hits = as_hits(gains)
    num_relevant = as_query_vector(num_relevant, hits.n_rows, "num_relevant")
    return _recall(hits, num_relevant, check_cutoff(k))


def precision(gains: ArrayLike, k: int) -> np.ndarray:
    """Precision@k per query: ``(relevant documents in the top k) / k`` (trec_eval ``P.k``).

    Divides by k even when fewer than k documents were retrieved.

    Args:
        gains: (Q, K) ranked gain matrix, best first; a grade >= 1 is relevant.
        k: rank cutoff.

    Returns:
        (Q,) float64.
    """
    k = check_cutoff(k)
    if k is None:
        raise GclBenchError("precision needs a rank cutoff k")
    return _precision(as_hits(gains), k)


def accuracy(gains: ArrayLike, k: int) -> np.ndarray:
    """Top-k accuracy per query: 1 if a relevant document is within the top k, else 0.

    BEIR's ``Accuracy@k`` (``top_k_accuracy``), trec_eval's ``success.k``.

    Args:
        gains: (Q, K) ranked gain matrix, best first; a grade >= 1 is relevant.
        k: rank cutoff.

    Returns:
        (Q,) float64 of 0.0 and 1.0.
    """
    k = check_cutoff(k)
    if k is None:
        raise GclBenchError("accuracy needs a rank cutoff k")
    return _accuracy(as_hits(gains), k)
