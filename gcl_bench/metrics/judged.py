"""The API edge: judgements + a run (dicts or search arrays) -> one ranked gain matrix.

Every metric is computed from the same :class:`JudgedRun`, built once:

- ``gains[q, r]``: the grade of the document at rank r+1 of query q (0 if unjudged or past the
  end of the list), rows in the order of the judgements;
- ``max_grades[q]`` (g_max(q)), ``num_relevant[q]`` (grades >= 1) and each query's ideal
  ordering of its judged grades (for nDCG).

Ranking order (one order for every metric, trec_eval's): score descending after rounding the
scores to float32, ties broken by document id descending (string comparison). Queries scored are
those in the judgements with at least one positive grade; a judged query missing from the run
scores 0 and is counted in ``missing_from_run``; run queries that are not judged are ignored.

The conversion does no per-document work in Python beyond one pass over the dicts' keys and
values in C (``np.fromiter`` over ``dict.values``/``dict.get``); sorting, tie breaking and gain
lookups are vectorised.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics.classic import (
    _average_precision,
    _precision,
    _recall,
    _reciprocal_rank,
)
from gcl_bench.metrics.err import _err_contributions
from gcl_bench.metrics.names import DEFAULT_METRICS, MetricSpec, parse_metrics
from gcl_bench.metrics.ndcg import _dcg, _idcg_from_sorted
from gcl_bench.metrics.rbp import _weights

__all__ = ["JudgedRun", "MetricResult", "evaluate"]

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]

_INT64_MAX = np.iinfo(np.int64).max
# rows per block in compute(); keeps temporaries small and in cache
_BLOCK_ELEMENTS = 1 << 18
# cap on the scratch buffer (entries) used to look up grades from search arrays
_SCRATCH_ELEMENTS = 1 << 22


@dataclass
class MetricResult:
    """Means and per-query values of a set of metrics over one judged run.

    Attributes:
        means: metric name -> mean over ``query_ids``.
        per_query: metric name -> (num_queries,) float64, aligned with ``query_ids``.
        query_ids: the queries averaged over: judged queries with at least one positive grade,
            in the order of the judgements.
        num_queries: ``len(query_ids)``.
        judged: queries in the judgements (with or without a positive grade).
        without_positive: judged queries with no positive grade (not averaged over).
        missing_from_run: averaged queries absent from the run (they score 0).
        tied_lists: averaged queries whose retrieved list (as kept, up to top_k) contains tied
            float32 scores, so the document-id tie break decided part of the order.
        ignored_run_queries: run queries that are not in the judgements.
    """

    means: dict[str, float]
    per_query: dict[str, np.ndarray]
    query_ids: list[str]
    num_queries: int
    judged: int
    without_positive: int
    missing_from_run: int
    tied_lists: int
    ignored_run_queries: int = 0

    @property
    def scored(self) -> int:
        """Averaged queries that have a retrieved list."""
        return self.num_queries - self.missing_from_run

    def query_counts(self) -> dict[str, int]:
        """The ``queries`` section of results.json."""
        return {
            "judged": self.judged,
            "scored": self.scored,
            "missing_from_run": self.missing_from_run,
            "without_positive": self.without_positive,
        }

    def to_frame(self) -> Any:
        """Per-query values as a pandas DataFrame indexed by ``query_id`` (metric order kept)."""
        import pandas as pd

        frame = pd.DataFrame(self.per_query, columns=list(self.per_query))
        frame.index = pd.Index(self.query_ids, name="query_id")
        return frame


@dataclass
class _Judgements:
    """Validated judgements of the queries that have a positive grade."""

    query_ids: list[str]
    dicts: list[dict]
    max_grades: np.ndarray
    num_relevant: np.ndarray
    # positive judgements, sorted by (query, grade descending); positions = rank in the ideal list
    ideal_rows: np.ndarray
    ideal_grades: np.ndarray
    ideal_positions: np.ndarray
    # flat index of each positive judgement in the concatenation of ``dicts``' items
    ideal_flat: np.ndarray
    collection_max_grade: int
    judged: int
    without_positive: int
    judged_ids: set = field(default_factory=set)


def _bad_grade(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, np.integer)):
        return value < 0 or value > _INT64_MAX
    if isinstance(value, (float, np.floating)):
        return not (np.isfinite(value) and value == int(value) and 0 <= value < 2.0**62)
    return True


def _grade_error(query_ids: list[str], dicts: list[dict], lengths: np.ndarray, flat: int) -> GclBenchError:
    row = int(np.searchsorted(np.cumsum(lengths), flat, side="right"))
    start = int(lengths[:row].sum())
    doc, value = list(dicts[row].items())[flat - start]
    return GclBenchError(
        f"judgement of document {doc!r} for query {query_ids[row]!r} is {value!r}: "
        "grades must be non-negative integers"
    )


def _as_dict(value: Any, what: str, key: str) -> dict:
    if type(value) is dict:
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise GclBenchError(f"{what} of query {key!r} must be a mapping doc_id -> value, got {type(value).__name__}")


def _check_keys(query_ids: list, dicts: list[dict], what: str) -> None:
    for query_id in query_ids:
        if not isinstance(query_id, str):
            raise GclBenchError(f"{what}: query ids must be strings, got {query_id!r}")
    for query_id, docs in zip(query_ids, dicts):
        if docs:
            doc_id = next(iter(docs))
            if not isinstance(doc_id, str):
                raise GclBenchError(
                    f"{what}: document ids must be strings, got {doc_id!r} for query {query_id!r}"
                )


def _read_judgements(qrels: Qrels) -> _Judgements:
    if not isinstance(qrels, Mapping):
        raise GclBenchError(f"judgements must be a mapping query_id -> {{doc_id: grade}}, got {type(qrels).__name__}")
    all_ids = list(qrels)
    all_dicts = [_as_dict(docs, "the judgements", key) for key, docs in qrels.items()]
    _check_keys(all_ids, all_dicts, "judgements")
    lengths = np.fromiter(map(len, all_dicts), dtype=np.int64, count=len(all_dicts))
    values = list(chain.from_iterable(map(dict.values, all_dicts)))
    grades = np.array(values) if values else np.zeros(0, dtype=np.int64)
    kind = grades.dtype.kind
    if kind == "f":
        bad = ~(np.isfinite(grades) & (grades == np.floor(grades)) & (grades >= 0) & (grades < 2.0**62))
    elif kind in "iu" and grades.ndim == 1:
        bad = (grades < 0) | (grades > _INT64_MAX) if kind == "i" else grades > _INT64_MAX
    else:
        bad = np.fromiter(map(_bad_grade, values), dtype=bool, count=len(values))
        if not bad.any():  # e.g. a mix numpy could not put in one numeric array
            bad[:] = True
    if bad.any():
        raise _grade_error(all_ids, all_dicts, lengths, int(np.argmax(bad)))
    grades = grades.astype(np.int64)

    rows = np.repeat(np.arange(len(all_dicts)), lengths)
    positive = np.flatnonzero(grades > 0)
    counts = np.bincount(rows[positive], minlength=len(all_dicts))
    keep = np.flatnonzero(counts > 0)
    if keep.size == 0:
        raise GclBenchError("the judgements contain no query with a positive grade")
    new_row = np.full(len(all_dicts), -1, dtype=np.int64)
    new_row[keep] = np.arange(keep.size)
    # sort the positive judgements by (query, grade descending)
    pos_rows, pos_grades = new_row[rows[positive]], grades[positive]
    top = int(pos_grades.max())
    if keep.size * (top + 1) < 2**62:
        order = np.argsort(pos_rows * (top + 1) + (top - pos_grades), kind="stable")
    else:
        order = np.lexsort((-pos_grades, pos_rows))
    ideal_rows, ideal_grades = pos_rows[order], pos_grades[order]
    starts = np.concatenate(([0], np.cumsum(counts[keep])[:-1]))
    ideal_positions = np.arange(ideal_rows.size) - starts[ideal_rows]
    # flat positions of the positive judgements within the kept queries' items
    kept_lengths = lengths[keep]
    kept_offsets = np.concatenate(([0], np.cumsum(kept_lengths)[:-1]))
    all_offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    ideal_flat = positive[order] - all_offsets[rows[positive][order]] + kept_offsets[ideal_rows]
    return _Judgements(
        query_ids=[all_ids[i] for i in keep],
        dicts=[all_dicts[i] for i in keep],
        max_grades=ideal_grades[starts],
        num_relevant=counts[keep].astype(np.int64),
        ideal_rows=ideal_rows,
        ideal_grades=ideal_grades,
        ideal_positions=ideal_positions,
        ideal_flat=ideal_flat,
        collection_max_grade=int(grades.max()),
        judged=len(all_ids),
        without_positive=len(all_ids) - int(keep.size),
        judged_ids=set(all_ids),
    )


def _check_top_k(top_k: int | None) -> int | None:
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise GclBenchError(f"top_k must be a positive integer, got {top_k!r}")
    return int(top_k)


def _to_float32_keys(scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Sort keys: minus the float32-rounded score, NaN for padding (sorts last)."""
    with np.errstate(over="ignore", invalid="ignore"):
        keys = np.negative(scores.astype(np.float32))
    keys[~valid] = np.nan
    return keys


def _order_rows(keys: np.ndarray, doc_names: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Column order of each row: key ascending (score descending), ties by doc id descending.

    ``keys`` is (Q, K) float32 with NaN for padding; ``doc_names(rows, cols)`` returns the doc
    ids of the given entries (only called for tied entries). Returns the (Q, K) order and the
    (Q, K) mask of tied positions in sorted order (None when nothing is tied).
    """
    n_rows, depth = keys.shape
    order = np.broadcast_to(np.arange(depth), (n_rows, depth))
    if depth < 2:
        return np.array(order), None
    # rows already best first (the usual case for search output) need no sort
    in_order = (keys[:, 1:] >= keys[:, :-1]) | np.isnan(keys[:, 1:])
    unsorted = np.flatnonzero(~in_order.all(axis=1))
    if unsorted.size:
        order = np.array(order)
        order[unsorted] = np.argsort(keys[unsorted], axis=1)
        sorted_keys = keys.copy()
        sorted_keys[unsorted] = np.take_along_axis(keys[unsorted], order[unsorted], axis=1)
    else:
        sorted_keys = keys
    equal = sorted_keys[:, 1:] == sorted_keys[:, :-1]
    if not equal.any():
        return np.array(order), None
    order = np.array(order)
    tied = np.zeros(keys.shape, dtype=bool)
    tied[:, 1:] |= equal
    tied[:, :-1] |= equal
    rows, cols = np.nonzero(tied)
    continues = np.zeros(rows.size, dtype=bool)
    inner = cols > 0
    continues[inner] = equal[rows[inner], cols[inner] - 1]
    group = np.cumsum(~continues)
    original_cols = order[rows, cols]
    names = np.asarray(doc_names(rows, original_cols))
    _, name_rank = np.unique(names, return_inverse=True)
    within = np.lexsort((-name_rank.reshape(-1), group))
    order[rows, cols] = original_cols[within]
    return order, tied


class JudgedRun:
    """A run joined with its judgements: the ranked gain matrix every metric is computed from.

    Build it with :meth:`from_dicts` (BEIR-style dicts) or :meth:`from_arrays` (the
    ``(scores, indices)`` a search returns), then call :meth:`compute`.

    Attributes:
        query_ids: the queries scored (judged, with a positive grade), in judgement order.
        gains: (num_queries, K) ranked gain matrix (0 = unjudged or no document).
        max_grades: (num_queries,) g_max(q); num_relevant: (num_queries,) grades >= 1.
        collection_max_grade: the largest grade of all judgements (Chapelle's ERR).
        judged, without_positive, missing_from_run, tied_lists, ignored_run_queries: counts,
            as in :class:`MetricResult`.
    """

    def __init__(
        self,
        judgements: _Judgements,
        gains: np.ndarray,
        *,
        missing_from_run: int,
        tied_lists: int,
        ignored_run_queries: int,
    ) -> None:
        self._judgements = judgements
        self.query_ids = judgements.query_ids
        self.gains = gains
        self.max_grades = judgements.max_grades
        self.num_relevant = judgements.num_relevant
        self.collection_max_grade = judgements.collection_max_grade
        self.judged = judgements.judged
        self.without_positive = judgements.without_positive
        self.missing_from_run = missing_from_run
        self.tied_lists = tied_lists
        self.ignored_run_queries = ignored_run_queries

    @property
    def num_queries(self) -> int:
        return len(self.query_ids)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dicts(cls, qrels: Qrels, run: Run, top_k: int | None = None) -> JudgedRun:
        """Join BEIR-style dicts: ``qrels {qid: {doc_id: grade}}``, ``run {qid: {doc_id: score}}``.

        Grades must be non-negative integers (integral floats are accepted); scores numbers
        (NaN is refused). ``top_k`` keeps only the first k documents of each list after ranking.
        """
        top_k = _check_top_k(top_k)
        judgements = _read_judgements(qrels)
        if not isinstance(run, Mapping):
            raise GclBenchError(f"the run must be a mapping query_id -> {{doc_id: score}}, got {type(run).__name__}")
        lists = list(map(run.get, judgements.query_ids))
        missing = lists.count(None)
        lists = [
            {} if docs is None else _as_dict(docs, "the run", qid)
            for qid, docs in zip(judgements.query_ids, lists)
        ]
        _check_keys(judgements.query_ids, lists, "run")
        ignored = sum(1 for qid in run if qid not in judgements.judged_ids)

        n_rows = len(lists)
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=n_rows)
        total = int(lengths.sum())
        try:
            scores = np.fromiter(chain.from_iterable(map(dict.values, lists)), dtype=np.float64, count=total)
        except (TypeError, ValueError) as exc:
            raise GclBenchError(f"the run contains a score that is not a number ({exc})") from None
        if np.isnan(scores).any():
            flat = int(np.argmax(np.isnan(scores)))
            row = int(np.searchsorted(np.cumsum(lengths), flat, side="right"))
            raise GclBenchError(f"the run has a NaN score for query {judgements.query_ids[row]!r}")
        zeros = repeat(0)
        lookups = chain.from_iterable(map(map, map(_getter, judgements.dicts), lists, repeat(zeros)))
        flat_gains = np.fromiter(lookups, dtype=np.int64, count=total)

        depth = int(lengths.max()) if n_rows else 0
        starts = np.cumsum(lengths) - lengths
        rows = np.repeat(np.arange(n_rows), lengths)
        cols = np.arange(total) - starts[rows]
        valid = np.zeros((n_rows, depth), dtype=bool)
        valid[rows, cols] = True
        score_matrix = np.zeros((n_rows, depth), dtype=np.float64)
        score_matrix[rows, cols] = scores
        gain_matrix = np.zeros((n_rows, depth), dtype=np.int64)
        gain_matrix[rows, cols] = flat_gains
        keys = _to_float32_keys(score_matrix, valid)

        doc_ids: list[str] = []

        def doc_names(r: np.ndarray, c: np.ndarray) -> list[str]:
            if not doc_ids:
                doc_ids.extend(chain.from_iterable(lists))
            flat = (starts[r] + c).tolist()
            return list(itemgetter(*flat)(doc_ids)) if len(flat) > 1 else [doc_ids[i] for i in flat]

        order, tied = _order_rows(keys, doc_names)
        keep = depth if top_k is None else min(top_k, depth)
        order = order[:, :keep]
        gains = np.take_along_axis(gain_matrix, order, axis=1)
        tied_lists = 0 if tied is None else int(tied[:, :keep].any(axis=1).sum())
        return cls(
            judgements,
            _compact(gains, judgements.collection_max_grade),
            missing_from_run=missing,
            tied_lists=tied_lists,
            ignored_run_queries=ignored,
        )

    @classmethod
    def from_arrays(
        cls,
        qrels: Qrels,
        query_ids: Sequence[str],
        doc_ids: Sequence[str] | ArrayLike,
        indices: ArrayLike,
        scores: ArrayLike,
    ) -> JudgedRun:
        """Join judgements with search output.

        Args:
            qrels: ``{qid: {doc_id: grade}}``.
            query_ids: the query of each row of ``indices``/``scores``.
            doc_ids: the corpus ids; ``indices`` point into it. A ``pandas.Index`` is used as
                is (its hash table is reused across calls).
            indices: (Q, K) int, row indices into ``doc_ids``; -1 = no document (padding).
            scores: (Q, K) float scores of those documents.

        Rows need not be sorted; they are ranked like :meth:`from_dicts` ranks a dict. A
        document twice in one row is an error.
        """
        import pandas as pd

        judgements = _read_judgements(qrels)
        indices = np.asarray(indices)
        scores = np.asarray(scores)
        if indices.ndim != 2 or indices.shape != scores.shape:
            raise GclBenchError(
                f"indices and scores must be (queries, k) matrices of one shape, got {indices.shape} and {scores.shape}"
            )
        if indices.dtype.kind not in "iu":
            raise GclBenchError(f"indices must be integers, got dtype {indices.dtype}")
        if scores.dtype.kind not in "fiu":
            raise GclBenchError(f"scores must be numbers, got dtype {scores.dtype}")
        query_ids = list(query_ids)
        if len(query_ids) != indices.shape[0]:
            raise GclBenchError(f"{len(query_ids)} query ids for {indices.shape[0]} rows of search results")
        row_of = {qid: i for i, qid in enumerate(query_ids)}
        if len(row_of) != len(query_ids):
            raise GclBenchError("query ids of the search results are not unique")
        corpus = doc_ids if isinstance(doc_ids, pd.Index) else pd.Index(np.asarray(doc_ids, dtype=object))
        n_docs = len(corpus)
        if not corpus.is_unique:
            duplicated = corpus[corpus.duplicated()][0]
            raise GclBenchError(f"document ids are not unique: {duplicated!r} occurs more than once")
        if indices.size and indices.max() >= n_docs:
            raise GclBenchError(f"an index {int(indices.max())} points past the {n_docs} documents")

        run_rows = np.fromiter((row_of.get(q, -1) for q in judgements.query_ids), dtype=np.int64,
                               count=len(judgements.query_ids))
        present = np.flatnonzero(run_rows >= 0)
        missing = int(len(judgements.query_ids) - present.size)
        ignored = sum(1 for qid in query_ids if qid not in judgements.judged_ids)

        sub_indices = indices[run_rows[present]].astype(np.int64, copy=False)
        sub_scores = scores[run_rows[present]]
        valid = sub_indices >= 0
        if scores.dtype.kind == "f" and np.isnan(sub_scores[valid]).any():
            raise GclBenchError("the search results contain NaN scores")
        depth = indices.shape[1]
        if depth > 1:
            sorted_indices = np.sort(sub_indices, axis=1)
            if ((sorted_indices[:, 1:] == sorted_indices[:, :-1]) & (sorted_indices[:, 1:] >= 0)).any():
                raise GclBenchError("a document appears twice in one query's search results")
        keys = _to_float32_keys(sub_scores, valid)
        names = corpus.to_numpy()

        def doc_names(r: np.ndarray, c: np.ndarray) -> np.ndarray:
            return names[sub_indices[r, c]].astype(str)

        order, tied = _order_rows(keys, doc_names)
        ranked = np.take_along_axis(sub_indices, order, axis=1)
        ranked[ranked < 0] = n_docs

        # grades of the positive judgements, looked up in a scratch row per query
        flat_ids = list(chain.from_iterable(judgements.dicts))
        positive_ids = [flat_ids[i] for i in judgements.ideal_flat.tolist()]
        corpus_rows = corpus.get_indexer(positive_ids) if positive_ids else np.zeros(0, dtype=np.int64)
        sub_row = np.full(len(judgements.query_ids), -1, dtype=np.int64)
        sub_row[present] = np.arange(present.size)
        pair_rows = sub_row[judgements.ideal_rows]
        usable = (pair_rows >= 0) & (corpus_rows >= 0)
        pair_rows, pair_cols = pair_rows[usable], corpus_rows[usable]
        pair_grades = judgements.ideal_grades[usable]
        order_pairs = np.argsort(pair_rows, kind="stable")
        pair_rows, pair_cols, pair_grades = pair_rows[order_pairs], pair_cols[order_pairs], pair_grades[order_pairs]

        stride = n_docs + 1
        block = max(1, min(max(present.size, 1), _SCRATCH_ELEMENTS // stride))
        scratch = np.zeros(block * stride, dtype=np.int64)
        sub_gains = np.zeros(ranked.shape, dtype=np.int64)
        bounds = np.searchsorted(pair_rows, np.arange(0, present.size + block, block))
        for i, start in enumerate(range(0, present.size, block)):
            stop = min(start + block, present.size)
            lo, hi = bounds[i], bounds[i + 1]
            slots = (pair_rows[lo:hi] - start) * stride + pair_cols[lo:hi]
            scratch[slots] = pair_grades[lo:hi]
            offsets = (np.arange(stop - start) * stride)[:, None]
            sub_gains[start:stop] = scratch[offsets + ranked[start:stop]]
            scratch[slots] = 0

        gains = np.zeros((len(judgements.query_ids), depth), dtype=np.int64)
        gains[present] = sub_gains
        tied_lists = 0 if tied is None else int(tied.any(axis=1).sum())
        return cls(
            judgements,
            _compact(gains, judgements.collection_max_grade),
            missing_from_run=missing,
            tied_lists=tied_lists,
            ignored_run_queries=ignored,
        )

    # ------------------------------------------------------------------ metrics
    def compute(self, metrics: str | Sequence[str] = DEFAULT_METRICS) -> MetricResult:
        """Compute the named metrics (see :mod:`gcl_bench.metrics.names`) for every query."""
        specs = parse_metrics(metrics)
        n_queries, depth = self.gains.shape
        per_query = {spec.name: np.zeros(n_queries) for spec in specs}
        ideal = {}
        judgements = self._judgements
        for spec in specs:
            if spec.family == "ndcg" and spec.k not in ideal:
                ideal[spec.k] = _idcg_from_sorted(
                    judgements.ideal_rows, judgements.ideal_grades, judgements.ideal_positions,
                    n_queries, spec.k,
                )
        step = max(1, _BLOCK_ELEMENTS // max(depth, 1))
        for start in range(0, n_queries, step):
            block = _Block(self, slice(start, min(start + step, n_queries)))
            for spec in specs:
                per_query[spec.name][block.rows] = block.metric(spec, ideal)
        means = {name: float(values.mean()) for name, values in per_query.items()}
        return MetricResult(
            means=means,
            per_query=per_query,
            query_ids=list(self.query_ids),
            num_queries=n_queries,
            judged=self.judged,
            without_positive=self.without_positive,
            missing_from_run=self.missing_from_run,
            tied_lists=self.tied_lists,
            ignored_run_queries=self.ignored_run_queries,
        )


def _getter(docs: dict) -> Any:
    return docs.get


def _compact(gains: np.ndarray, top: int) -> np.ndarray:
    return gains.astype(np.int32) if top < 2**31 else gains


class _Block:
    """One block of rows of a JudgedRun, with the intermediate arrays metrics share."""

    def __init__(self, judged: JudgedRun, rows: slice) -> None:
        self.rows = rows
        self.gains = judged.gains[rows]
        self.max_grades = judged.max_grades[rows]
        self.num_relevant = judged.num_relevant[rows]
        self.collection_max_grade = judged.collection_max_grade
        self._cache: dict[str, Any] = {}

    def _get(self, key: str, make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def relevant(self) -> np.ndarray:
        return self._get("relevant", lambda: self.gains >= 1)

    @property
    def cum_relevant(self) -> np.ndarray:
        return self._get("cum", lambda: np.cumsum(self.relevant, axis=1, dtype=np.int32))

    def _err_terms(self, collection: bool) -> np.ndarray:
        def make() -> np.ndarray:
            if collection:
                top = np.full(self.gains.shape[0], self.collection_max_grade, dtype=np.int64)
            else:
                top = self.max_grades
            return _err_contributions(self.gains, top)

        return self._get(f"err{collection}", make)

    def metric(self, spec: MetricSpec, ideal: dict) -> np.ndarray:
        family, k = spec.family, spec.k
        depth = self.gains.shape[1] if k is None else min(k, self.gains.shape[1])
        if family == "ndcg":
            dcg = _dcg(self.gains, k)
            idcg = ideal[k][self.rows]
            return np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)
        if family in ("err", "err_chapelle"):
            return self._err_terms(family == "err_chapelle")[:, :depth].sum(axis=1)
        if family == "rbp":
            weights = _weights(spec.p, self.gains.shape[1])
            return (self.gains @ weights) / self.max_grades
        if family == "rbp_binary":
            return self.relevant @ _weights(spec.p, self.gains.shape[1])
        if family == "map":
            return _average_precision(self.relevant, self.cum_relevant, self.num_relevant, k)
        if family == "mrr":
            return _reciprocal_rank(self.relevant, k)
        if family == "recall":
            return _recall(self.cum_relevant, self.num_relevant, k)
        if family == "precision":
            return _precision(self.cum_relevant, k)
        raise AssertionError(family)  # parse_metrics admits only the families above


def evaluate(
    qrels: Qrels,
    run: Run,
    metrics: str | Sequence[str] = DEFAULT_METRICS,
    *,
    top_k: int | None = None,
) -> dict[str, float]:
    """Score a BEIR-style run against graded judgements; return ``{metric name: mean}``.

    Args:
        qrels: ``{query_id: {doc_id: grade}}``, grades non-negative integers.
        run: ``{query_id: {doc_id: score}}``.
        metrics: metric names such as ``"ndcg@10"``, ``"err"``, ``"rbp@0.8"``, ``"map@1000"``.
        top_k: keep only the first k documents of each ranked list.

    Means are over the judged queries with at least one positive grade; see :class:`JudgedRun`.
    """
    parse_metrics(metrics)  # fail on a bad name before converting anything
    return JudgedRun.from_dicts(qrels, run, top_k=top_k).compute(metrics).means
