"""The join of judgements with search output: ``(indices, scores)`` matrices over a corpus.

The judged documents are located in the corpus once (:meth:`Judgements.corpus_rows`); then
:func:`~gcl_bench.metrics._kernels.judged_list_positions` walks the search output row by row
(as lists of equal length, padding -1) and finds the cells that hold a positively judged
document, and
:func:`~gcl_bench.metrics._ranking.rank_hits` ranks them. Corpus ids are read only where scores
tie with a judged document's (the tie break needs them). The documents judged with any grade
(for ``hole@k``) are ranked the same way, only when asked for; so is the second ranking of the
same output in search order (ties in column order; the reference protocol's ERR, RBP, MRR,
accuracy and hole).

Imports numpy and the metrics layer's private modules.
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError
from gcl_bench.kernels import note_if_compiling
from gcl_bench.metrics._arrays import Hits
from gcl_bench.metrics._dict_join import JudgedRanks, SearchOrder
from gcl_bench.metrics._kernels import judged_list_positions
from gcl_bench.metrics._ranking import float32_scores, rank_hits
from gcl_bench.metrics.judgements import Judgements


def _check_search_output(indices: np.ndarray, scores: np.ndarray, query_ids: list) -> None:
    if indices.ndim != 2 or indices.shape != scores.shape:
        raise GclBenchError(
            f"indices and scores must be (queries, k) matrices of one shape, got {indices.shape} and {scores.shape}"
        )
    if indices.dtype.kind not in "iu":
        raise GclBenchError(f"indices must be integers, got dtype {indices.dtype}")
    if scores.dtype.kind not in "fiu":
        raise GclBenchError(f"scores must be numbers, got dtype {scores.dtype}")
    if len(query_ids) != indices.shape[0]:
        raise GclBenchError(f"{len(query_ids)} query ids for {indices.shape[0]} rows of search results")


def join_arrays(
    judgements: Judgements,
    query_ids: Sequence[str],
    doc_ids: Sequence[str] | ArrayLike,
    indices: ArrayLike,
    scores: ArrayLike,
) -> tuple[Hits, dict[str, int], JudgedRanks, SearchOrder]:
    """The hits of the search output (rows in judgement order), the counts ``missing_from_run``,
    ``tied_lists`` and ``ignored_run_queries``, the function that ranks the judged documents
    (any grade) with the lengths of the lists, for ``hole@k``, and the one that ranks the output
    again in search order."""
    indices, scores, query_ids = np.asarray(indices), np.asarray(scores), list(query_ids)
    _check_search_output(indices, scores, query_ids)
    row_of = dict(zip(query_ids, range(len(query_ids))))
    if len(row_of) != len(query_ids):
        raise GclBenchError("query ids of the search results are not unique")
    if not isinstance(doc_ids, (Sequence, np.ndarray)):
        doc_ids = list(doc_ids)
    corpus_rows = judgements.corpus_rows(doc_ids)
    n_docs = len(doc_ids)
    if indices.size and int(indices.max()) >= n_docs:
        raise GclBenchError(f"an index {int(indices.max())} points past the {n_docs} documents")

    # the rows of the search output that answer judged queries, in judgement order
    run_rows = np.fromiter(map(row_of.get, judgements.query_ids, repeat(-1)), dtype=np.int64,
                           count=len(judgements.query_ids))
    present = np.flatnonzero(run_rows >= 0)
    ignored = sum(1 for qid in query_ids if qid not in judgements.judged_ids)
    if present.size == indices.shape[0] and (run_rows[present] == np.arange(present.size)).all():
        sub_indices, sub_scores = indices, scores  # rows already in judgement order
    else:
        sub_indices, sub_scores = indices[run_rows[present]], scores[run_rows[present]]
    sub_indices = np.ascontiguousarray(sub_indices, dtype=np.int64)
    valid = sub_indices >= 0
    padded = not bool(valid.all())
    if scores.dtype.kind == "f" and np.isnan(sub_scores).any() and np.isnan(sub_scores[valid]).any():
        raise GclBenchError("the search results contain NaN scores")

    judged_offsets = np.concatenate(([0], np.cumsum(judgements.num_relevant)))
    width = sub_indices.shape[1]
    note_if_compiling(judged_list_positions)
    positions, rows, grades, twice = judged_list_positions(
        sub_indices.reshape(-1), np.arange(sub_indices.shape[0] + 1) * width, present, judged_offsets, corpus_rows,
        judgements.positive_grades, n_docs)
    cols = positions - rows * width
    if twice >= 0:
        raise GclBenchError("a judged document appears twice in one query's search results")
    lists = _SearchLists(sub_indices, sub_scores, valid, padded, doc_ids)
    sub_hits, tied_lists = lists.rank_cells(rows, cols, grades)
    counts = {"missing_from_run": int(len(judgements.query_ids) - present.size),
              "tied_lists": tied_lists, "ignored_run_queries": ignored}
    n_rows = len(judgements.query_ids)

    def judged_ranks(in_list_order: bool = False) -> tuple[Hits, np.ndarray]:
        judged_rows = judgements.judged_corpus_rows(doc_ids)
        is_judged = np.zeros(n_docs, dtype=bool)
        is_judged[judged_rows] = True
        cell_rows, cell_cols = np.nonzero(is_judged[np.where(valid, sub_indices, 0)] & valid)
        hits, _ = lists.rank_cells(cell_rows, cell_cols, np.ones(cell_rows.size, dtype=np.int64), in_list_order)
        lengths = np.zeros(n_rows, dtype=np.int64)
        lengths[present] = lists.lengths
        return hits.take_rows(present, n_rows), lengths

    def search_order() -> tuple[Hits, JudgedRanks]:
        hits, _ = lists.rank_cells(rows, cols, grades, in_list_order=True)
        return hits.take_rows(present, n_rows), lambda: judged_ranks(in_list_order=True)

    return sub_hits.take_rows(present, n_rows), counts, judged_ranks, search_order


class _SearchLists:
    """Search output rows in list form (padding left out), ready to rank cells of them."""

    def __init__(self, indices: np.ndarray, scores: np.ndarray, valid: np.ndarray, padded: bool,
                 doc_ids: Sequence[str] | np.ndarray) -> None:
        self.indices, self.scores, self.valid, self.padded, self.doc_ids = indices, scores, valid, padded, doc_ids
        self.lengths = valid.sum(axis=1) if padded else np.full(indices.shape[0], indices.shape[1])
        self.offsets = np.concatenate(([0], np.cumsum(self.lengths)))
        self.listed_cells = np.flatnonzero(valid) if padded else None

    def rank_cells(self, rows: np.ndarray, cols: np.ndarray, grades: np.ndarray,
                   in_list_order: bool = False) -> tuple[Hits, int]:
        """Rank the documents at cells ``(rows, cols)`` (rows non-decreasing) in their lists, in
        trec_eval's order (float32 scores, ties by doc id) or in search order (float64 scores,
        ties in column order)."""
        indices, doc_ids = self.indices, self.doc_ids
        cell_docs = indices[rows, cols]

        def judged_names(which: np.ndarray) -> list[str]:
            return _ids_at(doc_ids, cell_docs[which])

        def names_at(_rows: np.ndarray, positions: np.ndarray) -> list[str]:
            cells = positions if self.listed_cells is None else self.listed_cells[positions]
            return _ids_at(doc_ids, indices.ravel()[cells])

        scores = self.scores
        as_compared = _float64_scores if in_list_order else float32_scores
        return rank_hits(
            as_compared(scores[self.valid] if self.padded else scores.ravel()), self.offsets, rows,
            as_compared(scores[rows, cols]), grades, judged_names, names_at,
            int(self.lengths.max(initial=0)), in_list_order,
        )


def _ids_at(doc_ids: Sequence[str], rows: np.ndarray) -> list[str]:
    """The ids at ``rows`` of the corpus; a corpus column (``values_at``) gives them alone, without
    making a Python string of every corpus id."""
    values_at = getattr(doc_ids, "values_at", None)
    if values_at is not None:
        return values_at(rows)
    return [doc_ids[j] for j in rows.tolist()]


def _float64_scores(scores: np.ndarray) -> np.ndarray:
    """Scores as the reference's Python floats compare them (float32 scores convert exactly)."""
    return np.ascontiguousarray(scores, dtype=np.float64)
