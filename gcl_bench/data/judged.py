"""The judged queries of one split: from a judgement file, or sampled from the split's rows.

- :func:`judge_from_gt`: the keys of a gt file resolved to query texts, first against the
  queries file, then (only when some key is still unresolved) against the rows' query texts
  and ``query_id`` column.
- :func:`judge_sampled`: judgements drawn from the rows as the GCL reference evaluation does
  (:mod:`~gcl_bench.data.sampled`), with notes saying so; under the reference protocol with
  product ids read as the reference's pandas reads them (:mod:`~gcl_bench.data.pandas_ids`).
- :func:`judge_beir`: a BEIR qrels file, its query ids looked up in ``queries.jsonl``.

Keys repeated with the same value in a judgement or queries file are counted once and kept in
``Judged.repeats`` (shown at the end of a run and written into results.json). Rows whose query
is null, empty or a text pandas reads as missing belong to no query (as in the reference), and
their count is a note.

May import: :mod:`~gcl_bench.data.beir`, :mod:`~gcl_bench.data.judgements`, :mod:`~gcl_bench.data.sampled`,
:mod:`~gcl_bench.data.pandas_ids`, :mod:`~gcl_bench.data.repeats`, :mod:`~gcl_bench.data.tables`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from gcl_bench.data import beir as beir_format
from gcl_bench.data.judgements import (
    KIND_QUERY_ID,
    QueryLookup,
    read_gt,
    read_queries_file,
    resolve_keys,
    unresolved_error,
)
from gcl_bench.data.pandas_ids import reference_id_strings
from gcl_bench.data.repeats import RepeatedKeys
from gcl_bench.data.sampled import PANDAS_NA_STRINGS, sample_judgements
from gcl_bench.data.tables import check_ids, csv_header, to_float
from gcl_bench.errors import GclBenchError

UNWEIGHTED = "none"
"""The weight column that means: no weights, every sampled judgement has grade 1."""


@dataclass
class Judged:
    """Judged queries (``query_ids[j]`` is the judgement key of ``query_texts[j]``) and their qrels.

    ``meta`` goes into the split's ``meta`` (sampled or not, the judgement file), ``kinds``
    counts how gt keys were resolved, ``notes`` are remarks for the load report, ``repeats``
    the keys its files repeat with the same value.
    """

    query_ids: list[str]
    query_texts: list[str]
    qrels: dict[str, dict[str, int]]
    meta: dict[str, Any]
    kinds: dict[str, int]
    notes: list[str]
    repeats: list[RepeatedKeys] = field(default_factory=list)


def judge_from_gt(
    gt_path: Path,
    queries_file: Path | None,
    rows: Callable[[], pa.Table] | None,
    rows_path: Path | None,
) -> Judged:
    """Judgements of ``gt_path``, keys resolved against ``queries_file`` and, when needed, the
    ``query`` / ``query_id`` columns of ``rows()`` (read from ``rows_path``)."""
    repeats: list[RepeatedKeys] = []
    qrels = read_gt(gt_path, repeats)
    keys = list(qrels)
    lookup = QueryLookup()
    sources: list[Path] = []
    if queries_file is not None:
        texts, ids = read_queries_file(queries_file, repeats)
        lookup.add(texts, ids)
        sources.append(queries_file)
    resolved, kinds = resolve_keys(keys, lookup)
    if None in resolved and rows is not None and rows_path is not None:
        table = rows()
        sources.append(rows_path)
        lookup.add(pc.drop_null(pc.unique(table["query"])).to_pylist(), [])
        if "query_id" in table.column_names:
            pairs = table.select(["query_id", "query"]).drop_null().group_by(["query_id", "query"]).aggregate([])
            lookup.add([], zip(pairs["query_id"].to_pylist(), pairs["query"].to_pylist()))
        resolved, kinds = resolve_keys(keys, lookup)
    if None in resolved:
        raise unresolved_error(keys, resolved, gt_path, sources, lookup)
    meta = {"sampled": False, "judgements": str(gt_path)}
    return Judged(keys, [t for t in resolved if t is not None], qrels, meta, kinds, [], repeats)


#: The reference evaluation scripts whose sampling :func:`judge_sampled` reproduces, by draw.
REFERENCE_SCRIPTS = {True: "evals/eval_gs_v1.py", False: "evals/eval_hf_datasets_v1.py"}


def judge_sampled(
    rows: pa.Table, path: Path, weight_column: str, top_q: int, top_k: int, weighted_draw: bool = True,
    reference_ids: bool = False,
) -> Judged:
    """Judgements sampled from ``rows`` (``query``, ``product_id`` and ``weight_column``):
    queries drawn weighted by their summed grades as the reference evaluation of the released
    CSVs does, or uniformly (``weighted_draw=False``) as its evaluation of Hugging Face datasets does.

    ``weight_column`` :data:`UNWEIGHTED` gives every judgement grade 1, as the reference does
    without a weight key; a column the rows lack is an error (the reference would fall back to
    grade 1 without a word); a constant one gives grade 1 everywhere, as a note says.

    ``reference_ids`` (``rows`` read from the CSV ``path``): product ids as the reference's
    ``pandas.read_csv`` makes them, leading zeros lost where the column is read as integers."""
    scores = None
    if weight_column != UNWEIGHTED:
        if weight_column not in rows.column_names:
            raise GclBenchError(
                f"no column {weight_column!r} to grade the sampled judgements by (--weight-column; "
                f"columns: {', '.join(rows.column_names)}; '{UNWEIGHTED}' for grade 1 everywhere)",
                path,
            )
        scores = to_float(rows[weight_column], path, weight_column).to_numpy()
    check_ids(rows["product_id"], path)
    doc_ids, rewritten = rows["product_id"], None
    if reference_ids:
        doc_ids = reference_id_strings(doc_ids, len(csv_header(path)), path, "product_id")
        rewritten = pc.not_equal(doc_ids, rows["product_id"].combine_chunks()).to_numpy(zero_copy_only=False)
    result = sample_judgements(rows["query"], doc_ids, scores, weight_column, top_q=top_q, top_k=top_k,
                               weighted_draw=weighted_draw, rewritten=rewritten)
    if not result.query_keys:
        raise GclBenchError("no queries to sample judgements from (the file has no rows with a query)", path)
    notes = [
        f"no judgement file: {len(result.query_keys)} queries ({result.info['query_draw']} draw) and their "
        f"grades sampled from {path.name} as the GCL reference evaluation {REFERENCE_SCRIPTS[weighted_draw]} "
        f"does (seed {result.info['seed']}), at most {top_k} judgements per query"
    ]
    if result.info["weight_column"] is None:
        why = "no weight column" if scores is None else f"column {weight_column!r} is constant"
        notes.append(f"{why}: every judgement has grade 1")
    no_query = _rows_without_query(rows["query"])
    if no_query:
        notes.append(f"{no_query} rows of {path.name} have no query text (empty, null or read as missing) and belong to no query")
    if reference_ids:
        judged_pairs = sum(map(len, result.qrels.values()))
        notes.append(f"reference protocol: product ids read as the reference's pandas reads them; "
                     f"{result.info['ids_rewritten']} of {judged_pairs} judged pairs have an id it rewrote "
                     "(e.g. leading zeros lost)")
    meta = dict(result.info, judgements=str(path), sampled_as=REFERENCE_SCRIPTS[weighted_draw])
    if reference_ids:
        meta["product_ids"] = "as pandas.read_csv reads them (reference protocol)"
    return Judged(result.query_keys, result.query_texts, result.qrels, meta, {}, notes)


def _rows_without_query(queries: pa.ChunkedArray | pa.Array) -> int:
    """Rows whose query is null or a text pandas reads as missing (they belong to no query)."""
    missing = pc.or_(pc.is_null(queries), pc.fill_null(pc.is_in(queries, value_set=pa.array(PANDAS_NA_STRINGS)), False))
    return pc.sum(missing).as_py() or 0


def judge_beir(qrels_path: Path, queries_path: Path) -> Judged:
    """The judgements of a BEIR qrels file; every query id must be in ``queries_path``."""
    repeats: list[RepeatedKeys] = []
    qrels = beir_format.read_qrels(qrels_path, repeats)
    queries = beir_format.read_queries(queries_path)
    keys = list(qrels)
    texts = [queries.get(k) for k in keys]
    if None in texts:
        lookup = QueryLookup(ids=dict(queries))
        raise unresolved_error(keys, texts, qrels_path, [queries_path], lookup)
    meta = {"sampled": False, "judgements": str(qrels_path)}
    return Judged(keys, texts, qrels, meta, {KIND_QUERY_ID: len(keys)}, [], repeats)
