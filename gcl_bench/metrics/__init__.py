"""Ranking metrics over arrays, with BEIR-style dicts accepted at the edge.

- :func:`evaluate` ``(qrels, run, metrics=DEFAULT_METRICS) -> {name: mean}`` for dicts;
- :class:`JudgedRun` (``from_dicts`` / ``from_lists`` / ``from_arrays``) -> :meth:`JudgedRun.compute` ->
  :class:`MetricResult` with means, per-query values and query counts;
  :class:`Judgements` (``Judgements.from_dict(qrels, doc_ids)``) prepares judgements once for
  several runs or searches; :func:`split_judgements` keeps them prepared per split;
- one module per metric family, each with array functions whose docstrings state the formula:
  :mod:`~gcl_bench.metrics.ndcg`, :mod:`~gcl_bench.metrics.err`, :mod:`~gcl_bench.metrics.rbp`,
  :mod:`~gcl_bench.metrics.classic` (map, mrr, recall, precision, accuracy),
  :mod:`~gcl_bench.metrics.hole` (BEIR's hole);
- metric names (``"ndcg@10"``, ``"err"``, ``"rbp@0.8"``...) in :mod:`~gcl_bench.metrics.names`,
  the spellings of trec_eval, ir_measures, BEIR and MTEB in :mod:`~gcl_bench.metrics.aliases`.

Ranking order, tie handling and which queries are averaged: see :mod:`gcl_bench.metrics.judged`.
"""
from __future__ import annotations

from gcl_bench.metrics.classic import (
    accuracy,
    average_precision,
    precision,
    recall,
    reciprocal_rank,
)
from gcl_bench.metrics.err import err, err_chapelle, err_gdeval
from gcl_bench.metrics.hole import hole
from gcl_bench.metrics.judged import JudgedRun, Judgements, MetricResult, RunLists, evaluate
from gcl_bench.metrics.names import (
    CURVE_CUTOFFS,
    DEFAULT_METRICS,
    MetricSpec,
    canonical_metric_names,
    parse_metric,
    parse_metrics,
)
from gcl_bench.metrics.ndcg import dcg, ndcg
from gcl_bench.metrics.per_split import split_judgements
from gcl_bench.metrics.rbp import rbp, rbp_binary

__all__ = [
    "CURVE_CUTOFFS",
    "DEFAULT_METRICS",
    "JudgedRun",
    "Judgements",
    "MetricResult",
    "MetricSpec",
    "RunLists",
    "accuracy",
    "average_precision",
    "canonical_metric_names",
    "dcg",
    "err",
    "err_chapelle",
    "err_gdeval",
    "evaluate",
    "hole",
    "ndcg",
    "parse_metric",
    "parse_metrics",
    "precision",
    "rbp",
    "rbp_binary",
    "recall",
    "reciprocal_rank",
    "split_judgements",
]
