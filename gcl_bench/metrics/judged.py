"""The API edge: judgements + a run (dicts or search arrays) -> the hits every metric uses.

:class:`JudgedRun` joins the judgements with a run once; every metric is then computed from it:

- the *hits*: for each query, the ranks and grades of its retrieved documents with a positive
  grade (the non-zero entries of the ranked gain matrix ``gains[q, r]``; see
  :mod:`gcl_bench.metrics._arrays`), rows in the order of the judgements;
- ``max_grades[q]`` (g_max(q)), ``num_relevant[q]`` (grades >= 1) and each query's ideal
  ordering of its judged grades (for nDCG).

Ranking order (one order for every metric, trec_eval's): score descending after rounding the
scores to float32, ties broken by document id descending (string comparison). Queries scored are
those in the judgements with at least one positive grade; a judged query missing from the run
scores 0 and is counted in ``missing_from_run``; run queries that are not judged are ignored.

How the join stays fast without compiled code: a run is never sorted document by document in
Python. Its scores are read once into an array (``np.fromiter`` over ``dict.values``) and turned
into integer sort keys (``row << 32 | float32 order``); the rank of a judged document is then a
``searchsorted`` of its own key among its row's keys. Document ids are read only where scores
tie, and only for the tied documents (the tie break needs them).
"""
from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, compress, islice, repeat
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics._arrays import Hits
from gcl_bench.metrics.classic import (
    _average_precision,
    _precision,
    _precision_at_hits,
    _recall,
    _reciprocal_rank,
)
from gcl_bench.metrics.err import _err_terms
from gcl_bench.metrics.names import DEFAULT_METRICS, MetricSpec, parse_metrics
from gcl_bench.metrics.ndcg import _dcg_terms, _ndcg
from gcl_bench.metrics.rbp import _graded_utilities, _rbp

__all__ = ["JudgedRun", "Judgements", "MetricResult", "evaluate"]

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]

_INT64_MAX = np.iinfo(np.int64).max
# cap on the scratch buffer (entries) used to look up grades from search arrays
_SCRATCH_ELEMENTS = 1 << 21


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
class Judgements:
    """Validated judgements, ready to be joined with runs; build with :meth:`from_dict`.

    Converting a judgements dict (and finding its documents in a corpus) is the part of scoring
    that has to touch every judged document id in Python. When several runs, or one search over
    a corpus, are scored against the same judgements, prepare them once and pass this object
    wherever a qrels dict is accepted.

    Attributes:
        query_ids: the judged queries with at least one positive grade, in the dict's order.
        max_grades, num_relevant: g_max(q) and the number of grades >= 1, per query.
        collection_max_grade, judged, without_positive: as in :class:`MetricResult`.
    """

    query_ids: list[str]
    dicts: list[dict]
    max_grades: np.ndarray
    num_relevant: np.ndarray
    # positive judgements, sorted by (query, grade descending); positions = rank in the ideal list
    ideal_rows: np.ndarray
    ideal_grades: np.ndarray
    ideal_positions: np.ndarray
    ideal_starts: np.ndarray
    # positive judgements in the order of ``dicts``' items: which items, their query and grade
    positive_mask: np.ndarray
    positive_rows: np.ndarray
    positive_grades: np.ndarray
    collection_max_grade: int
    judged: int
    without_positive: int
    judged_ids: set = field(default_factory=set)
    _corpus: tuple[Any, int, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, qrels: Qrels | Judgements, doc_ids: Sequence[str] | None = None) -> Judgements:
        """Validate ``{qid: {doc_id: grade}}``; with ``doc_ids``, also locate the judged documents
        in that corpus for :meth:`JudgedRun.from_arrays` (pass the same ``doc_ids`` object there)."""
        judgements = _read_judgements(qrels)
        if doc_ids is not None:
            judgements.corpus_rows(doc_ids)
        return judgements

    def corpus_rows(self, doc_ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row in ``doc_ids`` of each positive judgement (-1 if not in the corpus); cached for
        the last corpus object seen. Raises GclBenchError if the corpus ids are not unique."""
        if self._corpus is not None and self._corpus[0] is doc_ids and self._corpus[1] == len(doc_ids):
            return self._corpus[2]
        ids = doc_ids.tolist() if isinstance(doc_ids, np.ndarray) else doc_ids
        position = dict(zip(ids, range(len(ids))))
        if len(position) != len(ids):
            seen: set = set()
            duplicate = next(d for d in ids if d in seen or seen.add(d))
            raise GclBenchError(f"document ids are not unique: {duplicate!r} occurs more than once")
        rows = np.array(list(map(position.get, self.positive_doc_ids(), repeat(-1))), dtype=np.int64)
        self._corpus = (doc_ids, len(doc_ids), rows)
        return rows

    def positive_doc_ids(self) -> list[str]:
        """Doc ids of the positive judgements, aligned with ``positive_rows``."""
        if self.positive_mask.all():
            return list(chain.from_iterable(self.dicts))
        return list(compress(chain.from_iterable(self.dicts), self.positive_mask.tolist()))


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
    """Query ids, and the first doc id of every list, must be strings (catches int ids)."""
    if not set(map(type, query_ids)) <= {str}:
        bad = next(q for q in query_ids if not isinstance(q, str))
        raise GclBenchError(f"{what}: query ids must be strings, got {bad!r}")
    firsts = list(map(next, map(iter, filter(None, dicts))))
    if not set(map(type, firsts)) <= {str}:
        for query_id, docs in zip(query_ids, dicts):
            doc_id = next(iter(docs), "")
            if not isinstance(doc_id, str):
                raise GclBenchError(
                    f"{what}: document ids must be strings, got {doc_id!r} for query {query_id!r}"
                )


def _read_judgements(qrels: Qrels | Judgements) -> Judgements:
    if isinstance(qrels, Judgements):
        return qrels
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
    if keep.size * (top + 1) < 2**62:  # one integer sort key, decoded after sorting
        ordered = np.sort(pos_rows * (top + 1) + (top - pos_grades))
        ideal_rows, ideal_grades = ordered // (top + 1), top - ordered % (top + 1)
    else:
        order = np.lexsort((-pos_grades, pos_rows))
        ideal_rows, ideal_grades = pos_rows[order], pos_grades[order]
    starts = np.concatenate(([0], np.cumsum(counts[keep])[:-1]))
    ideal_positions = np.arange(ideal_rows.size) - starts[ideal_rows]
    kept_items = counts[rows] > 0
    return Judgements(
        query_ids=[all_ids[i] for i in keep],
        dicts=[all_dicts[i] for i in keep],
        max_grades=ideal_grades[starts],
        num_relevant=counts[keep].astype(np.int64),
        ideal_rows=ideal_rows,
        ideal_grades=ideal_grades,
        ideal_positions=ideal_positions,
        ideal_starts=starts,
        positive_mask=(grades > 0)[kept_items],
        positive_rows=pos_rows,
        positive_grades=pos_grades,
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


def _score_keys(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Sort keys ``row << 32 | k``: within a row, a smaller k is a higher float32-rounded score.

    Two scores of a row get the same key exactly when their float32 roundings are equal
    (-0.0 == 0.0), which is how trec_eval compares scores. ``rows`` broadcasts against scores.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = scores.astype(np.float32) + np.float32(0.0)  # -0.0 -> 0.0
    bits = rounded.view(np.int32)
    monotone = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))  # float order as int32 order
    descending = np.uint32(0x7FFFFFFF) - monotone.view(np.uint32)  # wraps into [0, 2^32)
    return (np.asarray(rows, dtype=np.int64) << 32) | descending


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values of an array that is already sorted."""
    if values.size < 2:
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of short-lived objects are made.

    Reading a run touches every key and value of its dicts; with the collector on, each
    generation-2 pass walks all of them again. No reference cycles are created here.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pausing_gc(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _gc_paused():
            return function(*args, **kwargs)

    return wrapper


def _rank_judged(
    run_keys: np.ndarray,
    row_starts: np.ndarray,
    judged_keys: np.ndarray,
    judged_grades: np.ndarray,
    judged_names: Callable[[np.ndarray], list[str]],
    names_at: Callable[[np.ndarray], list[str]],
    n_rows: int,
    keep: int,
) -> tuple[Hits, int]:
    """Find the ranks of the retrieved judged documents; return them and the tied lists.

    ``run_keys`` holds the :func:`_score_keys` of every retrieved document, rows contiguous and
    in increasing order; ``judged_keys`` the same for the retrieved positive judgements. The
    rank of a judged document is the number of documents of its row with a smaller key, plus,
    when its score is tied, the number of tied documents with a larger id (trec_eval's order).
    Only documents tied with a judged one need their ids: ``judged_names(i)`` gives the ids of
    judged documents ``i``, ``names_at(p)`` the ids of the run entries at positions ``p`` of
    ``run_keys``.
    """
    if bool((run_keys[1:] >= run_keys[:-1]).all()):
        order, ordered = None, run_keys
    else:
        order = np.argsort(run_keys, kind="stable")
        ordered = run_keys[order]
    equal = np.flatnonzero(ordered[1:] == ordered[:-1])
    tied_rows = ordered[equal] >> 32
    tied_lists = _sorted_unique(tied_rows[equal - row_starts[tied_rows] < keep]).size
    rows = judged_keys >> 32
    ranks = np.searchsorted(ordered, judged_keys, side="left") - row_starts[rows]
    if equal.size and judged_keys.size:
        tied_keys = _sorted_unique(ordered[equal])
        at = np.minimum(np.searchsorted(tied_keys, judged_keys), tied_keys.size - 1)
        tied = np.flatnonzero(tied_keys[at] == judged_keys)
        if tied.size:
            groups = np.unique(judged_keys[tied])
            left = np.searchsorted(ordered, groups, side="left")
            sizes = np.searchsorted(ordered, groups, side="right") - left
            members = np.repeat(left - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
            member_names = names_at(members if order is None else order[members])
            names = np.asarray(member_names + judged_names(tied))
            _, name_rank = np.unique(names, return_inverse=True)
            name_rank = name_rank.reshape(-1).astype(np.int64)
            member_rank, own_rank = name_rank[: len(member_names)], name_rank[len(member_names):]
            member_group = np.repeat(np.arange(groups.size, dtype=np.int64), sizes) << 32
            own_group = np.searchsorted(groups, judged_keys[tied]) << 32
            combined = np.sort(member_group | member_rank)
            # tied documents of the same group with a larger id come first
            larger = np.searchsorted(combined, own_group | 0xFFFFFFFF, side="right")
            ranks[tied] += larger - np.searchsorted(combined, own_group | own_rank, side="right")
    kept = np.flatnonzero(ranks < keep)
    rows, ranks, grades = rows[kept], ranks[kept], judged_grades[kept]
    order = np.argsort(rows * (keep + 1) + ranks, kind="stable")
    return Hits(rows[order], ranks[order], grades[order].astype(np.int64), n_rows, keep), tied_lists


def _dict_keys_at(lists: list[dict], row_starts: np.ndarray, rows: np.ndarray, positions: np.ndarray) -> list[str]:
    """Doc ids at flat positions of the concatenated run dicts; reads only the rows' prefixes."""
    within = positions - row_starts[rows]
    order = np.lexsort((within, rows))
    rows_sorted, within_sorted = rows[order], within[order]
    cuts = (np.flatnonzero(np.diff(rows_sorted)) + 1).tolist()
    names: list[str] = [""] * len(order)
    for start, stop in zip([0, *cuts], [*cuts, len(order)]):
        wanted = within_sorted[start:stop].tolist()
        prefix = list(islice(lists[int(rows_sorted[start])], wanted[-1] + 1))
        for i, w in zip(order[start:stop].tolist(), wanted):
            names[i] = prefix[w]
    return names


class JudgedRun:
    """A run joined with its judgements: the ranked gain matrix every metric is computed from.

    Build it with :meth:`from_dicts` (BEIR-style dicts) or :meth:`from_arrays` (the
    ``(scores, indices)`` a search returns), then call :meth:`compute`.

    Attributes:
        query_ids: the queries scored (judged, with a positive grade), in judgement order.
        gains: (num_queries, K) ranked gain matrix (0 = unjudged or no document), built on
            demand; metrics use its non-zero entries only.
        max_grades: (num_queries,) g_max(q); num_relevant: (num_queries,) grades >= 1.
        collection_max_grade: the largest grade of all judgements (Chapelle's ERR).
        judged, without_positive, missing_from_run, tied_lists, ignored_run_queries: counts,
            as in :class:`MetricResult`.
    """

    def __init__(
        self,
        judgements: Judgements,
        hits: Hits,
        *,
        missing_from_run: int,
        tied_lists: int,
        ignored_run_queries: int,
    ) -> None:
        self._judgements = judgements
        self.query_ids = judgements.query_ids
        self._hits = hits
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

    @property
    def gains(self) -> np.ndarray:
        """(num_queries, K) ranked gain matrix: the grade at each rank, 0 if unjudged or past the end."""
        return self._hits.dense()

    # ------------------------------------------------------------------ construction
    @classmethod
    @_pausing_gc
    def from_dicts(cls, qrels: Qrels | Judgements, run: Run, top_k: int | None = None) -> JudgedRun:
        """Join BEIR-style dicts: ``qrels {qid: {doc_id: grade}}``, ``run {qid: {doc_id: score}}``.

        ``qrels`` may also be a :class:`Judgements` prepared once for several runs.
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
        nan = np.isnan(scores)
        if nan.any():
            row = int(np.searchsorted(np.cumsum(lengths), int(np.argmax(nan)), side="right"))
            raise GclBenchError(f"the run has a NaN score for query {judgements.query_ids[row]!r}")
        row_starts = np.cumsum(lengths) - lengths
        run_keys = _score_keys(scores, np.repeat(np.arange(n_rows, dtype=np.int64), lengths))

        # scores of the positive judgements, looked up in the run (NaN = not retrieved)
        positive_ids = judgements.positive_doc_ids()
        row_dicts = chain.from_iterable(map(repeat, lists, judgements.num_relevant.tolist()))
        judged_scores = np.array(list(map(dict.get, row_dicts, positive_ids, repeat(np.nan))), dtype=np.float64)
        retrieved = np.flatnonzero(~np.isnan(judged_scores))
        judged_keys = _score_keys(judged_scores[retrieved], judgements.positive_rows[retrieved])

        def judged_names(which: np.ndarray) -> list[str]:
            return [positive_ids[i] for i in retrieved[which].tolist()]

        def names_at(positions: np.ndarray) -> list[str]:
            return _dict_keys_at(lists, row_starts, run_keys[positions] >> 32, positions)

        keep = int(lengths.max(initial=0)) if top_k is None else min(top_k, int(lengths.max(initial=0)))
        hits, tied_lists = _rank_judged(
            run_keys, row_starts, judged_keys, judgements.positive_grades[retrieved],
            judged_names, names_at, n_rows, keep,
        )
        return cls(
            judgements,
            hits,
            missing_from_run=missing,
            tied_lists=tied_lists,
            ignored_run_queries=ignored,
        )

    @classmethod
    @_pausing_gc
    def from_arrays(
        cls,
        qrels: Qrels | Judgements,
        query_ids: Sequence[str],
        doc_ids: Sequence[str] | ArrayLike,
        indices: ArrayLike,
        scores: ArrayLike,
    ) -> JudgedRun:
        """Join judgements with search output.

        Args:
            qrels: ``{qid: {doc_id: grade}}``, or :class:`Judgements` prepared with
                ``Judgements.from_dict(qrels, doc_ids)`` (then the corpus lookup is reused).
            query_ids: the query of each row of ``indices``/``scores``.
            doc_ids: the corpus ids (unique); ``indices`` point into it.
            indices: (Q, K) int, row indices into ``doc_ids``; -1 = no document (padding).
            scores: (Q, K) float scores of those documents.

        Rows need not be sorted; they are ranked like :meth:`from_dicts` ranks a dict. A
        document twice in one row is an error.
        """
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
        row_of = dict(zip(query_ids, range(len(query_ids))))
        if len(row_of) != len(query_ids):
            raise GclBenchError("query ids of the search results are not unique")
        if not isinstance(doc_ids, (Sequence, np.ndarray)):
            doc_ids = list(doc_ids)
        corpus_rows = judgements.corpus_rows(doc_ids)
        n_docs = len(doc_ids)
        if indices.size and int(indices.max()) >= n_docs:
            raise GclBenchError(f"an index {int(indices.max())} points past the {n_docs} documents")

        run_rows = np.fromiter(map(row_of.get, judgements.query_ids, repeat(-1)), dtype=np.int64,
                               count=len(judgements.query_ids))
        present = np.flatnonzero(run_rows >= 0)
        missing = int(len(judgements.query_ids) - present.size)
        ignored = sum(1 for qid in query_ids if qid not in judgements.judged_ids)

        if present.size == indices.shape[0] and (run_rows[present] == np.arange(present.size)).all():
            sub_indices, sub_scores = indices, scores  # rows already in judgement order
        else:
            sub_indices, sub_scores = indices[run_rows[present]], scores[run_rows[present]]
        sub_indices = sub_indices.astype(np.int64, copy=False)
        valid = sub_indices >= 0
        if scores.dtype.kind == "f" and np.isnan(sub_scores).any() and np.isnan(sub_scores[valid]).any():
            raise GclBenchError("the search results contain NaN scores")
        n_rows, depth = sub_indices.shape
        keys = _score_keys(sub_scores, np.arange(n_rows)[:, None])
        padded = not bool(valid.all())
        lengths = valid.sum(axis=1) if padded else np.full(n_rows, depth)
        row_starts = np.cumsum(lengths) - lengths

        # grades of the retrieved documents, looked up in a scratch row per query
        sub_row = np.full(len(judgements.query_ids), -1, dtype=np.int64)
        sub_row[present] = np.arange(n_rows)
        pair_rows = sub_row[judgements.positive_rows]
        usable = (pair_rows >= 0) & (corpus_rows >= 0)
        pair_rows, pair_cols = pair_rows[usable], corpus_rows[usable]
        pair_grades = judgements.positive_grades[usable]
        stride = n_docs + 1
        block = max(1, min(max(n_rows, 1), _SCRATCH_ELEMENTS // stride))
        scratch = np.zeros(block * stride, dtype=np.int64 if judgements.collection_max_grade >= 2**31 else np.int32)
        slot_of = np.where(valid, sub_indices, n_docs) if padded else sub_indices
        unranked = np.empty((n_rows, depth), dtype=scratch.dtype)
        bounds = np.searchsorted(pair_rows, np.arange(0, n_rows + block, block))
        for i, start in enumerate(range(0, n_rows, block)):
            stop = min(start + block, n_rows)
            slots = (pair_rows[bounds[i]:bounds[i + 1]] - start) * stride + pair_cols[bounds[i]:bounds[i + 1]]
            scratch[slots] = pair_grades[bounds[i]:bounds[i + 1]]
            np.take(scratch, (np.arange(stop - start) * stride)[:, None] + slot_of[start:stop], out=unranked[start:stop])
            scratch[slots] = 0
        judged_rows, judged_cols = np.divmod(np.flatnonzero(unranked), max(depth, 1))
        judged_docs = sub_indices[judged_rows, judged_cols]
        pairs = np.sort(judged_rows * stride + judged_docs)
        if (pairs[1:] == pairs[:-1]).any():
            raise GclBenchError("a judged document appears twice in one query's search results")
        flat_valid = np.flatnonzero(valid) if padded else None

        def judged_names(which: np.ndarray) -> list[str]:
            return [doc_ids[j] for j in judged_docs[which].tolist()]

        def names_at(positions: np.ndarray) -> list[str]:
            cells = positions if flat_valid is None else flat_valid[positions]
            return [doc_ids[j] for j in sub_indices.ravel()[cells].tolist()]

        sub_hits, tied_lists = _rank_judged(
            keys[valid] if padded else keys.ravel(), row_starts, keys[judged_rows, judged_cols],
            unranked[judged_rows, judged_cols], judged_names, names_at, n_rows, int(lengths.max(initial=0)),
        )
        return cls(
            judgements,
            sub_hits.take_rows(present, len(judgements.query_ids)),
            missing_from_run=missing,
            tied_lists=tied_lists,
            ignored_run_queries=ignored,
        )

    # ------------------------------------------------------------------ metrics
    def compute(self, metrics: str | Sequence[str] = DEFAULT_METRICS) -> MetricResult:
        """Compute the named metrics (see :mod:`gcl_bench.metrics.names`) for every query."""
        specs = parse_metrics(metrics)
        tables = _HitTables(self._hits, self._judgements, specs)
        per_query = {spec.name: tables.metric(spec) for spec in specs}
        means = {name: float(values.mean()) for name, values in per_query.items()}
        return MetricResult(
            means=means,
            per_query=per_query,
            query_ids=list(self.query_ids),
            num_queries=self.num_queries,
            judged=self.judged,
            without_positive=self.without_positive,
            missing_from_run=self.missing_from_run,
            tied_lists=self.tied_lists,
            ignored_run_queries=self.ignored_run_queries,
        )


class _HitTables:
    """The hits of a judged run with the running sums that metrics at any cutoff share."""

    def __init__(self, hits: Hits, judgements: Judgements, specs: list[MetricSpec]) -> None:
        self.hits = hits
        self.judgements = judgements
        self.num_relevant = judgements.num_relevant
        self.max_grades = judgements.max_grades
        cutoffs = [spec.k for spec in specs if spec.family == "ndcg"]
        self.ideal_cap = None if None in cutoffs else max(cutoffs, default=0)
        self._cache: dict[Any, Any] = {}

    def _cached(self, key: Any, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _ideal(self) -> tuple[Hits, np.ndarray]:
        """Each query's judgements in the ideal order, as hits, with their running DCG."""

        def make() -> tuple[Hits, np.ndarray]:
            judgements = self.judgements
            depth = int(self.num_relevant.max())
            if self.ideal_cap is not None:
                depth = min(depth, self.ideal_cap)
            inside = judgements.ideal_positions < depth
            ideal = Hits(judgements.ideal_rows[inside], judgements.ideal_positions[inside],
                         judgements.ideal_grades[inside], self.hits.n_rows, depth)
            return ideal, ideal.running(_dcg_terms(ideal))

        return self._cached("ideal", make)

    def metric(self, spec: MetricSpec) -> np.ndarray:
        family, k, hits = spec.family, spec.k, self.hits
        if family == "ndcg":
            ideal, ideal_running = self._ideal()
            dcg_running = self._cached("dcg", lambda: hits.running(_dcg_terms(hits)))
            return _ndcg(hits, ideal, dcg_running, ideal_running, k)
        if family == "err":
            return hits.at(self._cached("err", lambda: hits.running(_err_terms(hits, self.max_grades))), k)
        if family == "err_chapelle":
            top = np.full(hits.n_rows, self.judgements.collection_max_grade, dtype=np.int64)
            return hits.at(self._cached("err_chapelle", lambda: hits.running(_err_terms(hits, top))), k)
        if family == "rbp":
            return _rbp(hits, _graded_utilities(hits, self.max_grades), spec.p)
        if family == "rbp_binary":
            return _rbp(hits, np.ones(hits.rows.size), spec.p)
        if family == "map":
            running = self._cached("map", lambda: hits.running(_precision_at_hits(hits)))
            return _average_precision(hits, running, self.num_relevant, k)
        if family == "mrr":
            return _reciprocal_rank(hits, k)
        if family == "recall":
            return _recall(hits, self.num_relevant, k)
        if family == "precision":
            return _precision(hits, k)
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
