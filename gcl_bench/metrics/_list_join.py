"""A run in list form (:class:`RunLists`) and its join with judgements.

:class:`RunLists` is the compact form a run file is read into: the query ids, one vocabulary
of document ids, and per retrieved document only a 4-byte index into that vocabulary and a
float64 score, the lists laid end to end (``offsets``). No Python object per retrieved
document survives reading, so a run of 10M documents fits in a few hundred MB; the ids are
read back from the vocabulary only where scores tie with a judged document's.

:func:`join_lists` joins it with judgements exactly as the dict join
(:mod:`~gcl_bench.metrics._dict_join`) joins ``{qid: {doc_id: score}}``: the same ranking
(:func:`~gcl_bench.metrics._ranking.rank_hits`), the same cut at ``top_k``, the same counts; the
ranks of every judged document (``hole@k``) and the ranking in search order (the reference
protocol) only when asked for.

Imports numpy and the metrics layer's private modules.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np

from gcl_bench.errors import GclBenchError
from gcl_bench.kernels import note_if_compiling
from gcl_bench.metrics._arrays import Hits
from gcl_bench.metrics._dict_join import JudgedRanks, SearchOrder, check_top_k
from gcl_bench.metrics._kernels import judged_list_positions
from gcl_bench.metrics._ranking import float32_scores, rank_hits
from gcl_bench.metrics.judgements import Judgements

__all__ = ["RunLists", "join_lists"]


@dataclass
class RunLists:
    """A run ``{qid: {doc_id: score}}`` in list form.

    Attributes:
        query_ids: the queries, unique, in the run's order.
        doc_ids: the vocabulary: every document id of the run, once.
        offsets: (len(query_ids) + 1,) int64; query i's list is ``offsets[i]:offsets[i + 1]``.
        docs: index into ``doc_ids`` of each retrieved document (int32), in each list's order.
        scores: the score of each retrieved document: float64, or float32 when only trec_eval's
            order is asked for (it compares float32; search order compares float64).
        code_of: ``{doc_id: index}``, the inverse of ``doc_ids`` (built when not given).
    """

    query_ids: list[str]
    doc_ids: list[str]
    offsets: np.ndarray
    docs: np.ndarray
    scores: np.ndarray
    code_of: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.code_of and self.doc_ids:
            self.code_of = dict(zip(self.doc_ids, range(len(self.doc_ids))))
        if len(self.offsets) != len(self.query_ids) + 1 or len(self.docs) != len(self.scores) or \
                int(self.offsets[-1]) != len(self.docs):
            raise GclBenchError("a run in list form needs one offset per query plus one, and one doc per score")

    @property
    def num_entries(self) -> int:
        return len(self.docs)

    @classmethod
    def from_dict(cls, run: Mapping[str, Mapping[str, float]], float64_scores: bool = True) -> RunLists:
        """The list form of ``{qid: {doc_id: score}}`` (lists in the dicts' order; scores as float64,
        or rounded to float32 with ``float64_scores=False``)."""
        code_of: dict[str, int] = {}
        lengths = np.fromiter(map(len, run.values()), dtype=np.int64, count=len(run))
        docs = np.fromiter((code_of.setdefault(doc, len(code_of)) for lists in run.values() for doc in lists),
                           dtype=np.int32, count=int(lengths.sum()))
        scores = np.fromiter((score for lists in run.values() for score in lists.values()),
                             dtype=np.float64, count=docs.size)
        if not float64_scores:
            scores = float32_scores(scores)
        return cls(list(run), list(code_of), np.concatenate(([0], np.cumsum(lengths))), docs, scores, code_of)


def join_lists(
    judgements: Judgements, run: RunLists, top_k: int | None,
) -> tuple[Hits, dict[str, int], JudgedRanks, SearchOrder]:
    """The hits of ``run`` (rows in judgement order), the counts ``missing_from_run``,
    ``tied_lists`` and ``ignored_run_queries``, the function that ranks the judged documents, and
    the one that ranks the run again in search order (as :func:`~gcl_bench.metrics._dict_join.join_dicts`)."""
    top_k = check_top_k(top_k)
    row_of = dict(zip(run.query_ids, range(len(run.query_ids))))
    if len(row_of) != len(run.query_ids):
        raise GclBenchError("query ids of the run are not unique")
    n_rows = len(judgements.query_ids)
    run_rows = np.fromiter(map(row_of.get, judgements.query_ids, repeat(-1)), dtype=np.int64, count=n_rows)
    present = np.flatnonzero(run_rows >= 0)
    ignored = sum(1 for qid in run.query_ids if qid not in judgements.judged_ids)
    # the lists of judged queries, in the run's order; judgement_row: the judged query of each
    kept = np.sort(run_rows[present])
    row_in_judgements = np.full(len(run.query_ids), -1, dtype=np.int64)
    row_in_judgements[run_rows[present]] = present
    judgement_row = row_in_judgements[kept]
    offsets, docs, scores = _take_lists(run, kept)
    if np.isnan(scores).any():
        raise GclBenchError("the run has a NaN score")
    lengths = np.diff(offsets)
    longest = int(lengths.max(initial=0))
    keep = longest if top_k is None else min(top_k, longest)

    judged_docs = np.fromiter(map(run.code_of.get, judgements.positive_doc_ids(), repeat(-1)), dtype=np.int64,
                              count=judgements.positive_rows.size)
    judged_offsets = np.concatenate(([0], np.cumsum(judgements.num_relevant)))
    note_if_compiling(judged_list_positions)
    positions, rows, grades, twice = judged_list_positions(
        docs, offsets, judgement_row, judged_offsets, judged_docs, judgements.positive_grades, len(run.doc_ids))
    if twice >= 0:
        raise GclBenchError(f"document listed twice for query {run.query_ids[int(kept[twice])]!r} of the run")
    doc_ids = run.doc_ids

    def names_of(at: np.ndarray) -> list[str]:
        return [doc_ids[j] for j in docs[at].tolist()]

    def rank(cells: np.ndarray, cell_rows: np.ndarray, cell_grades: np.ndarray, in_list_order: bool) -> Hits:
        run_scores = scores if in_list_order else float32_scores(scores)  # no copy of float32 scores
        hits, tied = rank_hits(run_scores, offsets, cell_rows, run_scores[cells], cell_grades,
                               lambda which: names_of(cells[which]), lambda _rows, at: names_of(at), keep,
                               in_list_order)
        ranked[in_list_order] = tied
        return _in_judgement_order(hits, judgement_row, n_rows)

    ranked: dict[bool, int] = {}
    hits = rank(positions, rows, grades, False)
    counts = {"missing_from_run": int(n_rows - present.size), "tied_lists": ranked[False],
              "ignored_run_queries": ignored}
    kept_lengths = np.zeros(n_rows, dtype=np.int64)
    kept_lengths[judgement_row] = np.minimum(lengths, keep)

    def judged_ranks(in_list_order: bool = False) -> tuple[Hits, np.ndarray]:
        is_judged = np.zeros(len(doc_ids), dtype=bool)
        codes = list(filter(None.__ne__, map(run.code_of.get, judgements.judged_doc_ids())))
        is_judged[np.array(codes, dtype=np.int64)] = True
        cells = np.flatnonzero(is_judged[docs])
        cell_rows = np.searchsorted(offsets, cells, side="right") - 1
        return rank(cells, cell_rows, np.ones(cells.size, dtype=np.int64), in_list_order), kept_lengths

    def search_order() -> tuple[Hits, JudgedRanks]:
        if scores.dtype != np.float64:
            raise GclBenchError("search order compares scores as float64; the run's scores were kept as float32")
        return rank(positions, rows, grades, True), lambda: judged_ranks(in_list_order=True)

    return hits, counts, judged_ranks, search_order


def _take_lists(run: RunLists, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets, docs and scores of the lists ``rows`` (increasing) alone; no copy when all are kept."""
    if rows.size == len(run.query_ids):
        return run.offsets, run.docs, run.scores
    lengths = np.diff(run.offsets)[rows]
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    at = np.repeat(run.offsets[rows] - offsets[:-1], lengths) + np.arange(int(offsets[-1]))
    return offsets, run.docs[at], run.scores[at]


def _in_judgement_order(hits: Hits, judgement_row: np.ndarray, n_rows: int) -> Hits:
    """Hits of the kept lists moved to their judged queries' rows, sorted by (row, rank)."""
    rows = judgement_row[hits.rows]
    order = np.lexsort((hits.ranks, rows))
    return Hits(rows[order], hits.ranks[order], hits.grades[order], n_rows, hits.depth)
