"""What loading one split of one folder layout takes: its input files, its corpus, its judgements.

:func:`plan_split` checks that the split's files are there (an error names the missing one)
and returns a :class:`Plan`; nothing is parsed until the plan's corpus is loaded or its
``judge`` is called, so :func:`~gcl_bench.data.load.load_split` can skip both on a cache hit
and run them side by side on a miss.

May import: :mod:`~gcl_bench.data.corpus_cache`, :mod:`~gcl_bench.data.judged`,
:mod:`~gcl_bench.data.files`, :mod:`~gcl_bench.data.layout`, :mod:`~gcl_bench.data.hf`,
:mod:`~gcl_bench.data.tables`, :mod:`gcl_bench.errors`, :mod:`gcl_bench.protocol`.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from gcl_bench.data import hf as hf_format
from gcl_bench.data.corpus_cache import CorpusSource, beir_corpus, hf_corpus, marqo_corpus
from gcl_bench.data.files import BeirFiles, MarqoFiles, hf_gt_candidates
from gcl_bench.data.judged import Judged, judge_beir, judge_from_gt, judge_sampled
from gcl_bench.data.layout import HF_PARQUET, MARQO, Layout, parquet_files
from gcl_bench.data.tables import read_csv_strings
from gcl_bench.errors import GclBenchError
from gcl_bench.protocol import DEFAULT, REFERENCE


@dataclass
class Plan:
    """Inputs of one split of one layout, and how to load its parts.

    ``inputs`` are the files the split's fingerprint is taken over; ``files`` names them for
    ``meta``; ``reads_rows``: ``judge`` reads the whole split CSV (sampled judgements); ``meta``:
    what the layout adds to the split's ``meta`` (how its corpus and judgements are defined).
    """

    inputs: list[Path]
    corpus: CorpusSource
    judge: Callable[[], Judged]
    files: dict[str, Any]
    reads_rows: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


#: How the Hugging Face export's corpus and judgements are defined (``meta`` of its splits).
HF_EXPORT_CORPUS = ("the distinct products of the split's rows (first row of each product): the Hugging Face "
                    "export is one table of (query, product) rows with no corpus file")
HF_EXPORT_JUDGEMENTS = ("sampled from the split's rows as evals/eval_hf_datasets_v1.py does (queries drawn "
                        "uniformly), unless a judgement file lies beside the parquet files")


def is_input_file(path: Path) -> bool:
    """Whether ``path`` is a file; False when nothing is there; a folder or other non-file is an error
    (taking it for "absent" would silently pick another input, e.g. sampled judgements)."""
    if not path.exists():
        return False
    if not path.is_file():
        raise GclBenchError("is a folder (or another non-file), expected a file", path)
    return True


def marqo_plan(folder: Path, split: str, eval_set: str, weight_column: str, top_q: int, top_k: int,
               reference_ids: bool = False) -> Plan:
    """``reference_ids``: judgements sampled from the CSV read its product ids as the reference
    evaluation's pandas does (the reference protocol)."""
    files = MarqoFiles(folder, split)
    corpus_path, csv_path, gt_path, queries_path = files.corpus, files.csv, files.gt(eval_set), files.queries
    if not is_input_file(corpus_path):
        raise GclBenchError(f"no {corpus_path.name} (the corpus of split {split})", folder)
    has_gt, has_csv, has_queries = is_input_file(gt_path), is_input_file(csv_path), is_input_file(queries_path)
    if not has_gt and not has_csv:
        raise GclBenchError(f"no {csv_path.name} and no {gt_path.name}: the files of split {split} are missing", folder)
    inputs = [corpus_path] + [p for p, ok in ((gt_path, has_gt), (csv_path, has_csv), (queries_path, has_queries)) if ok]

    def judge() -> Judged:
        if has_gt:
            def rows() -> pa.Table:
                return read_csv_strings(csv_path, ["query", "query_id"], required=("query",))
            return judge_from_gt(gt_path, queries_path if has_queries else None, rows if has_csv else None, csv_path)
        table = read_csv_strings(csv_path, ["query", "product_id", weight_column], required=("query", "product_id"))
        return judge_sampled(table, csv_path, weight_column, top_q, top_k, reference_ids=reference_ids)

    names = {"corpus": str(corpus_path), "csv": str(csv_path) if has_csv else None,
             "judgements": str(gt_path) if has_gt else None, "queries": str(queries_path) if has_queries else None}
    return Plan(inputs, marqo_corpus(files), judge, names, reads_rows=not has_gt)


def hf_plan(folder: Path, split: str, eval_set: str, weight_column: str, top_q: int, top_k: int) -> Plan:
    found = parquet_files(folder)
    files = found.get(split)
    if not files:
        have = ", ".join(sorted(found)) or "none"
        raise GclBenchError(f"no parquet files for split {split} (splits found: {have})", folder)
    gt_path = next((p for p in hf_gt_candidates(folder, split, eval_set) if is_input_file(p)), None)
    cached_rows: list[pa.Table] = []
    lock = threading.Lock()

    def rows() -> pa.Table:  # shared by the corpus and the judgements, read once
        with lock:
            if not cached_rows:
                cached_rows.append(hf_format.read_rows(files))
            return cached_rows[0]

    def judge() -> Judged:
        if gt_path is not None:
            return judge_from_gt(gt_path, None, rows, files[0])
        return judge_sampled(rows(), files[0], weight_column, top_q, top_k, weighted_draw=False)

    inputs = list(files) + ([gt_path] if gt_path else [])
    names = {"parquet": [str(p) for p in files], "judgements": str(gt_path) if gt_path else None}
    meta = {"corpus_definition": HF_EXPORT_CORPUS, "judgements_definition": HF_EXPORT_JUDGEMENTS}
    return Plan(inputs, hf_corpus(folder, files, rows), judge, names, meta=meta)


def beir_plan(folder: Path, eval_set: str) -> Plan:
    files = BeirFiles(folder)
    corpus_path, queries_path, qrels_path = files.corpus, files.queries, files.qrels(eval_set)
    if not is_input_file(qrels_path):
        raise GclBenchError(f"no {qrels_path.relative_to(folder).as_posix()} in this BEIR folder", folder)
    names = {"corpus": str(corpus_path), "queries": str(queries_path), "judgements": str(qrels_path)}
    inputs = [corpus_path, queries_path, qrels_path]
    return Plan(inputs, beir_corpus(files), lambda: judge_beir(qrels_path, queries_path), names)


def plan_split(layout: Layout, split: str, eval_set: str, weight_column: str, top_q: int, top_k: int,
               protocol: str = DEFAULT) -> Plan:
    """The :class:`Plan` of ``split`` in the folder ``layout`` describes. The reference protocol
    changes only judgements sampled from a release CSV (their product ids); the export's typed
    parquet columns are read alike by both."""
    if layout.kind == MARQO:
        return marqo_plan(layout.folder, split, eval_set, weight_column, top_q, top_k, protocol == REFERENCE)
    if layout.kind == HF_PARQUET:
        return hf_plan(layout.folder, split, eval_set, weight_column, top_q, top_k)
    return beir_plan(layout.folder, eval_set)
