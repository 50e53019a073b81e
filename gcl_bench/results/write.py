"""Writing the output set of one evaluation: the run in BEIR and TREC form, the judgements as
TREC qrels, per-query values (CSV, or trec_eval's ``-q`` layout), and all files of a run folder
as one unit (through :mod:`gcl_bench.results.sets`).

Ranked lists come in as the runner's arrays: best-first ``scores`` (Q, K) and row ``indices``
(Q, K) into ``doc_ids`` (-1 = no document), one row per entry of ``query_ids``. TREC files hold
white-space separated fields, so their query ids are ``q0``, ``q1``... (:func:`trec_query_ids`,
one numbering for the run and the qrels of one folder) and a document id with white space in it
is refused.

May import: gcl_bench.io, gcl_bench.errors, gcl_bench.results.files, gcl_bench.results.sets.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError
from gcl_bench.results.files import (
    PER_QUERY_NAME,
    RUN_NAME,
    TREC_QIDS_NAME,
    TREC_QRELS_NAME,
    TREC_QRELS_QIDS_NAME,
    TREC_RUN_NAME,
)

_WHITE_SPACE = re.compile(r"\s")


def run_to_dict(
    query_ids: Sequence[str], doc_ids: Sequence[str], scores: np.ndarray, indices: np.ndarray
) -> dict[str, dict[str, float]]:
    """BEIR's results format ``{query_key: {doc_id: score}}``, scores exactly as searched."""
    run: dict[str, dict[str, float]] = {}
    for qid, row_scores, row_indices in zip(query_ids, scores.tolist(), indices.tolist(), strict=False):
        run[qid] = {doc_ids[i]: s for s, i in zip(row_scores, row_indices, strict=False) if i >= 0}
    return run


def run_json(query_ids: Sequence[str], doc_ids: Sequence[str], scores: np.ndarray, indices: np.ndarray) -> bytes:
    """run.json's bytes: :func:`run_to_dict` serialised one query at a time, so the same bytes
    come without every entry held as Python objects at once (2M of them for 2,000 queries at top-1000).
    A corpus column (:meth:`~gcl_bench.data.columns.StrColumn.values_at`) gives each query's ids alone."""
    from gcl_bench.io import dumps_json

    if len(set(query_ids)) != len(query_ids):  # a repeated key: the dict keeps the last list
        return dumps_json(run_to_dict(query_ids, doc_ids, scores, indices), indent=False)
    values_at = getattr(doc_ids, "values_at", None)  # a corpus column: each query's ids alone
    pieces = []
    for qid, row_scores, row_indices in zip(query_ids, scores, indices, strict=False):
        keep = row_indices >= 0
        rows = row_indices[keep]
        ids = values_at(rows) if values_at is not None else [doc_ids[i] for i in rows.tolist()]
        pieces.append(dumps_json({qid: dict(zip(ids, row_scores[keep].tolist(), strict=True))}, indent=False)[1:-1])
    return b"{" + b",".join(pieces) + b"}"


def trec_query_ids(keys: Sequence[str]) -> dict[str, str]:
    """Whitespace-free TREC query ids ``q0``, ``q1``... (zero-padded) for judgement keys, in order."""
    unique = list(dict.fromkeys(keys))
    width = len(str(len(unique)))
    return {key: f"q{number:0{width}d}" for number, key in enumerate(unique)}


def _trec_doc_id(doc_id: str) -> str:
    if not doc_id or _WHITE_SPACE.search(doc_id):
        raise GclBenchError(f"document id {doc_id!r} is empty or holds white space, which a TREC file cannot hold")
    return doc_id


def trec_run(
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    scores: np.ndarray,
    indices: np.ndarray,
    tag: str,
    trec_ids: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """A TREC run file (``qid Q0 docno rank score tag``) and its map ``{trec qid: query key}``.

    ``trec_ids`` (query key -> TREC id, from :func:`trec_query_ids`) numbers the queries; by
    default they are numbered in the order of ``query_ids``.
    """
    trec_ids = trec_query_ids(query_ids) if trec_ids is None else trec_ids
    lines = []
    qid_map: dict[str, str] = {}
    safe_tag = re.sub(r"\s+", "_", tag) or "gcl_bench"
    for qid, row_scores, row_indices in zip(query_ids, scores.tolist(), indices.tolist(), strict=False):
        trec_qid = trec_ids[qid]
        qid_map[trec_qid] = qid
        rank = 0
        for score, index in zip(row_scores, row_indices, strict=False):
            if index < 0:
                continue
            rank += 1
            lines.append(f"{trec_qid} Q0 {_trec_doc_id(doc_ids[index])} {rank} {score!r} {safe_tag}")
    return "\n".join(lines) + ("\n" if lines else ""), qid_map


def trec_qrels(qrels: Mapping[str, Mapping[str, int]], trec_ids: Mapping[str, str]) -> str:
    """TREC qrels (``qid 0 docno grade``) of judgements ``{query key: {doc_id: grade}}``, every
    grade kept (0 = judged non-relevant), queries named by ``trec_ids`` (query key -> TREC id)."""
    lines = []
    for key, docs in qrels.items():
        trec_qid = trec_ids[key]
        lines.extend(f"{trec_qid} 0 {_trec_doc_id(doc)} {int(grade)}" for doc, grade in docs.items())
    return "\n".join(lines) + ("\n" if lines else "")


def per_query_trec(
    query_ids: Sequence[str], per_query: dict[str, np.ndarray], means: Mapping[str, float], metrics: Sequence[str]
) -> str:
    """trec_eval ``-q`` layout: ``metric<TAB>query<TAB>value`` per query and metric, query by query,
    then ``metric<TAB>all<TAB>mean`` per metric; values at full precision."""
    for qid in query_ids:
        if "\t" in qid or "\n" in qid or "\r" in qid:
            raise GclBenchError(f"query id {qid!r} holds a tab or a line break; write the per-query values as CSV")
    lines = [f"{name}\t{qid}\t{float(per_query[name][row])!r}"
             for row, qid in enumerate(query_ids) for name in metrics]
    lines += [f"{name}\tall\t{float(means[name])!r}" for name in metrics]
    return "\n".join(lines) + "\n"


def per_query_csv(query_ids: Sequence[str], per_query: dict[str, np.ndarray], metrics: Sequence[str]) -> str:
    """``query_id,<metric>...`` with one row per scored query, values at full precision."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["query_id", *metrics])
    columns = [per_query[name] for name in metrics]
    for row, qid in enumerate(query_ids):
        writer.writerow([qid, *(repr(float(column[row])) for column in columns)])
    return buffer.getvalue()


def write_outputs(
    output_dir: str | Path,
    results: dict[str, Any],
    run: dict[str, dict[str, float]] | bytes,
    per_query: str,
    trec: tuple[str, dict[str, str]] | None = None,
    trec_judgements: str | None = None,
) -> dict[str, Path]:
    """Write results.json, run.json, per_query.csv (and the TREC files) as one set.

    :func:`gcl_bench.results.sets.write_set` does the writing: every file complete or none,
    results.json (which records the others' checksums) renamed into place last, files of an
    earlier set that this one lacks removed. ``per_query`` is the text of :func:`per_query_csv`,
    ``trec`` what :func:`trec_run` returns (run.trec and its query-id map), ``trec_judgements``
    the text of :func:`trec_qrels` (qrels.trec, with the same query-id map beside it; its ids
    must be in that map). ``run`` is the run as a dict or as :func:`run_json`'s bytes.
    """
    from gcl_bench.io import dumps_json
    from gcl_bench.results.sets import write_set

    members: dict[str, bytes] = {
        RUN_NAME: run if isinstance(run, bytes) else dumps_json(run, indent=False),
        PER_QUERY_NAME: per_query.encode("utf-8"),
    }
    if trec is not None:
        members[TREC_RUN_NAME] = trec[0].encode("utf-8")
        members[TREC_QIDS_NAME] = dumps_json(trec[1])
        if trec_judgements is not None:
            members[TREC_QRELS_NAME] = trec_judgements.encode("utf-8")
            members[TREC_QRELS_QIDS_NAME] = dumps_json(trec[1])
    return write_set(Path(output_dir), results, members)
