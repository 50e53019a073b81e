"""The API edge: judgements + a run (dicts or search arrays) -> the hits every metric uses.

:class:`JudgedRun` joins the judgements with a run once; every metric is then computed from it:

- the *hits*: for each query, the ranks and grades of its retrieved documents with a positive
  grade (the non-zero entries of the ranked gain matrix ``gains[q, r]``; see
  :mod:`gcl_bench.metrics._arrays`), rows in the order of the judgements;
- on demand (only ``hole@k`` asks): the ranks of the retrieved documents with a judgement of
  any grade, for any query, and the length of each list;
- ``max_grades[q]`` (g_max(q)), ``num_relevant[q]`` (grades >= 1) and each query's ideal
  ordering of its judged grades (for nDCG), from :class:`~gcl_bench.metrics.judgements.Judgements`.

Ranking order (under the default protocol one order for every metric, trec_eval's): score
descending after rounding the scores to float32, ties broken by document id descending (string
comparison); see :mod:`gcl_bench.metrics._ranking`. Under the reference protocol
(``protocol="reference"``, :mod:`gcl_bench.protocol`) the families of
:data:`~gcl_bench.metrics._families.SEARCH_ORDER_FAMILIES` (ERR, RBP, MRR, accuracy, hole) are
computed from a second ranking of the same run, in search order: score descending, ties in the
order the run gives them (a dict's order, the columns of search output), as the GCL reference
evaluation's stable sorts leave them; it is built on the first metric that needs it, so the
default protocol never builds it. Queries scored are those in the judgements with at least one
positive grade; a judged query missing from the run scores 0 and is counted in
``missing_from_run``; run queries that are not judged are ignored.

The joins themselves: :mod:`~gcl_bench.metrics._dict_join` (run dicts),
:mod:`~gcl_bench.metrics._list_join` (a run in list form) and
:mod:`~gcl_bench.metrics._array_join` (search output); the metric families:
:mod:`~gcl_bench.metrics._families`.

Imports numpy and the metrics layer's modules.
"""
from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics._array_join import join_arrays
from gcl_bench.metrics._arrays import Hits
from gcl_bench.metrics._dict_join import JudgedRanks, Run, SearchOrder, check_top_k, join_dicts
from gcl_bench.metrics._families import METRIC_FAMILIES, SEARCH_ORDER_FAMILIES, HitTables
from gcl_bench.metrics._list_join import RunLists, join_lists
from gcl_bench.metrics.judgements import Judgements, Qrels, read_judgements
from gcl_bench.metrics.names import DEFAULT_METRICS, MetricSpec, parse_metrics
from gcl_bench.metrics.result import MetricResult
from gcl_bench.protocol import DEFAULT, REFERENCE, check_protocol

__all__ = ["JudgedRun", "Judgements", "MetricResult", "RunLists", "evaluate"]


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


class JudgedRun:
    """A run joined with its judgements: the ranked gain matrix every metric is computed from.

    Build it with :meth:`from_dicts` (BEIR-style dicts), :meth:`from_lists` (a run file read
    into list form) or :meth:`from_arrays` (the ``(scores, indices)`` a search returns), then
    call :meth:`compute`.

    Attributes:
        protocol: ``"default"`` or ``"reference"`` (which ranking each metric family uses).
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
        judged_ranks: JudgedRanks | None = None,
        search_order: SearchOrder | None = None,
        protocol: str = DEFAULT,
    ) -> None:
        self.protocol = check_protocol(protocol)
        if protocol == REFERENCE and search_order is None:
            raise GclBenchError("the reference protocol needs the run itself, not only its relevant hits")
        self._judgements = judgements
        self.query_ids = judgements.query_ids
        self._hits = hits
        # computed on the first hole@k, then kept for later compute() calls
        self._judged_ranks = None if judged_ranks is None else functools.cache(judged_ranks)
        # the run ranked in search order: computed on the first metric that needs it, then kept
        self._search_order = None if search_order is None else functools.cache(search_order)
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
    def from_dicts(
        cls, qrels: Qrels | Judgements, run: Run, top_k: int | None = None, *, protocol: str = DEFAULT,
    ) -> JudgedRun:
        """Join BEIR-style dicts: ``qrels {qid: {doc_id: grade}}``, ``run {qid: {doc_id: score}}``.

        ``qrels`` may also be a :class:`Judgements` prepared once for several runs.
        Grades must be non-negative integers (integral floats are accepted); scores numbers
        (NaN is refused). ``top_k`` keeps only the first k documents of each list after ranking.
        ``protocol="reference"``: ERR, RBP, MRR, accuracy and hole keep tied documents in the
        order of each query's dict (a JSON file's order), as the GCL reference evaluation does.
        """
        check_protocol(protocol)
        top_k = check_top_k(top_k)
        judgements = read_judgements(qrels)
        hits, counts, judged_ranks, search_order = join_dicts(judgements, run, top_k)
        return cls(judgements, hits, judged_ranks=judged_ranks, search_order=search_order, protocol=protocol,
                   **counts)

    @classmethod
    @_pausing_gc
    def from_lists(
        cls, qrels: Qrels | Judgements, run: RunLists, top_k: int | None = None, *, protocol: str = DEFAULT,
    ) -> JudgedRun:
        """Join a run in list form (:class:`RunLists`, as :func:`gcl_bench.results.read_run_lists`
        reads a run file); the same numbers as :meth:`from_dicts` on the same run as dicts."""
        check_protocol(protocol)
        judgements = read_judgements(qrels)
        hits, counts, judged_ranks, search_order = join_lists(judgements, run, top_k)
        return cls(judgements, hits, judged_ranks=judged_ranks, search_order=search_order, protocol=protocol,
                   **counts)

    @classmethod
    @_pausing_gc
    def from_arrays(
        cls,
        qrels: Qrels | Judgements,
        query_ids: Sequence[str],
        doc_ids: Sequence[str] | ArrayLike,
        indices: ArrayLike,
        scores: ArrayLike,
        *,
        protocol: str = DEFAULT,
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
        judged document twice in one row is an error. ``protocol="reference"``: ERR, RBP, MRR,
        accuracy and hole keep tied documents in column order (the search's order).
        """
        check_protocol(protocol)
        judgements = read_judgements(qrels)
        hits, counts, judged_ranks, search_order = join_arrays(judgements, query_ids, doc_ids, indices, scores)
        return cls(judgements, hits, judged_ranks=judged_ranks, search_order=search_order, protocol=protocol,
                   **counts)

    # ------------------------------------------------------------------ metrics
    def compute(self, metrics: str | Sequence[str] = DEFAULT_METRICS) -> MetricResult:
        """Compute the named metrics (see :mod:`gcl_bench.metrics.names`) for every query."""
        specs = parse_metrics(metrics)
        tables = HitTables(self._hits, self._judgements, specs, self._judged_ranks)
        search_tables = self._search_order_tables(specs)
        per_query = {
            spec.name: METRIC_FAMILIES[spec.family](
                search_tables if search_tables is not None and spec.family in SEARCH_ORDER_FAMILIES else tables, spec
            )
            for spec in specs
        }
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


    def _search_order_tables(self, specs: list[MetricSpec]) -> HitTables | None:
        """The tables of the run ranked in search order, when the protocol and ``specs`` need them."""
        if self.protocol != REFERENCE or not any(spec.family in SEARCH_ORDER_FAMILIES for spec in specs):
            return None
        assert self._search_order is not None
        hits, judged_ranks = self._search_order()
        return HitTables(hits, self._judgements, specs, judged_ranks)


def evaluate(
    qrels: Qrels,
    run: Run,
    metrics: str | Sequence[str] = DEFAULT_METRICS,
    *,
    top_k: int | None = None,
    protocol: str = DEFAULT,
) -> dict[str, float]:
    """Score a BEIR-style run against graded judgements; return ``{metric name: mean}``.

    Args:
        qrels: ``{query_id: {doc_id: grade}}``, grades non-negative integers.
        run: ``{query_id: {doc_id: score}}``.
        metrics: metric names such as ``"ndcg@10"``, ``"err"``, ``"rbp@0.8"``, ``"map@1000"``.
        top_k: keep only the first k documents of each ranked list.
        protocol: ``"default"`` (trec_eval's order for every metric) or ``"reference"`` (ERR,
            RBP, MRR, accuracy and hole keep tied documents in the run's order, as the GCL
            reference evaluation; see :mod:`gcl_bench.protocol`).

    Means are over the judged queries with at least one positive grade; see :class:`JudgedRun`.
    """
    parse_metrics(metrics)  # fail on a bad name before converting anything
    return JudgedRun.from_dicts(qrels, run, top_k=top_k, protocol=protocol).compute(metrics).means
