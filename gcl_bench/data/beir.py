"""BEIR-format folders: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/{dev,test}.tsv``.

:func:`read_qrels` is the one parser of BEIR qrels TSV (``gcl-bench evaluate`` reads them through
it too); :func:`read_grade` reads a grade written as text, for every text judgement format.
Files may be gzip-compressed and may start with a UTF-8 byte order mark; a line that is not
UTF-8 is an error naming it. A (query, document) pair judged twice follows
:mod:`~gcl_bench.data.repeats`: the same grade is counted once and reported, another grade is
an error. Record ids (``_id``) are strings or integers (written out as JSON writes them).

May import: :mod:`~gcl_bench.data.repeats`, :mod:`gcl_bench.io`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from gcl_bench import inputs
from gcl_bench.data.repeats import RepeatCounter, RepeatedKeys
from gcl_bench.errors import GclBenchError

MAX_GRADE = 2**63 - 1
"""The largest grade any reader accepts (the metrics count in 64-bit integers)."""


def iter_records(path: Path, what: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a BEIR JSONL file; each needs an ``_id``.

    ``what`` names the file in the not-found error ("queries file", "corpus file").
    """
    if not path.exists():
        raise GclBenchError(f"{what} not found", path)
    with inputs.open_input(path) as handle:
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


def record_id(row: dict[str, Any], line: int, path: Path) -> str:
    """The ``_id`` of a JSONL record as a string: a string, or an integer as JSON writes it."""
    value = row["_id"]
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise GclBenchError(f"line {line}: _id {value!r} is {type(value).__name__}, expected a string", path)


def read_queries(path: Path) -> dict[str, str]:
    """``{query_id: text}`` from ``queries.jsonl``."""
    queries: dict[str, str] = {}
    for line, row in iter_records(path, "queries file"):
        qid = record_id(row, line, path)
        if qid in queries:
            raise GclBenchError(f"query id {qid!r} occurs more than once (ids are compared as strings)", path)
        text = row.get("text")
        if text is not None and type(text) is not str:
            raise GclBenchError(f"line {line}: the text of query {qid!r} is {type(text).__name__}, expected a string", path)
        queries[qid] = text or ""
    return queries


QRELS_HEADER_FIELDS = ("query-id", "qid", "query_id")
"""First fields that mark the first line of a qrels file as a header (BEIR writes ``query-id``)."""


def qrels_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of each non-blank line of a qrels file.

    Fields are tab-separated, with csv quoting, as BEIR reads them; a line without a tab is
    split on white space (``qid docno grade``).
    """
    reader = csv.reader(lines, delimiter="\t")
    for row in reader:
        if len(row) == 1:
            row = row[0].split()
        if row:
            yield reader.line_num, row


_INTEGER = re.compile(r"\s*\+?[0-9]+\s*")


def read_grade(value: str, qid: str, doc: str, path: Path, line: int) -> int:
    """A grade read from a text line: an integer from 0 to :data:`MAX_GRADE` (``2`` or ``2.0``)."""
    where = f"line {line}: "
    if _INTEGER.fullmatch(value):
        number: float | int = int(value)
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise GclBenchError(f"{where}grade {value!r} of ({qid!r}, {doc!r}) is not a number", path) from None
        if not math.isfinite(number) or number != int(number) or number < 0:
            raise GclBenchError(f"{where}grade {value!r} of ({qid!r}, {doc!r}) is not a non-negative integer", path)
        number = int(number)
    if number > MAX_GRADE:
        raise GclBenchError(f"{where}grade {value.strip()} of ({qid!r}, {doc!r}) is larger than 2^63 - 1", path)
    return number


def add_judgement(
    qrels: dict[str, dict[str, int]], qid: str, doc: str, grade: int, line: int, repeats: RepeatCounter
) -> None:
    """Put one judgement read from ``line`` into ``qrels``; a pair seen before goes to ``repeats``."""
    docs = qrels.setdefault(qid, {})
    if doc in docs:
        repeats.seen_again(f"({qid!r}, {doc!r})", docs[doc], grade, where=f"line {line}: ")
    docs[doc] = grade


def read_qrels(path: Path, repeats: list[RepeatedKeys] | None = None) -> dict[str, dict[str, int]]:
    """``{query_id: {doc_id: grade}}`` from a qrels TSV (header ``query-id corpus-id score``).

    Lines are split by :func:`qrels_rows`; a first line starting with one of
    :data:`QRELS_HEADER_FIELDS` is the header; grades are read by :func:`read_grade`. Every
    malformed line is an error naming the file and the line. A pair judged twice with the same
    grade is appended to ``repeats`` (None: refused like one with another grade).
    """
    qrels: dict[str, dict[str, int]] = {}
    lines_read = 0
    seen = RepeatCounter(path, "(query, document) pair", repeats)
    if not path.exists():
        raise GclBenchError("qrels file not found", path)
    try:
        for line_no, row in qrels_rows(inputs.text_lines(path)):
            lines_read = line_no
            if line_no == 1 and row[0].strip().lower() in QRELS_HEADER_FIELDS:
                continue
            if len(row) < 3:
                raise GclBenchError(f"line {line_no}: expected query-id, corpus-id, score; got {len(row)} field(s)", path)
            add_judgement(qrels, row[0], row[1], read_grade(row[2], row[0], row[1], path, line_no), line_no, seen)
    except csv.Error as err:
        raise GclBenchError(f"malformed qrels file ({err})", path) from None
    if not lines_read:
        raise GclBenchError("empty qrels file", path)
    if not qrels:
        raise GclBenchError("qrels file has no judgements", path)
    seen.close()
    return qrels
