"""Writing the output set of one evaluation: the run in BEIR and TREC form, per-query values,
and all files of a run folder as one unit (through :mod:`gcl_bench.results.sets`).

Ranked lists come in as the runner's arrays: best-first ``scores`` (Q, K) and row ``indices``
(Q, K) into ``doc_ids`` (-1 = no document), one row per entry of ``query_ids``.

May import: gcl_bench.io, gcl_bench.results.files, gcl_bench.results.sets.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench.results.files import (
    PER_QUERY_NAME,
    RUN_NAME,
    TREC_QIDS_NAME,
    TREC_RUN_NAME,
)


def run_to_dict(
    query_ids: Sequence[str], doc_ids: Sequence[str], scores: np.ndarray, indices: np.ndarray
) -> dict[str, dict[str, float]]:
    """BEIR's results format ``{query_key: {doc_id: score}}``, scores exactly as searched."""
    run: dict[str, dict[str, float]] = {}
    for qid, row_scores, row_indices in zip(query_ids, scores.tolist(), indices.tolist(), strict=False):
        run[qid] = {doc_ids[i]: s for s, i in zip(row_scores, row_indices, strict=False) if i >= 0}
    return run


def trec_run(
    query_ids: Sequence[str], doc_ids: Sequence[str], scores: np.ndarray, indices: np.ndarray, tag: str
) -> tuple[str, dict[str, str]]:
    """A TREC run file (``qid Q0 docno rank score tag``) with whitespace-free query ids, and their map."""
    lines = []
    qid_map: dict[str, str] = {}
    width = len(str(len(query_ids)))
    safe_tag = re.sub(r"\s+", "_", tag) or "gcl_bench"
    for q, (qid, row_scores, row_indices) in enumerate(
        zip(query_ids, scores.tolist(), indices.tolist(), strict=False)
    ):
        trec_qid = f"q{q:0{width}d}"
        qid_map[trec_qid] = qid
        rank = 0
        for score, index in zip(row_scores, row_indices, strict=False):
            if index < 0:
                continue
            rank += 1
            lines.append(f"{trec_qid} Q0 {doc_ids[index]} {rank} {score!r} {safe_tag}")
    return "\n".join(lines) + ("\n" if lines else ""), qid_map


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
    run: dict[str, dict[str, float]],
    per_query: str,
    trec: tuple[str, dict[str, str]] | None = None,
) -> dict[str, Path]:
    """Write results.json, run.json, per_query.csv (and run.trec + its query-id map) as one set.

    :func:`gcl_bench.results.sets.write_set` does the writing: every file complete or none,
    results.json (which records the others' checksums) renamed into place last, files of an
    earlier set that this one lacks removed. ``per_query`` is the text of :func:`per_query_csv`,
    ``trec`` what :func:`trec_run` returns.
    """
    from gcl_bench.io import dumps_json
    from gcl_bench.results.sets import write_set

    members: dict[str, bytes] = {
        RUN_NAME: dumps_json(run, indent=False),
        PER_QUERY_NAME: per_query.encode("utf-8"),
    }
    if trec is not None:
        members[TREC_RUN_NAME] = trec[0].encode("utf-8")
        members[TREC_QIDS_NAME] = dumps_json(trec[1])
    return write_set(Path(output_dir), results, members)
