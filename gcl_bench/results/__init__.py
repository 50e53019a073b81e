"""The output set of one evaluation: what ``gcl-bench run`` writes and what reads it back.

- :mod:`~gcl_bench.results.files`: the file names, :data:`SCHEMA_VERSION`, the default folder;
- :mod:`~gcl_bench.results.write`: the run in BEIR (:func:`run_to_dict`) and TREC
  (:func:`trec_run`) form, the judgements as TREC qrels (:func:`trec_qrels`, with the ids of
  :func:`trec_query_ids`), per-query values as CSV (:func:`per_query_csv`) or in trec_eval's
  ``-q`` layout (:func:`per_query_trec`), and :func:`write_outputs` (all files as one unit);
- :mod:`~gcl_bench.results.sets`: the set as one unit: written together with results.json as its
  manifest (:func:`~gcl_bench.results.sets.write_set`), files checked against it when read
  (:func:`check_member`), earlier sets in an output folder removed (:func:`remove_other_sets`);
- :mod:`~gcl_bench.results.read`: :func:`read_results` (results.json, schema checked) and
  :func:`read_per_query` (per_query.csv);
- :mod:`~gcl_bench.results.runs`: judgement (:func:`read_qrels`) and run (:func:`read_run`) files
  in JSON, TREC and BEIR form, as ``gcl-bench evaluate`` takes them; :func:`missing_qid_map`.
- :mod:`~gcl_bench.results.run_lists`: :func:`~gcl_bench.results.run_lists.read_run_lists`, the
  same run files read straight into the metrics layer's list form (what ``evaluate`` scores).

May import: gcl_bench.io, gcl_bench.errors, gcl_bench.data (split names, judgement readers).
Imported by: the runner, the leaderboard, ``gcl-bench evaluate``.
"""
from __future__ import annotations

from gcl_bench.results.files import (
    PER_QUERY_NAME,
    RESULTS_NAME,
    RUN_NAME,
    SCHEMA_VERSION,
    TREC_QIDS_NAME,
    TREC_QRELS_NAME,
    TREC_QRELS_QIDS_NAME,
    TREC_RUN_NAME,
    default_output_dir,
    trec_qids_path,
)
from gcl_bench.results.read import PerQueryTable, ResultsFile, read_per_query, read_results
from gcl_bench.results.runs import missing_qid_map, read_qrels, read_run
from gcl_bench.results.sets import check_member, remove_other_sets
from gcl_bench.results.write import (
    per_query_csv,
    per_query_trec,
    run_json,
    run_to_dict,
    trec_qrels,
    trec_query_ids,
    trec_run,
    write_outputs,
)

__all__ = [
    "PER_QUERY_NAME",
    "RESULTS_NAME",
    "RUN_NAME",
    "SCHEMA_VERSION",
    "TREC_QIDS_NAME",
    "TREC_QRELS_NAME",
    "TREC_QRELS_QIDS_NAME",
    "TREC_RUN_NAME",
    "PerQueryTable",
    "ResultsFile",
    "check_member",
    "default_output_dir",
    "missing_qid_map",
    "per_query_csv",
    "per_query_trec",
    "read_per_query",
    "read_qrels",
    "read_results",
    "read_run",
    "remove_other_sets",
    "run_json",
    "run_to_dict",
    "trec_qids_path",
    "trec_qrels",
    "trec_query_ids",
    "trec_run",
    "write_outputs",
]
