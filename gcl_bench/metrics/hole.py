"""Hole@k (BEIR): the share of the top k retrieved documents that nobody judged.

.. math::

    \\mathrm{Hole@k}(q) = \\frac{|\\{ d_r : r \\le \\min(k, n_q),\\ d_r \\notin J \\}|}{k}

where ``n_q`` is the length of q's retrieved list and ``J`` is BEIR's *annotated corpus*: every
document that has a judgement, of any grade (0 included), for any query of the judgements (not
only for q). A document judged non-relevant is therefore not a hole, and neither is one judged
only for another query. The denominator is k even when fewer than k documents were retrieved,
as in BEIR's ``hole`` (``beir/retrieval/custom_metrics.py``). Hole@k says how far the numbers
rest on unjudged documents (scored as non-relevant): a high hole means the judgements are
shallow for this run.

Unlike the other metrics, Hole@k needs the ranks of every *judged* retrieved document, not just
the relevant ones: the joins compute those ranks only when a hole metric is asked for
(:meth:`~gcl_bench.metrics._families.HitTables.judged`).

Averaging: as for every metric here, over the judged queries with a positive grade; BEIR sums
over the queries of the run and divides by the number of queries in the qrels, which is the
same number when every judged query has a positive grade and is in the run.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics._arrays import Hits, check_cutoff

__all__ = ["hole"]


def _hole(judged: Hits, lengths: np.ndarray, k: int) -> np.ndarray:
    """``(min(k, n_q) - judged documents in the top k) / k`` per row (low level).

    ``judged`` holds the ranks of the retrieved documents that are judged (any grade),
    ``lengths`` the number of retrieved documents per row.
    """
    return (np.minimum(lengths, k) - judged.above(k)) / k


def hole(judged: ArrayLike, k: int) -> np.ndarray:
    """BEIR's Hole@k per query, from a ranked matrix of judged flags.

    Args:
        judged: (Q, K) int matrix, best first: 1 for a retrieved document that has a
            judgement (any grade, for any query), 0 for one without, -1 for no document
            (padding after the end of a short list).
        k: rank cutoff.

    Returns:
        (Q,) float64 in [0, 1].
    """
    k = check_cutoff(k)
    if k is None:
        raise GclBenchError("hole needs a rank cutoff k")
    flags = np.asarray(judged)
    if flags.ndim != 2 or flags.dtype.kind not in "iub" or (flags.size and not np.isin(flags, (-1, 0, 1)).all()):
        raise GclBenchError("judged must be a (queries, ranks) matrix of 1 (judged), 0 (unjudged), -1 (padding)")
    present = flags >= 0
    if (present[:, 1:] & ~present[:, :-1]).any():
        raise GclBenchError("judged: padding (-1) must come after the last document of a row")
    rows, ranks = np.nonzero(flags == 1)
    hits = Hits(rows, ranks, np.ones(rows.size, dtype=np.int64), flags.shape[0], flags.shape[1])
    return _hole(hits, present.sum(axis=1), k)
