"""The loops of the metrics layer's joins, compiled with numba (``cache=True``).

Plain loops over flat arrays; no dicts, no strings. A run arrives in *list form*:
``run_scores`` holds the float32 scores of every retrieved document, one query's list after
another, and ``offsets[q]:offsets[q + 1]`` is query q's list (in any order). Scores are compared
as float32 values, so -0.0 == 0.0; NaN never arrives here (the joins refuse it).

Imports only numpy and numba.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _is_descending(scores: np.ndarray) -> bool:
    """Whether a list is best first already (no early exit: the loop vectorises)."""
    descending = True
    for i in range(scores.size - 1):
        descending &= scores[i] >= scores[i + 1]
    return descending


@njit(cache=True)
def _count_above(descending: np.ndarray, score: float, or_equal: bool) -> int:
    """Entries of a descending array above ``score`` (or at least ``score``): a binary search."""
    lo, hi = 0, descending.size
    while lo < hi:
        mid = (lo + hi) // 2
        if descending[mid] > score or (or_equal and descending[mid] == score):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def rank_by_score(
    run_scores: np.ndarray,
    offsets: np.ndarray,
    keep: int,
    judged_rows: np.ndarray,
    judged_scores: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where judged documents stand in their lists by score alone.

    Args:
        run_scores, offsets: the run in list form (float32, int64 of n_rows + 1).
        keep: the lists are cut after this many documents.
        judged_rows: (m,) int64, the list of each judged document, non-decreasing.
        judged_scores: (m,) float32, its score (it is in its list).

    Returns:
        ``higher`` (m,): documents of the list with a higher score; ``same`` (m,): documents of
        the list with the same score, itself included; ``tied_rows`` (n_rows,) bool: whether
        two documents of the list score the same among its first ``keep`` ranks, or at ranks
        ``keep`` and ``keep + 1`` (then the tie decides which one is kept).
    """
    n_rows = offsets.size - 1
    higher = np.empty(judged_rows.size, dtype=np.int64)
    same = np.empty(judged_rows.size, dtype=np.int64)
    tied_rows = np.zeros(n_rows, dtype=np.bool_)
    j = 0
    for row in range(n_rows):
        scores = run_scores[offsets[row]:offsets[row + 1]]
        # search output is best first already; only lists in another order are sorted
        descending = scores if _is_descending(scores) else np.sort(scores)[::-1]
        for rank in range(min(keep, descending.size - 1)):
            if descending[rank] == descending[rank + 1]:
                tied_rows[row] = True
                break
        while j < judged_rows.size and judged_rows[j] == row:
            higher[j] = _count_above(descending, judged_scores[j], False)
            same[j] = _count_above(descending, judged_scores[j], True) - higher[j]
            j += 1
    return higher, same, tied_rows


@njit(cache=True)
def tied_positions(
    run_scores: np.ndarray,
    offsets: np.ndarray,
    group_rows: np.ndarray,
    group_scores: np.ndarray,
    group_sizes: np.ndarray,
) -> np.ndarray:
    """Positions in ``run_scores`` of the documents of each tie group, groups one after another.

    Group g is the documents of list ``group_rows[g]`` that score ``group_scores[g]``; there are
    ``group_sizes[g]`` of them, returned in the order of the list.
    """
    positions = np.empty(group_sizes.sum(), dtype=np.int64)
    filled = 0
    for g in range(group_rows.size):
        for position in range(offsets[group_rows[g]], offsets[group_rows[g] + 1]):
            if run_scores[position] == group_scores[g]:
                positions[filled] = position
                filled += 1
    return positions


@njit(cache=True)
def descending_within_rows(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``values`` with each row's segment ``offsets[r]:offsets[r + 1]`` sorted largest first."""
    out = np.empty_like(values)
    for row in range(offsets.size - 1):
        first, last = offsets[row], offsets[row + 1]
        ascending = np.sort(values[first:last])
        for i in range(ascending.size):
            out[first + i] = ascending[ascending.size - 1 - i]
    return out


@njit(cache=True)
def judged_list_positions(
    docs: np.ndarray,
    offsets: np.ndarray,
    judgement_rows: np.ndarray,
    judged_offsets: np.ndarray,
    judged_docs: np.ndarray,
    judged_grades: np.ndarray,
    n_docs: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The positions of a run in list form that hold a positively judged document of their query.

    Args:
        docs: the document (an index into the run's doc ids) at each position of the run; -1
            is no document (the padding of search output read as lists of equal length).
        offsets: list r of the run is ``docs[offsets[r]:offsets[r + 1]]``.
        judgement_rows: the judged query of each list.
        judged_offsets: judged query r's positive judgements are
            ``judged_docs[judged_offsets[r]:judged_offsets[r + 1]]`` (indices into the run's
            doc ids, -1 = not among them) with grades ``judged_grades[...]`` (>= 1).
        n_docs: the number of the run's doc ids.

    Returns:
        ``positions, rows, grades`` of the documents found, list by list; and the first list
        that holds a judged document twice (-1 if none; then the positions are incomplete).
    """
    grade_of = np.zeros(n_docs, dtype=np.int64)  # the current list's grades; < 0 once seen
    positions = np.empty(judged_docs.size, dtype=np.int64)
    rows = np.empty(judged_docs.size, dtype=np.int64)
    grades = np.empty(judged_docs.size, dtype=np.int64)
    found = 0
    for row in range(offsets.size - 1):
        first, last = judged_offsets[judgement_rows[row]], judged_offsets[judgement_rows[row] + 1]
        for j in range(first, last):
            if judged_docs[j] >= 0:
                grade_of[judged_docs[j]] = judged_grades[j]
        for position in range(offsets[row], offsets[row + 1]):
            doc = docs[position]
            if doc < 0 or grade_of[doc] == 0:
                continue
            if grade_of[doc] < 0:
                return positions[:found], rows[:found], grades[:found], row
            positions[found], rows[found], grades[found] = position, row, grade_of[doc]
            grade_of[doc] = -grade_of[doc]
            found += 1
        for j in range(first, last):
            if judged_docs[j] >= 0:
                grade_of[judged_docs[j]] = 0
    return positions[:found], rows[:found], grades[:found], -1
