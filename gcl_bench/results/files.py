"""The output set of one evaluation: its file names, the results schema version, its folder.

``gcl-bench run`` writes, into one folder, as one unit (:func:`gcl_bench.results.write_outputs`):

- ``results.json`` (:data:`RESULTS_NAME`): means, counts, model, dataset, settings, timings...;
  its ``schema_version`` is :data:`SCHEMA_VERSION`, and readers refuse any other; its ``files``
  records the size and SHA-256 of the set's other files (:mod:`gcl_bench.results.sets`);
- ``run.json`` (:data:`RUN_NAME`): the retrieved lists ``{query_key: {doc_id: score}}``;
- ``per_query.csv`` (:data:`PER_QUERY_NAME`): ``query_id`` then one column per metric;
- with ``--trec``: ``run.trec`` (:data:`TREC_RUN_NAME`) and ``qrels.trec`` (:data:`TREC_QRELS_NAME`,
  the judgements the run was scored on), with whitespace-free query ids (``q001``...), so
  ``trec_eval qrels.trec run.trec`` works; beside each, its query-id map back to the judgement
  keys, ``<file>.qids.json`` (:data:`TREC_QIDS_NAME`, :data:`TREC_QRELS_QIDS_NAME`; see
  :func:`trec_qids_path`).

May import: gcl_bench.data (the Split type only).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from gcl_bench.data import Split

SCHEMA_VERSION = 1
"""Version of the results.json layout; bump it when a reader could misread an older file."""

RESULTS_NAME = "results.json"
RUN_NAME = "run.json"
PER_QUERY_NAME = "per_query.csv"
TREC_RUN_NAME = "run.trec"
TREC_QRELS_NAME = "qrels.trec"
_TREC_QIDS_SUFFIX = ".qids.json"
TREC_QIDS_NAME = TREC_RUN_NAME + _TREC_QIDS_SUFFIX
TREC_QRELS_QIDS_NAME = TREC_QRELS_NAME + _TREC_QIDS_SUFFIX

MEMBER_NAMES: tuple[str, ...] = (
    RUN_NAME, PER_QUERY_NAME, TREC_RUN_NAME, TREC_QIDS_NAME, TREC_QRELS_NAME, TREC_QRELS_QIDS_NAME,
)
"""The files of a set besides results.json (the files results.json's ``files`` section records)."""
SET_NAMES: tuple[str, ...] = (*MEMBER_NAMES, RESULTS_NAME)
"""Every file name an output set may hold."""


def trec_qids_path(run_path: str | Path) -> Path:
    """The map from whitespace-free TREC query ids back to judgement keys: ``<file>.qids.json``
    beside a TREC run or qrels file."""
    run_path = Path(run_path)
    return run_path.with_name(run_path.name + _TREC_QIDS_SUFFIX)


def default_output_dir(split: Split, model_name: str) -> Path:
    """``results/<dataset>/<split>/<model>/`` with path-safe names ("sample" for the bundled one)."""
    if split.meta.get("bundled_sample"):
        return Path("results") / "sample" / split.name / _path_safe(model_name)
    dataset = str(split.meta.get("subset") or split.meta.get("name") or Path(str(split.meta.get("path", "dataset"))).name)
    return Path("results") / _path_safe(dataset) / split.name / _path_safe(model_name)


def _path_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "-", name).strip("-") or "unnamed"
