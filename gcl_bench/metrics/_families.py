"""Metric family -> the function that computes it from the hits of a joined run.

:data:`METRIC_FAMILIES` maps every family of :mod:`~gcl_bench.metrics.names` to a function
``(tables, spec) -> (num_queries,) float64``; :class:`HitTables` keeps what metrics at several
cutoffs share (running sums over each query's hits, the ideal ordering for nDCG), computed once.
The formulas are in the family modules (:mod:`~gcl_bench.metrics.ndcg` and the others).

Imports numpy and the metrics layer's family modules.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics._arrays import Hits
from gcl_bench.metrics.classic import (
    _accuracy,
    _average_precision,
    _precision,
    _precision_at_hits,
    _recall,
    _reciprocal_rank,
)
from gcl_bench.metrics.err import GDEVAL_MAX_GRADE, _check_gdeval_scale, _err_terms
from gcl_bench.metrics.hole import _hole
from gcl_bench.metrics.judgements import Judgements
from gcl_bench.metrics.names import MetricSpec
from gcl_bench.metrics.ndcg import _dcg_terms, _ndcg
from gcl_bench.metrics.rbp import _graded_utilities, _rbp

__all__ = ["METRIC_FAMILIES", "SEARCH_ORDER_FAMILIES", "HitTables"]

#: The families the reference protocol computes from the run ranked in search order (ties kept
#: in the order the run gives them): those the GCL reference evaluation computes with a stable
#: sort on the score (its ERR and RBP loops, BEIR's MRR, accuracy and hole). The others keep
#: trec_eval's order under every protocol: nDCG, MAP, recall and precision (pytrec_eval in the
#: reference), and the families the reference does not compute.
SEARCH_ORDER_FAMILIES: frozenset[str] = frozenset({"err", "rbp", "mrr", "accuracy", "hole"})


class HitTables:
    """The hits of a judged run with the tables that metrics at any cutoff share."""

    def __init__(
        self,
        hits: Hits,
        judgements: Judgements,
        specs: list[MetricSpec],
        judged_ranks: Callable[[], tuple[Hits, np.ndarray]] | None = None,
    ) -> None:
        self.hits = hits
        self._judged_ranks = judged_ranks
        self._judged: tuple[Hits, np.ndarray] | None = None
        self.judgements = judgements
        self.num_relevant = judgements.num_relevant
        self.max_grades = judgements.max_grades
        cutoffs = [spec.k for spec in specs if spec.family == "ndcg"]
        self._ideal_cap = None if None in cutoffs else max(cutoffs, default=0)
        self._running: dict[str, np.ndarray] = {}
        self._ideal: tuple[Hits, np.ndarray] | None = None

    def running(self, name: str, terms: Callable[[Hits], np.ndarray]) -> np.ndarray:
        """Per-row running sums of the per-hit ``terms(hits)``, computed once per ``name``."""
        if name not in self._running:
            self._running[name] = self.hits.running(terms(self.hits))
        return self._running[name]

    def judged(self) -> tuple[Hits, np.ndarray]:
        """The ranks of the retrieved documents judged with any grade (as hits of grade 1) and
        the length of each retrieved list, computed by the join on the first call."""
        if self._judged is None:
            if self._judged_ranks is None:
                raise GclBenchError("hole@k needs the run itself, not only its relevant hits")
            self._judged = self._judged_ranks()
        return self._judged

    def ideal(self) -> tuple[Hits, np.ndarray]:
        """Each query's judgements in the ideal order, as hits, with their running DCG."""
        if self._ideal is None:
            judgements = self.judgements
            depth = int(self.num_relevant.max())
            if self._ideal_cap is not None:
                depth = min(depth, self._ideal_cap)
            inside = judgements.ideal_positions < depth
            ideal = Hits(judgements.positive_rows[inside], judgements.ideal_positions[inside],
                         judgements.ideal_grades[inside], self.hits.n_rows, depth)
            self._ideal = ideal, ideal.running(_dcg_terms(ideal))
        return self._ideal


def _ndcg_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    ideal, ideal_running = tables.ideal()
    return _ndcg(tables.hits, ideal, tables.running("dcg", _dcg_terms), ideal_running, spec.k)


def _err_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    running = tables.running("err", lambda hits: _err_terms(hits, tables.max_grades))
    return tables.hits.at(running, spec.k)


def _err_chapelle_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    top = np.full(tables.hits.n_rows, tables.judgements.collection_max_grade, dtype=np.int64)
    return tables.hits.at(tables.running("err_chapelle", lambda hits: _err_terms(hits, top)), spec.k)


def _rbp_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    return _rbp(tables.hits, _graded_utilities(tables.hits, tables.max_grades), spec.p)


def _rbp_binary_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    return _rbp(tables.hits, np.ones(tables.hits.rows.size), spec.p)


def _err_gdeval_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    _check_gdeval_scale(tables.judgements.collection_max_grade)
    top = np.full(tables.hits.n_rows, GDEVAL_MAX_GRADE, dtype=np.int64)
    return tables.hits.at(tables.running("err_gdeval", lambda hits: _err_terms(hits, top)), spec.k)


def _map_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    running = tables.running("map", _precision_at_hits)
    return _average_precision(tables.hits, running, tables.num_relevant, spec.k)


def _mrr_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    return _reciprocal_rank(tables.hits, spec.k)


def _recall_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    return _recall(tables.hits, tables.num_relevant, spec.k)


def _precision_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    return _precision(tables.hits, spec.k)


def _accuracy_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    return _accuracy(tables.hits, spec.k)


def _hole_values(tables: HitTables, spec: MetricSpec) -> np.ndarray:
    judged, lengths = tables.judged()
    return _hole(judged, lengths, spec.k)


#: metric family (see :mod:`~gcl_bench.metrics.names`) -> ``(tables, spec) -> per-query values``
METRIC_FAMILIES: dict[str, Callable[[HitTables, MetricSpec], np.ndarray]] = {
    "ndcg": _ndcg_values,
    "err": _err_values,
    "err_chapelle": _err_chapelle_values,
    "rbp": _rbp_values,
    "rbp_binary": _rbp_binary_values,
    "map": _map_values,
    "mrr": _mrr_values,
    "recall": _recall_values,
    "precision": _precision_values,
    "accuracy": _accuracy_values,
    "hole": _hole_values,
    "err_gdeval": _err_gdeval_values,
}
