"""Reading a run file straight into list form (:class:`~gcl_bench.metrics.RunLists`).

:func:`read_run_lists` reads the same files as :func:`~gcl_bench.results.runs.read_run` (BEIR
JSON, TREC runs, gzip, a byte order mark, a ``<file>.qids.json`` map) into the same run, but
never holds the whole file or one Python object per retrieved document: a TREC run is read line
by line, a JSON run in blocks, one query's object at a time (a compiled scan finds where each
query's object starts and ends), and each document is kept as a 4-byte index into the run's
vocabulary of document ids plus its score (float64, or float32 where only trec_eval's order is
needed). 8 to 12 bytes per retrieved document, plus about 130 per distinct document id, against
over 150 per retrieved document for the dicts.

Only plain input takes this path: one object per query of string keys and finite numbers,
each (query, document) pair once, a TREC query's lines together. Anything else (a repeat, a
malformed line, a query whose lines are apart) is handed to :func:`read_run` on the whole file,
so every refusal, every message and every reported repeat stays exactly what that reader gives.

May import: gcl_bench.inputs, gcl_bench.errors, gcl_bench.metrics, gcl_bench.data.repeats,
gcl_bench.results.runs, gcl_bench.results.sets.
"""
from __future__ import annotations

import os
import re
import zlib
from array import array
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

import numpy as np
import orjson
from numba import njit

from gcl_bench import inputs
from gcl_bench.data.repeats import RepeatedKeys, repeats_as_written
from gcl_bench.kernels import note_if_compiling
from gcl_bench.metrics import RunLists
from gcl_bench.results.runs import _input_file, _is_json, _map_query_ids, read_run
from gcl_bench.results.sets import check_member

__all__ = ["read_run_lists"]

_BLOCK = 4 << 20  # bytes of a JSON run read at a time
_WS = rb"[ \t\n\r]*"
# what stands between two query objects of a run: a comma (a brace before the first), the key, a colon
_KEY = re.compile(_WS + rb"([{,])" + _WS + rb'("(?:[^"\\]|\\.)*")' + _WS + rb":" + _WS, re.DOTALL)
_END = re.compile(_WS + rb"\}" + _WS)
_EMPTY = re.compile(_WS + rb"\{" + _WS + rb"\}" + _WS)


class _Unusual(Exception):
    """The file is not plain input: read it with :func:`read_run` instead."""


def read_run_lists(
    path: str | os.PathLike[str], repeats: list[RepeatedKeys] | None = None, by_rank: bool = False,
    float64_scores: bool = True,
) -> RunLists:
    """Read a run file as :func:`~gcl_bench.results.runs.read_run` does, into list form.

    ``float64_scores=False`` keeps each score rounded to float32, as trec_eval's order (every
    metric under the default protocol) compares them: 4 bytes an entry fewer, the same numbers;
    the reference protocol's search order compares float64 and needs the default."""
    path = _input_file(path, "run file")
    check_member(path)
    try:
        if _is_json(path):
            return _read_json_lists(path, float64_scores)
        lists = _read_trec_lists(path, by_rank, float64_scores)
        mapped = _map_query_ids(dict(zip(lists.query_ids, range(len(lists.query_ids)))), path)
        if len(mapped) != len(lists.query_ids):
            raise _Unusual  # two query ids mapped to one key: as read_run merges them
        lists.query_ids = list(mapped)
        return lists
    except _Unusual:
        return RunLists.from_dict(read_run(path, repeats, by_rank), float64_scores)


class _Builder:
    """The list form, grown one query at a time: compact arrays, one vocabulary."""

    def __init__(self, float64_scores: bool) -> None:
        self.query_ids: list[str] = []
        self.seen_queries: set[str] = set()
        self.code_of: dict[str, int] = {}
        self.docs = array("i")
        self.score_type = np.float64 if float64_scores else np.float32
        self.scores = array("d" if float64_scores else "f")
        self.offsets = array("q", [0])

    def add_query(self, qid: str, names: Iterable[str], values: Collection[object]) -> None:
        """One query's documents and their scores (as JSON or ``float`` gives them)."""
        if qid in self.seen_queries:
            raise _Unusual  # a repeated query, or a TREC query whose lines are apart
        types = set(map(type, values))
        if not types <= {float, int}:
            raise _Unusual
        scores = np.fromiter(values if int not in types else map(float, values), dtype=np.float64, count=len(values))
        if not np.isfinite(scores).all():
            raise _Unusual
        code_of = self.code_of
        codes = [code_of.setdefault(name, len(code_of)) for name in names]
        if len(set(codes)) != len(codes):
            raise _Unusual  # a document twice in one TREC query
        self.seen_queries.add(qid)
        self.query_ids.append(qid)
        self.docs.extend(codes)
        with np.errstate(over="ignore"):  # as the metrics layer rounds scores to float32
            self.scores.frombytes(scores.astype(self.score_type).tobytes())
        self.offsets.append(self.offsets[-1] + len(codes))

    def finish(self) -> RunLists:
        if len(self.code_of) > np.iinfo(np.int32).max:
            raise _Unusual
        return RunLists(self.query_ids, list(self.code_of), np.frombuffer(self.offsets, dtype=np.int64),
                        np.frombuffer(self.docs, dtype=np.int32), np.frombuffer(self.scores, dtype=self.score_type),
                        self.code_of)


def _read_trec_lists(path: Path, by_rank: bool, float64_scores: bool) -> RunLists:
    """``qid Q0 docno rank score tag`` per line; each query's lines together."""
    built = _Builder(float64_scores)
    ranks = array("q")
    current: str | None = None
    names: list[str] = []
    values: list[float] = []
    for line in inputs.text_lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise _Unusual
        qid, _, doc, rank, text, _ = parts
        if qid != current:
            if current is not None:
                built.add_query(current, names, values)
            current, names, values = qid, [], []
        try:
            values.append(float(text))
            if by_rank:
                ranks.append(int(rank))
        except (ValueError, OverflowError):
            raise _Unusual from None
        names.append(doc)
    if current is not None:
        built.add_query(current, names, values)
    lists = built.finish()
    if by_rank and lists.num_entries:  # each query's documents by rank; equal ranks keep the file's order
        rows = np.repeat(np.arange(len(lists.query_ids)), np.diff(lists.offsets))
        order = np.lexsort((np.frombuffer(ranks, dtype=np.int64), rows))
        lists.docs, lists.scores = lists.docs[order], lists.scores[order]
    return lists


def _read_json_lists(path: Path, float64_scores: bool) -> RunLists:
    """``{qid: {doc_id: score}}``, one query's object parsed at a time."""
    built = _Builder(float64_scores)
    pending = b""
    depth = 0  # of the first byte of pending (0 at the file's start, 1 past a query's object)
    for block in _blocks(path):
        pending += block
        note_if_compiling(_object_spans)
        spans = _object_spans(np.frombuffer(pending, dtype=np.uint8), np.array([depth, 0, 0], dtype=np.int64))
        if spans[0, 0] < 0:  # an array, or an object nested deeper than a run's
            raise _Unusual
        start = 0
        for open_at, close_at in spans[1:].tolist():
            key = _KEY.fullmatch(pending, start, open_at)
            if key is None or (key.group(1) == b"{") != (not built.query_ids):
                raise _Unusual
            qid = _loads(key.group(2))
            start = close_at + 1
            docs = _loads(pending[open_at:start])
            if type(qid) is not str or type(docs) is not dict:
                raise _Unusual
            if pending.count(b":", open_at, start) != len(docs) and repeats_as_written(pending[open_at:start]):
                raise _Unusual  # a document twice in one query's object
            built.add_query(qid, docs, docs.values())
        if start:
            pending, depth = pending[start:], 1
    if (_END if built.query_ids else _EMPTY).fullmatch(pending) is None:
        raise _Unusual
    return built.finish()


def _loads(text: bytes) -> object:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _Unusual from None


def _blocks(path: Path) -> Iterator[bytes]:
    handle = inputs.open_input(path)
    with handle:
        while True:
            try:
                block = handle.read(_BLOCK)
            except (OSError, EOFError, zlib.error):
                raise _Unusual from None  # read_run names the damage
            if not block:
                return
            yield block


@njit(cache=True)
def _object_spans(data: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Where the objects one level inside the top-level object start and end (both inclusive).

    ``state`` (depth, inside a string, after a backslash) is where ``data`` starts and is left
    where it ends. Row 0 of the result is (0, 0), or (-1, -1) for an array or an object deeper
    than two levels; each further row is one object that opens and closes within ``data``.
    """
    depth, in_string, escaped = state[0], state[1] != 0, state[2] != 0
    spans = np.zeros((16, 2), dtype=np.int64)
    found, opened = 1, -1
    for i in range(data.size):
        byte = data[i]
        if in_string:
            if escaped:
                escaped = False
            elif byte == 92:  # backslash
                escaped = True
            elif byte == 34:  # quote
                in_string = False
        elif byte == 34:
            in_string = True
        elif byte == 123:  # {
            depth += 1
            if depth == 2:
                opened = i
            elif depth > 2:
                spans[0, 0], spans[0, 1] = -1, -1
                return spans[:1]
        elif byte == 125:  # }
            if depth == 2 and opened >= 0:
                if found == spans.shape[0]:
                    grown = np.zeros((2 * found, 2), dtype=np.int64)
                    grown[:found] = spans
                    spans = grown
                spans[found, 0], spans[found, 1] = opened, i
                found += 1
                opened = -1
            depth -= 1
        elif byte == 91 or byte == 93:  # [ ]
            spans[0, 0], spans[0, 1] = -1, -1
            return spans[:1]
    state[0], state[1], state[2] = depth, in_string, escaped
    return spans[:found]
