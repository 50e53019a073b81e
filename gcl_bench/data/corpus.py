"""Corpus readers: ``corpus_{1,2}.json`` objects and BEIR ``corpus.jsonl`` -> Arrow columns.

A Marqo-GS corpus file is one JSON object ``{product_id: {"title": ..., "image_local": ...}}``
with millions of entries. It is memory-mapped and parsed in slices of a few MB with orjson:
each slice is cut after a ``}`` that is followed by a comma and wrapped in braces; a cut that
falls inside a string or a nested object makes the slice invalid JSON, and the slice is then
extended to the next candidate cut. Each parsed slice becomes Arrow columns at once, so the
Python dicts of the whole corpus never exist together (peak memory stays near the size of the
columns, not of the dicts). Ids repeated across slices are an error; a key repeated inside one
slice is merged by the JSON parser (last value wins), as ``json.load`` does.
"""
from __future__ import annotations

import mmap
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from gcl_bench.errors import GclBenchError

CHUNK_BYTES = 8 << 20
_CUT = re.compile(rb"\}\s*,")
_WS = b" \t\r\n"
IMAGE_KEYS = ("image_local", "image", "image_path")
DOC_SCHEMA = pa.schema([("doc_id", pa.string()), ("title", pa.string()), ("image_raw", pa.string())])


def _str_array(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _not_an_object(entries: dict[str, Any], path: Path) -> GclBenchError:
    bad = next(k for k, v in entries.items() if type(v) is not dict)
    return GclBenchError(
        f"malformed corpus: product {bad!r} maps to {type(entries[bad]).__name__}, expected an object with title and image_local",
        path,
    )


def _field(values: list[dict[str, Any]], key: str) -> list[Any]:
    try:
        return [v[key] for v in values]
    except KeyError:
        return [v.get(key) for v in values]


def _entries_to_batch(entries: dict[str, Any], path: Path) -> pa.RecordBatch:
    values = list(entries.values())
    try:
        image_key = next((k for k in IMAGE_KEYS if any(k in v for v in values[:50])), IMAGE_KEYS[0])
        titles = _field(values, "title")
        images = _field(values, image_key)
    except (TypeError, AttributeError):  # a value that is not an object
        raise _not_an_object(entries, path) from None
    return pa.RecordBatch.from_arrays(
        [pa.array(list(entries), type=pa.string()), _str_array(titles), _str_array(images)], schema=DOC_SCHEMA
    )


def _json_error(path: Path, err: orjson.JSONDecodeError, offset: int) -> GclBenchError:
    msg = str(err).split(":")[0]
    return GclBenchError(f"malformed JSON ({msg} near byte {offset + max(err.pos - 1, 0)})", path)


def read_corpus_json(path: str | os.PathLike[str], chunk_bytes: int | None = None) -> pa.Table:
    """Read a Marqo-GS corpus JSON object into columns ``doc_id``, ``title``, ``image_raw``."""
    path = Path(path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise GclBenchError("corpus file not found", path) from None
    except OSError as err:
        raise GclBenchError(f"cannot read corpus file ({err.strerror})", path) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise GclBenchError("empty corpus file (no products)", path)
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            return _parse_object(data, size, path, chunk_bytes or CHUNK_BYTES)
        finally:
            data.close()


def _parse_object(data: mmap.mmap, size: int, path: Path, chunk_bytes: int) -> pa.Table:
    start = 0
    while start < size and data[start] in _WS:
        start += 1
    end = size - 1
    while end > start and data[end] in _WS:
        end -= 1
    if start >= size or data[start] != ord("{") or data[end] != ord("}"):
        raise GclBenchError("malformed JSON: expected one object {product_id: {title, image_local, ...}} from the first to the last byte", path)
    batches: list[pa.RecordBatch] = []
    hashes: list[np.ndarray] = []
    pos = start + 1
    while pos < end:
        cand = pos + chunk_bytes
        while True:
            match = _CUT.search(data, cand, end) if cand < end else None
            cut = match.start() + 1 if match else end
            piece = b"{" + data[pos:cut] + b"}"
            try:
                entries = orjson.loads(piece)
                break
            except orjson.JSONDecodeError as err:
                if match is None or err.pos < len(piece) - 2:
                    raise _json_error(path, err, pos) from None
                cand = match.end()
        if entries:
            batches.append(_entries_to_batch(entries, path))
            hashes.append(np.fromiter(map(hash, entries), dtype=np.int64, count=len(entries)))
        del entries, piece
        pos = match.end() if match else end
    table = pa.Table.from_batches(batches, schema=DOC_SCHEMA)
    if len(batches) > 1:
        all_hashes = np.sort(np.concatenate(hashes))
        if (all_hashes[1:] == all_hashes[:-1]).any():  # a repeated id, or (rarely) a hash collision
            check_unique_ids(table["doc_id"], path)
    return table


def read_corpus_jsonl(path: str | os.PathLike[str]) -> pa.Table:
    """Read a BEIR ``corpus.jsonl`` (``_id``, ``title``, ``text``, optional ``image``) into doc columns.

    The title is the ``title`` field, or the ``text`` field when the title is empty.
    """
    path = Path(path)
    ids: list[Any] = []
    titles: list[Any] = []
    images: list[Any] = []
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
                ids.append(row["_id"])
                titles.append(row.get("title") or row.get("text") or "")
                images.append(next((row[k] for k in IMAGE_KEYS if row.get(k)), None))
    except FileNotFoundError:
        raise GclBenchError("corpus file not found", path) from None
    id_strings = [str(i) for i in ids]
    return pa.table([_str_array(id_strings), _str_array(titles), _str_array(images)], schema=DOC_SCHEMA)


def check_unique_ids(ids: pa.Array | pa.ChunkedArray, path: Path, what: str = "product id") -> None:
    """Raise when two entries share an id (after conversion to strings)."""
    if len(pc.unique(ids)) == len(ids):
        return
    counts = pc.value_counts(ids)
    dup = pc.filter(counts, pc.greater(pc.struct_field(counts, "counts"), 1))[0]["values"].as_py()
    raise GclBenchError(f"{what} {dup!r} occurs more than once (ids are compared as strings)", path)
