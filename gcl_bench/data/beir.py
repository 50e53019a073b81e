"""BEIR-format folders: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/{dev,test}.tsv``."""
from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``{query_id: {doc_id: grade}}`` from a qrels TSV (header ``query-id corpus-id score``)."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter="\t")
            header = next(reader, None)
            if header is None:
                raise GclBenchError("empty qrels file", path)
            if header[:1] != ["query-id"]:
                handle.seek(0)
                reader = csv.reader(handle, delimiter="\t")
            for line_no, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) < 3:
                    raise GclBenchError(f"malformed qrels line {line_no}: expected query-id, corpus-id, score", path)
                try:
                    grade = int(row[2])
                except ValueError:
                    raise GclBenchError(f"malformed qrels line {line_no}: score {row[2]!r} is not an integer", path) from None
                qrels.setdefault(row[0], {})[row[1]] = grade
    except FileNotFoundError:
        raise GclBenchError("qrels file not found", path) from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise GclBenchError(f"malformed qrels file ({err})", path) from None
    if not qrels:
        raise GclBenchError("qrels file has no judgements", path)
    return qrels
