"""Reading judgement and run files in the formats researchers pass around.

Judgements: gcl_bench / Marqo-GS JSON (``{query: {doc_id: grade}}``, read as gt files are), TREC qrels
(``qid iter docno grade``) and BEIR qrels TSV (``query-id corpus-id score`` with a header).
Runs: BEIR JSON (``{query: {doc_id: score}}``) and TREC runs (``qid Q0 docno rank score tag``);
a TREC run written by ``gcl-bench run --trec`` has a ``<run>.qids.json`` map beside it that
turns its whitespace-free query ids back into the judgement keys. Every malformed line is an
error naming the file and the line.
"""
from __future__ import annotations

import os
from pathlib import Path

from gcl_bench.data.judgements import read_gt
from gcl_bench.errors import GclBenchError
from gcl_bench.io import read_json


def _is_json(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip()
    return head[:1] in (b"{", b"[")


def read_qrels(path: str | os.PathLike[str]) -> dict[str, dict[str, int]]:
    """Read judgements from JSON, TREC qrels or BEIR TSV; grades must be integers."""
    path = Path(path)
    if not path.is_file():
        raise GclBenchError("judgement file not found", path)
    if _is_json(path):
        return read_gt(path)
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.split()
            if not parts:
                continue
            if number == 1 and parts[0].lower() in ("query-id", "qid", "query_id"):
                continue  # BEIR header
            if len(parts) == 4:
                qid, _, doc, grade = parts
            elif len(parts) == 3:
                qid, doc, grade = parts
            else:
                raise GclBenchError(f"line {number}: expected 'qid iter docno grade' or 'qid docno grade', got {line.strip()!r}", path)
            qrels.setdefault(qid, {})[doc] = _grade(grade, path, qid, doc, number)
    if not qrels:
        raise GclBenchError("no judgements found", path)
    return qrels


def _grade(value: str, path: Path, qid: str, doc: str, line: int) -> int:
    """A grade read from a text line: an integer >= 0 (``2`` or ``2.0``)."""
    where = f"line {line}: "
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GclBenchError(f"{where}grade {value!r} of ({qid!r}, {doc!r}) is not a number", path) from None
    if number != int(number) or number < 0:
        raise GclBenchError(f"{where}grade {value!r} of ({qid!r}, {doc!r}) is not a non-negative integer", path)
    return int(number)


def read_run(path: str | os.PathLike[str]) -> dict[str, dict[str, float]]:
    """Read a run from BEIR JSON or TREC format (mapping TREC query ids back when a map exists)."""
    path = Path(path)
    if not path.is_file():
        raise GclBenchError("run file not found", path)
    if _is_json(path):
        data = read_json(path)
        if not isinstance(data, dict):
            raise GclBenchError("expected a JSON object {query: {doc_id: score}}", path)
        run: dict[str, dict[str, float]] = {}
        for qid, docs in data.items():
            if not isinstance(docs, dict):
                raise GclBenchError(f"results of query {qid!r} are not an object", path)
            try:
                run[str(qid)] = {str(doc): float(score) for doc, score in docs.items()}
            except (TypeError, ValueError):
                raise GclBenchError(f"a score of query {qid!r} is not a number", path) from None
        return run
    run = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise GclBenchError(f"line {number}: expected 'qid Q0 docno rank score tag', got {line.strip()!r}", path)
            qid, _, doc, _, score, _ = parts
            try:
                run.setdefault(qid, {})[doc] = float(score)
            except ValueError:
                raise GclBenchError(f"line {number}: score {score!r} is not a number", path) from None
    map_path = path.with_name(path.name + ".qids.json")
    if map_path.is_file():
        qid_map = read_json(map_path)
        unknown = [qid for qid in run if qid not in qid_map]
        if unknown:
            raise GclBenchError(f"query id {unknown[0]!r} of the run is not in the map", map_path)
        run = {qid_map[qid]: docs for qid, docs in run.items()}
    return run
