"""BEIR-format folders: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/{dev,test}.tsv``.

:func:`read_qrels` is the one parser of BEIR qrels TSV (``gcl-bench evaluate`` reads them through
it too); :func:`read_grade` reads a grade written as text, for every text judgement format.

May import: gcl_bench.errors.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import orjson

from gcl_bench.errors import GclBenchError


def iter_records(path: Path, what: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a BEIR JSONL file; each needs an ``_id``.

    ``what`` names the file in the not-found error ("queries file", "corpus file").
    """
    try:
        with open(path, "rb") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = orjson.loads(line)
                except orjson.JSONDecodeError as err:
                    raise GclBenchError(f"malformed JSON on line {line_no} ({str(err).split(':')[0]})", path) from None
                if type(row) is not dict or "_id" not in row:
                    raise GclBenchError(f"line {line_no}: expected an object with an _id", path)
                yield line_no, row
    except FileNotFoundError:
        raise GclBenchError(f"{what} not found", path) from None


def read_queries(path: Path) -> dict[str, str]:
    """``{query_id: text}`` from ``queries.jsonl``."""
    queries: dict[str, str] = {}
    for _, row in iter_records(path, "queries file"):
        qid = str(row["_id"])
        if qid in queries:
            raise GclBenchError(f"query id {qid!r} occurs more than once (ids are compared as strings)", path)
        queries[qid] = str(row.get("text") or "")
    return queries


QRELS_HEADER_FIELDS = ("query-id", "qid", "query_id")
"""First fields that mark the first line of a qrels file as a header (BEIR writes ``query-id``)."""


def qrels_rows(handle: TextIO) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of each non-blank line of a qrels file.

    Fields are tab-separated, with csv quoting, as BEIR reads them; a line without a tab is
    split on white space (``qid docno grade``).
    """
    reader = csv.reader(handle, delimiter="\t")
    for row in reader:
        if len(row) == 1:
            row = row[0].split()
        if row:
            yield reader.line_num, row


def read_grade(value: str, qid: str, doc: str, path: Path, line: int) -> int:
    """A grade read from a text line: an integer >= 0 (``2`` or ``2.0``)."""
    where = f"line {line}: "
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GclBenchError(f"{where}grade {value!r} of ({qid!r}, {doc!r}) is not a number", path) from None
    if not math.isfinite(number) or number != int(number) or number < 0:
        raise GclBenchError(f"{where}grade {value!r} of ({qid!r}, {doc!r}) is not a non-negative integer", path)
    return int(number)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``{query_id: {doc_id: grade}}`` from a qrels TSV (header ``query-id corpus-id score``).

    Lines are split by :func:`qrels_rows`; a first line starting with one of
    :data:`QRELS_HEADER_FIELDS` is the header; grades are read by :func:`read_grade`. Every
    malformed line is an error naming the file and the line.
    """
    qrels: dict[str, dict[str, int]] = {}
    lines_read = 0
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            for line_no, row in qrels_rows(handle):
                lines_read = line_no
                if line_no == 1 and row[0].strip().lower() in QRELS_HEADER_FIELDS:
                    continue
                if len(row) < 3:
                    raise GclBenchError(f"line {line_no}: expected query-id, corpus-id, score; got {len(row)} field(s)", path)
                qrels.setdefault(row[0], {})[row[1]] = read_grade(row[2], row[0], row[1], path, line_no)
    except FileNotFoundError:
        raise GclBenchError("qrels file not found", path) from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise GclBenchError(f"malformed qrels file ({err})", path) from None
    if not lines_read:
        raise GclBenchError("empty qrels file", path)
    if not qrels:
        raise GclBenchError("qrels file has no judgements", path)
    return qrels
