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

from gcl_bench.metrics._arrays import Hits, as_gain_matrix, as_hits, check_cutoff, safe_divide

__all__ = ["ndcg", "dcg"]


def _dcg_terms(hits: Hits) -> np.ndarray:
    """Per-hit DCG terms ``g / log2(rank + 1)`` (low level)."""
    return hits.grades / np.log2(hits.ranks + 2.0)


def _ndcg(hits: Hits, ideal: Hits, dcg_running: np.ndarray, ideal_running: np.ndarray, k: int | None) -> np.ndarray:
    """nDCG@k from the running DCG sums of the run and of the ideal ordering (low level)."""
    return safe_divide(hits.at(dcg_running, k), ideal.at(ideal_running, k))


def dcg(gains: ArrayLike, k: int | None = None) -> np.ndarray:
    """Discounted cumulative gain per query: ``sum_{r<=k} g(d_r) / log2(r + 1)``.

    Args:
        gains: (Q, K) ranked gain matrix, best first; 0 for unjudged documents and padding.
        k: rank cutoff, or None for the whole list.

    Returns:
        (Q,) float64.
    """
    hits = as_hits(gains)
    return hits.at(hits.running(_dcg_terms(hits)), check_cutoff(k))


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
    hits = as_hits(gains)
    ideal = as_hits(-np.sort(-as_gain_matrix(ideal_gains), axis=1))
    if ideal.n_rows != hits.n_rows:
        raise ValueError("gains and ideal_gains must have one row per query each")
    k = check_cutoff(k)
    return _ndcg(hits, ideal, hits.running(_dcg_terms(hits)), ideal.running(_dcg_terms(ideal)), k)
