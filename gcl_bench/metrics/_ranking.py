"""Ranks of the retrieved judged documents in their lists: the step both joins share.

Two orders, told apart only by how a tie is broken:

- trec_eval's (every metric under the default protocol): score descending after rounding the
  scores to float32 (-0.0 == 0.0), ties broken by document id descending (string comparison).
  The rank (from 0) of a judged document is the number of documents of its list with a higher
  score, plus, when others share its score, the number of those with a larger id;
- search order (``in_list_order=True``; the reference protocol's ERR, RBP, MRR, accuracy and
  hole): score descending, ties kept in the order the list gives them, as a stable sort on the
  score does. The rank is the number of documents with a higher score plus the number of those
  with the same score that come earlier in the list. The caller passes the scores at the
  precision to compare (the reference compares Python floats: float64).

Document ids are read only for the documents of a tie that holds a judged document.

The joins (:mod:`~gcl_bench.metrics._dict_join`, :mod:`~gcl_bench.metrics._array_join`) bring a
run into list form (see :mod:`~gcl_bench.metrics._kernels`) and call :func:`rank_hits`.

Imports numpy, :mod:`~gcl_bench.metrics._arrays` and :mod:`~gcl_bench.metrics._kernels`.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

import numpy as np

from gcl_bench.kernels import note_if_compiling
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
    in_list_order: bool = False,
) -> tuple[Hits, int]:
    """Rank the retrieved positive judgements; return them as hits, and the tied lists.

    Args:
        run_scores, offsets: the run in list form (float32 scores, float64 with
            ``in_list_order``; int64 list boundaries).
        judged_rows: (m,) the list of each retrieved positively judged document, non-decreasing.
        judged_scores: (m,) its score (the dtype of ``run_scores``); judged_grades: (m,) its grade.
        judged_names: ids of the judged documents at the given indices into those arrays.
        names_at: ids of the run's documents at flat positions (only tied ones are asked for).
        keep: ranks at or past ``keep`` are cut (the hits' depth).
        in_list_order: break ties by place in the list (search order) instead of by doc id.

    Returns:
        The hits ranked within ``keep``, and the number of lists with two equal scores within
        the first ``keep`` ranks (or at ranks ``keep`` and ``keep + 1``).
    """
    note_if_compiling(rank_by_score, tied_positions)
    higher, same, tied_rows = rank_by_score(run_scores, offsets, keep, judged_rows, judged_scores)
    ranks = higher.copy()
    tied = np.flatnonzero(same > 1)
    if tied.size:
        ranks[tied] += _ahead_in_tie(
            run_scores, offsets, judged_rows, judged_scores, higher, same, tied, judged_names, names_at,
            in_list_order,
        )
    kept = np.flatnonzero(ranks < keep)
    rows, ranks, grades = judged_rows[kept], ranks[kept], judged_grades[kept]
    order = np.argsort(offsets[rows] + ranks)  # each hit's place in the ranked lists laid end to end
    hits = Hits(rows[order], ranks[order], grades[order].astype(np.int64), offsets.size - 1, keep)
    return hits, int(tied_rows.sum())


def _ahead_in_tie(
    run_scores: np.ndarray,
    offsets: np.ndarray,
    judged_rows: np.ndarray,
    judged_scores: np.ndarray,
    higher: np.ndarray,
    same: np.ndarray,
    tied: np.ndarray,
    judged_names: Callable[[np.ndarray], list[str]],
    names_at: NamesAt,
    in_list_order: bool,
) -> np.ndarray:
    """For the judged documents ``tied``: how many documents of their tie are ranked before them,
    those with a larger id (trec_eval), or with ``in_list_order`` those earlier in the list."""
    # a tie group is one list's documents of one score; it starts at rank higher[i] of that list,
    # so offsets[row] + higher[i] names the group, and judged documents of one group share it
    _, leaders, group_of = np.unique(offsets[judged_rows[tied]] + higher[tied], return_index=True,
                                     return_inverse=True)
    leaders = tied[leaders]
    group_rows, sizes = judged_rows[leaders], same[leaders]
    positions = tied_positions(run_scores, offsets, group_rows, judged_scores[leaders], sizes)
    member_names = names_at(np.repeat(group_rows, sizes), positions)
    bounds = np.cumsum(sizes).tolist()
    members = zip(group_of.reshape(-1).tolist(), judged_names(tied))
    if in_list_order:  # a judged document is in its list once: its name finds its place
        places = [dict(zip(member_names[start:stop], range(stop - start))) for start, stop in zip([0, *bounds], bounds)]
        return np.array([places[g][name] for g, name in members], dtype=np.int64)
    groups = [sorted(member_names[start:stop]) for start, stop in zip([0, *bounds], bounds)]
    return np.array([len(groups[g]) - bisect_right(groups[g], name) for g, name in members], dtype=np.int64)
