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

Any of them may be gzip-compressed (whatever its name) and start with a UTF-8 byte order mark.
Scores are finite numbers (JSON ``true`` is not a score). A query or (query, document) pair that
occurs twice follows :mod:`gcl_bench.data.repeats`: the same value is counted once and reported
into the ``repeats`` list a caller passes (None: refused), another value is an error.

May import: gcl_bench.io, gcl_bench.inputs, gcl_bench.errors, gcl_bench.data (beir, judgements,
repeats), gcl_bench.results.files, gcl_bench.results.sets.
"""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

from gcl_bench import inputs
from gcl_bench.data.beir import QRELS_HEADER_FIELDS, add_judgement, qrels_rows, read_grade
from gcl_bench.data.beir import read_qrels as read_beir_qrels
from gcl_bench.data.judgements import read_gt
from gcl_bench.data.repeats import (
    RepeatCounter,
    RepeatedKeys,
    check_json_repeats,
    read_json_checked,
)
from gcl_bench.errors import GclBenchError
from gcl_bench.io import read_json
from gcl_bench.results.files import trec_qids_path
from gcl_bench.results.sets import check_member


def _input_file(path: str | os.PathLike[str], what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise GclBenchError(f"{what} not found", path)
    if not path.is_file():
        raise GclBenchError(f"{what} is a folder (or another non-file), expected a file", path)
    return path


def _is_json(path: Path) -> bool:
    with inputs.open_input(path) as handle:
        head = handle.read(64).lstrip()
    return head[:1] in (b"{", b"[")


def read_qrels(path: str | os.PathLike[str], repeats: list[RepeatedKeys] | None = None) -> dict[str, dict[str, int]]:
    """Read judgements from JSON, TREC qrels or BEIR TSV; grades must be integers from 0 to 2^63 - 1."""
    path = _input_file(path, "judgement file")
    check_member(path)
    if _is_json(path):
        return read_gt(path, repeats)
    if _first_line_fields(path) == 4:
        return _map_query_ids(_read_trec_qrels(path, repeats), path)
    return read_beir_qrels(path, repeats)


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
        first = next(qrels_rows(inputs.text_lines(path)), None)
    except csv.Error as err:
        raise GclBenchError(f"malformed judgement file ({err})", path) from None
    return 0 if first is None else len(first[1])


def _read_trec_qrels(path: Path, repeats: list[RepeatedKeys] | None) -> dict[str, dict[str, int]]:
    """``qid iter docno grade`` per line, white-space separated; a header line is skipped."""
    qrels: dict[str, dict[str, int]] = {}
    seen = RepeatCounter(path, "(query, document) pair", repeats)
    for number, line in enumerate(inputs.text_lines(path), start=1):
        parts = line.split()
        if not parts or (number == 1 and parts[0].lower() in QRELS_HEADER_FIELDS):
            continue
        if len(parts) != 4:
            raise GclBenchError(f"line {number}: expected 'qid iter docno grade', got {line.strip()!r}", path)
        qid, _, doc, grade = parts
        add_judgement(qrels, qid, doc, read_grade(grade, qid, doc, path, number), number, seen)
    if not qrels:
        raise GclBenchError("no judgements found", path)
    seen.close()
    return qrels


def _score(value: Any) -> float | None:
    """A JSON score as a float, or None when it is not a finite number (``true`` is not one)."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is int:
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def read_run(
    path: str | os.PathLike[str], repeats: list[RepeatedKeys] | None = None, by_rank: bool = False,
) -> dict[str, dict[str, float]]:
    """Read a run from BEIR JSON or TREC format (mapping TREC query ids back when a map exists).

    Each query's documents keep the file's order (a JSON object's order, a TREC file's lines);
    ``by_rank``: a TREC query's documents in the order of their rank column instead (the order
    tied documents keep under the reference protocol; equal ranks keep the file's order)."""
    path = _input_file(path, "run file")
    check_member(path)
    if _is_json(path):
        return _read_json_run(path, repeats)
    return _map_query_ids(_read_trec_run(path, repeats, by_rank), path)


def _read_json_run(path: Path, repeats: list[RepeatedKeys] | None) -> dict[str, dict[str, float]]:
    data, repeated = read_json_checked(path)
    if not isinstance(data, dict):
        raise GclBenchError("expected a JSON object {query: {doc_id: score}}", path)
    run: dict[str, dict[str, float]] = {}
    for qid, docs in data.items():
        if not isinstance(docs, dict):
            raise GclBenchError(f"results of query {qid!r} are not an object", path)
        scores = {doc: _score(value) for doc, value in docs.items()}
        if None in scores.values():
            doc = next(d for d, v in scores.items() if v is None)
            raise GclBenchError(f"score {docs[doc]!r} of document {doc!r} for query {qid!r} is not a finite number", path)
        run[qid] = scores  # type: ignore[assignment]
    check_json_repeats(path, repeated, "query", "document", repeats)
    return run


def _read_trec_run(path: Path, repeats: list[RepeatedKeys] | None, by_rank: bool = False) -> dict[str, dict[str, float]]:
    """``qid Q0 docno rank score tag`` per line, white-space separated."""
    run: dict[str, dict[str, float]] = {}
    ranks: dict[str, dict[str, int]] = {}
    seen = RepeatCounter(path, "(query, document) pair", repeats)
    for number, line in enumerate(inputs.text_lines(path), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise GclBenchError(f"line {number}: expected 'qid Q0 docno rank score tag', got {line.strip()!r}", path)
        qid, _, doc, rank, text, _ = parts
        try:
            score = float(text)
        except ValueError:
            raise GclBenchError(f"line {number}: score {text!r} is not a number", path) from None
        if not math.isfinite(score):
            raise GclBenchError(f"line {number}: score {text!r} is not a finite number", path)
        docs = run.setdefault(qid, {})
        if doc in docs:
            seen.seen_again(f"({qid!r}, {doc!r})", docs[doc], score, where=f"line {number}: ")
        docs[doc] = score
        if by_rank:
            ranks.setdefault(qid, {})[doc] = _read_rank(rank, number, path)
    seen.close()
    if by_rank:
        run = {qid: dict(sorted(docs.items(), key=lambda item, of=ranks[qid]: of[item[0]])) for qid, docs in run.items()}
    return run


def _read_rank(rank: str, number: int, path: Path) -> int:
    try:
        return int(rank)
    except ValueError:
        raise GclBenchError(f"line {number}: rank {rank!r} is not an integer (tied documents keep the "
                            "order of the rank column)", path) from None
