"""Reading judgement and run files in the formats researchers pass around.

Judgements (:func:`read_qrels`): gcl_bench / Marqo-GS JSON (``{query: {doc_id: grade}}``, read
as gt files are, by :func:`gcl_bench.data.judgements.read_gt`), TREC qrels
(``qid iter docno grade``) and BEIR qrels TSV (``query-id corpus-id score``, read by the data
layer's BEIR reader :func:`gcl_bench.data.beir.read_qrels`). A text file whose first line has
four fields is TREC qrels, any other is BEIR TSV.
Runs (:func:`read_run`): BEIR JSON (``{query: {doc_id: score}}``) and TREC runs
(``qid Q0 docno rank score tag``). A TREC run or qrels file written by ``gcl-bench run --trec``
has a ``<file>.qids.json`` map beside it that turns its whitespace-free query ids back into the
judgement keys; both readers apply it when it is there, and :func:`missing_qid_map` names the
map a TREC file lacks (for the error when a run's query ids match no judgement). Every
malformed line is an error naming the file and the line; a file (or map) of an output set must
be the one its results.json records (:func:`~gcl_bench.results.sets.check_member`).

May import: gcl_bench.io, gcl_bench.errors, gcl_bench.data (beir, judgements),
gcl_bench.results.files, gcl_bench.results.sets.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

from gcl_bench.data.beir import QRELS_HEADER_FIELDS, qrels_rows, read_grade
from gcl_bench.data.beir import read_qrels as read_beir_qrels
from gcl_bench.data.judgements import read_gt
from gcl_bench.errors import GclBenchError
from gcl_bench.io import read_json
from gcl_bench.results.files import trec_qids_path
from gcl_bench.results.sets import check_member


def _is_json(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip()
    return head[:1] in (b"{", b"[")


def read_qrels(path: str | os.PathLike[str]) -> dict[str, dict[str, int]]:
    """Read judgements from JSON, TREC qrels or BEIR TSV; grades must be non-negative integers."""
    path = Path(path)
    if not path.is_file():
        raise GclBenchError("judgement file not found", path)
    check_member(path)
    if _is_json(path):
        return read_gt(path)
    if _first_line_fields(path) == 4:
        return _map_query_ids(_read_trec_qrels(path), path)
    return read_beir_qrels(path)


def missing_qid_map(path: str | os.PathLike[str]) -> Path | None:
    """The ``<file>.qids.json`` a TREC file (run or qrels) would have beside it, when it is absent;
    None for a JSON or BEIR TSV file, or when the map is there."""
    path = Path(path)
    if not path.is_file() or _is_json(path):
        return None
    fields = _first_line_fields(path)
    if fields not in (4, 6):
        return None
    map_path = trec_qids_path(path)
    return None if map_path.is_file() else map_path


def _map_query_ids(data: dict, path: Path) -> dict:
    """Apply the query-id map beside a TREC file, if there is one."""
    map_path = trec_qids_path(path)
    if not map_path.is_file():
        return data
    check_member(map_path)
    qid_map = read_json(map_path)
    if not isinstance(qid_map, dict):
        raise GclBenchError("a query-id map must be a JSON object {trec_qid: query key}", map_path)
    unknown = [qid for qid in data if qid not in qid_map]
    if unknown:
        raise GclBenchError(f"query id {unknown[0]!r} of {path.name} is not in the map", map_path)
    return {qid_map[qid]: docs for qid, docs in data.items()}


def _first_line_fields(path: Path) -> int:
    """How many fields the first non-blank line has (split as the BEIR reader splits it)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            first = next(qrels_rows(handle), None)
    except (UnicodeDecodeError, csv.Error) as err:
        raise GclBenchError(f"malformed judgement file ({err})", path) from None
    return 0 if first is None else len(first[1])


def _read_trec_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``qid iter docno grade`` per line, white-space separated; a header line is skipped."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                parts = line.split()
                if not parts or (number == 1 and parts[0].lower() in QRELS_HEADER_FIELDS):
                    continue
                if len(parts) != 4:
                    raise GclBenchError(f"line {number}: expected 'qid iter docno grade', got {line.strip()!r}", path)
                qid, _, doc, grade = parts
                qrels.setdefault(qid, {})[doc] = read_grade(grade, qid, doc, path, number)
    except UnicodeDecodeError as err:
        raise GclBenchError(f"malformed judgement file ({err})", path) from None
    if not qrels:
        raise GclBenchError("no judgements found", path)
    return qrels


def read_run(path: str | os.PathLike[str], by_rank: bool = False) -> dict[str, dict[str, float]]:
    """Read a run from BEIR JSON or TREC format (mapping TREC query ids back when a map exists).

    Each query's documents keep the file's order (a JSON object's order, a TREC file's lines);
    ``by_rank``: a TREC query's documents in the order of their rank column instead (the order
    tied documents keep under the reference protocol; equal ranks keep the file's order)."""
    path = Path(path)
    if not path.is_file():
        raise GclBenchError("run file not found", path)
    check_member(path)
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
    ranks: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise GclBenchError(f"line {number}: expected 'qid Q0 docno rank score tag', got {line.strip()!r}", path)
            qid, _, doc, rank, score, _ = parts
            try:
                run.setdefault(qid, {})[doc] = float(score)
            except ValueError:
                raise GclBenchError(f"line {number}: score {score!r} is not a number", path) from None
            if by_rank:
                ranks.setdefault(qid, {})[doc] = _read_rank(rank, number, path)
    if by_rank:
        run = {qid: dict(sorted(docs.items(), key=lambda item, of=ranks[qid]: of[item[0]])) for qid, docs in run.items()}
    return _map_query_ids(run, path)


def _read_rank(rank: str, number: int, path: Path) -> int:
    try:
        return int(rank)
    except ValueError:
        raise GclBenchError(f"line {number}: rank {rank!r} is not an integer (tied documents keep the "
                            "order of the rank column)", path) from None
