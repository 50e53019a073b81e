"""Ranks of the retrieved judged documents in trec_eval's order: the step both joins share.

Order (one order for every metric, trec_eval's): score descending after rounding the scores to
float32 (-0.0 == 0.0), ties broken by document id descending (string comparison). So the rank
(from 0) of a judged document is the number of documents of its list with a higher score, plus,
when others share its score, the number of those with a larger id. Document ids are read only
for the documents of such a tie.

The joins (:mod:`~gcl_bench.metrics._dict_join`, :mod:`~gcl_bench.metrics._array_join`) bring a
run into list form (see :mod:`~gcl_bench.metrics._kernels`) and call :func:`rank_hits`.

Imports numpy, :mod:`~gcl_bench.metrics._arrays` and :mod:`~gcl_bench.metrics._kernels`.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

import numpy as np

from gcl_bench.metrics._arrays import Hits
from gcl_bench.metrics._kernels import rank_by_score, tied_positions

#: ``names_at(rows, positions)``: the doc ids at flat positions of the run in list form
#: (``rows`` is the list of each position).
NamesAt = Callable[[np.ndarray, np.ndarray], list[str]]


def float32_scores(scores: np.ndarray) -> np.ndarray:
    """Scores rounded to float32, as trec_eval compares them (beyond float32's range: +-inf)."""
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(scores, dtype=np.float32)


def rank_hits(
    run_scores: np.ndarray,
    offsets: np.ndarray,
    judged_rows: np.ndarray,
    judged_scores: np.ndarray,
    judged_grades: np.ndarray,
    judged_names: Callable[[np.ndarray], list[str]],
    names_at: NamesAt,
    keep: int,
) -> tuple[Hits, int]:
    """Rank the retrieved positive judgements; return them as hits, and the tied lists.

    Args:
        run_scores, offsets: the run in list form (float32 scores; int64 list boundaries).
        judged_rows: (m,) the list of each retrieved positively judged document, non-decreasing.
        judged_scores: (m,) its float32 score; judged_grades: (m,) its grade.
        judged_names: ids of the judged documents at the given indices into those arrays.
        names_at: ids of the run's documents at flat positions (only tied ones are asked for).
        keep: ranks at or past ``keep`` are cut (the hits' depth).

    Returns:
        The hits ranked within ``keep``, and the number of lists with two equal scores within
        the first ``keep`` ranks (or at ranks ``keep`` and ``keep + 1``).
    """
    higher, same, tied_rows = rank_by_score(run_scores, offsets, keep, judged_rows, judged_scores)
    ranks = higher.copy()
    tied = np.flatnonzero(same > 1)
    if tied.size:
        ranks[tied] += _larger_ids_in_tie(
            run_scores, offsets, judged_rows, judged_scores, higher, same, tied, judged_names, names_at
        )
    kept = np.flatnonzero(ranks < keep)
    rows, ranks, grades = judged_rows[kept], ranks[kept], judged_grades[kept]
    order = np.argsort(offsets[rows] + ranks)  # each hit's place in the ranked lists laid end to end
    hits = Hits(rows[order], ranks[order], grades[order].astype(np.int64), offsets.size - 1, keep)
    return hits, int(tied_rows.sum())


def _larger_ids_in_tie(
    run_scores: np.ndarray,
    offsets: np.ndarray,
    judged_rows: np.ndarray,
    judged_scores: np.ndarray,
    higher: np.ndarray,
    same: np.ndarray,
    tied: np.ndarray,
    judged_names: Callable[[np.ndarray], list[str]],
    names_at: NamesAt,
) -> np.ndarray:
    """For the judged documents ``tied``: how many documents share their score and have a larger id."""
    # a tie group is one list's documents of one score; it starts at rank higher[i] of that list,
    # so offsets[row] + higher[i] names the group, and judged documents of one group share it
    _, leaders, group_of = np.unique(offsets[judged_rows[tied]] + higher[tied], return_index=True,
                                     return_inverse=True)
    leaders = tied[leaders]
    group_rows, sizes = judged_rows[leaders], same[leaders]
    positions = tied_positions(run_scores, offsets, group_rows, judged_scores[leaders], sizes)
    member_names = names_at(np.repeat(group_rows, sizes), positions)
    bounds = np.cumsum(sizes).tolist()
    groups = [sorted(member_names[start:stop]) for start, stop in zip([0, *bounds], bounds)]
    return np.array(
        [len(groups[g]) - bisect_right(groups[g], name)
         for g, name in zip(group_of.reshape(-1).tolist(), judged_names(tied))],
        dtype=np.int64,
    )
