"""Corpus readers: ``corpus_{1,2}.json`` objects and BEIR ``corpus.jsonl`` -> Arrow columns.

A Marqo-GS corpus file is one JSON object ``{product_id: {"title": ..., "image_local": ...}}``
with millions of entries. It is memory-mapped and parsed in slices of 256 KB with orjson
(slices that fit the CPU cache parse much faster than one big parse):
each slice is cut after a ``}`` that is followed by a comma and wrapped in braces; a cut that
falls inside a string or a nested object makes the slice invalid JSON, and the slice is then
extended to the next candidate cut. Each parsed slice becomes Arrow columns at once, so the
Python dicts of the whole corpus never exist together (peak memory stays near the size of the
columns, not of the dicts). A large file can be parsed in two halves, the second in a worker
process, when a core is idle. A gzip-compressed file (``corpus_1.json.gz``) is decompressed into
memory and parsed the same way, in one process; a UTF-8 byte order mark is skipped.

A product id repeated anywhere is an error. Across slices, ids are compared by hash (and exactly
when two hashes meet). Inside one slice the JSON parser would merge a repeated key silently, so
every slice is counted: each entry's value is an object, which ends with one ``}``, so a slice
whose ``}`` bytes number one per parsed entry (plus the wrapper's) cannot have lost an entry.
Only a slice that has more (nested objects, a ``}`` inside a title, or a real repeat) is looked
at closer: first by counting the objects nested in its parsed values, then, if a ``}`` still is
unaccounted for, by parsing it again with the standard library, which sees every key. A field
repeated inside one product's object keeps its last value, as every JSON reader does.

Titles and image paths must be strings (or null); anything else names the product.

May import: :mod:`~gcl_bench.data.beir` (its JSONL reader), :mod:`~gcl_bench.data.repeats`,
:mod:`gcl_bench.io`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import mmap
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from gcl_bench import inputs
from gcl_bench.data.beir import iter_records, record_id
from gcl_bench.data.repeats import repeats_as_written
from gcl_bench.errors import GclBenchError

ByteProgress = Callable[[int, int], None]
"""``progress(bytes_done, bytes_total)`` of a corpus file being parsed."""
CHUNK_BYTES = 256 << 10
BATCH_ROWS = 1 << 16
_CUT = re.compile(rb"\}\s*,")
_WS = b" \t\r\n"
_CLOSE = ord("}")
IMAGE_KEYS = ("image_local", "image", "image_path")
DOC_SCHEMA = pa.schema([("doc_id", pa.string()), ("title", pa.string()), ("image_raw", pa.string())])


def _text_column(values: list[Any], ids: list[Any], field: str, path: Path) -> pa.Array:
    """``values`` as an Arrow string column; a value that is not a string or null names its product."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        doc, value = next((d, v) for d, v in zip(ids, values) if v is not None and type(v) is not str)
        raise GclBenchError(
            f"product {doc!r}: {field} is {type(value).__name__} {_short(value)}, expected a string", path
        ) from None


def _short(value: Any, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


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
    ids = list(entries)
    return pa.RecordBatch.from_arrays(
        [pa.array(ids, type=pa.string()), _text_column(titles, ids, "title", path),
         _text_column(images, ids, image_key, path)],
        schema=DOC_SCHEMA,
    )


def _objects(value: Any) -> int:
    """How many JSON objects ``value`` is and holds (each ends with one ``}``)."""
    if type(value) is dict:
        return 1 + sum(_objects(v) for v in value.values() if type(v) is dict or type(v) is list)
    if type(value) is list:
        return sum(_objects(v) for v in value if type(v) is dict or type(v) is list)
    return 0


def _merged_id(piece: bytes, entries: dict[str, Any]) -> str | None:
    """The first product id the parser merged in this slice (see the module doc), or None."""
    closing = int(np.count_nonzero(np.frombuffer(piece, dtype=np.uint8) == _CLOSE)) - 1  # less the wrapper's
    if closing == len(entries):
        return None
    if closing == sum(map(_objects, entries.values())):
        return None
    return next((r.key for r in repeats_as_written(piece) if r.parent is None), None)


def _json_error(path: Path, err: orjson.JSONDecodeError, offset: int) -> GclBenchError:
    msg = str(err).split(":")[0]
    return GclBenchError(f"malformed JSON ({msg} near byte {offset + max(err.pos - 1, 0)})", path)


def read_corpus_json(
    path: str | os.PathLike[str], chunk_bytes: int | None = None, workers: int | None = None,
    progress: ByteProgress | None = None,
) -> pa.Table:
    """Read a Marqo-GS corpus JSON object into columns ``doc_id``, ``title``, ``image_raw``.

    With ``workers=2`` (default: :func:`default_workers`) the second half of the file is parsed
    in a worker process at the same time; the result is the same either way.
    ``progress(bytes_done, bytes_total)`` follows the slices this process parses (with a worker,
    the two halves advance together, so the first half's share is reported for both).
    """
    path = Path(path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise GclBenchError("corpus file not found", path) from None
    except OSError as err:
        raise GclBenchError(f"cannot read corpus file ({err.strerror})", path) from None
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    if handle.read(2) == inputs.GZIP_MAGIC:  # decompressed into memory: no memory map, one process
        handle.close()
        data = inputs.read_input(path)
        if not data:
            raise GclBenchError("empty corpus file (no products)", path)
        return _parse_whole(data, *_object_bounds(data, len(data), path), path, chunk_bytes)
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise GclBenchError("empty corpus file (no products)", path)
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            start, end = _object_bounds(data, size, path)
            if workers is None:
                workers = default_workers(size)
            report = _byte_reporter(progress, start, size)
            if workers > 1:
                table = _parse_in_two(data, start, end, path, chunk_bytes, report)
                if table is not None:
                    if progress is not None:
                        progress(size, size)
                    return table
            table = _parse_whole(data, start, end, path, chunk_bytes, report)
            if progress is not None:
                progress(size, size)
            return table
        finally:
            data.close()


def _parse_whole(
    data: mmap.mmap | bytes, start: int, end: int, path: Path, chunk_bytes: int,
    report: ByteProgress | None = None,
) -> pa.Table:
    """Parse the object from byte ``start`` (its ``{``) to ``end`` (its ``}``) in this process."""
    batches, hashes = _parse_range(data, start + 1, end, path, chunk_bytes, hi_is_end=True, report=report)
    table = pa.Table.from_batches(batches, schema=DOC_SCHEMA)
    if _repeated(hashes):
        check_unique_ids(table["doc_id"], path)
    return table


PARALLEL_MIN_BYTES = 64 << 20


def _byte_reporter(progress: ByteProgress | None, start: int, size: int) -> ByteProgress | None:
    """``report(pos, hi)`` of :func:`_parse_range` as ``progress(bytes done, file size)``."""
    if progress is None:
        return None
    return lambda pos, hi: progress(min(pos, size), size)


def default_workers(size: int) -> int:
    """2 for a large file when a core is idle (load average below the core count minus one), else 1.

    On a busy machine the worker only competes for the same cores and costs a second copy of
    the columns in flight, so it is not used. ``GCL_BENCH_LOAD_WORKERS`` overrides the choice.
    """
    forced = os.environ.get("GCL_BENCH_LOAD_WORKERS")
    if forced:
        return max(1, int(forced))
    cores = os.cpu_count() or 1
    try:
        idle = os.getloadavg()[0] < cores - 1
    except OSError:
        idle = False
    return 2 if size >= PARALLEL_MIN_BYTES and cores > 1 and idle else 1


class _BadCut(Exception):
    """A range boundary turned out to lie inside an entry (a nested object): parse sequentially."""


def _object_bounds(data: mmap.mmap | bytes, size: int, path: Path) -> tuple[int, int]:
    start = len(inputs.UTF8_BOM) if data[: len(inputs.UTF8_BOM)] == inputs.UTF8_BOM else 0
    while start < size and data[start] in _WS:
        start += 1
    end = size - 1
    while end > start and data[end] in _WS:
        end -= 1
    if start >= size or data[start] != ord("{") or data[end] != ord("}"):
        raise GclBenchError("malformed JSON: expected one object {product_id: {title, image_local, ...}} from the first to the last byte", path)
    return start, end


def _repeated(hashes: list[np.ndarray]) -> bool:
    """Whether two keys share a hash (a repeated id, or rarely a collision: then check exactly)."""
    if len(hashes) < 2:
        return False
    ordered = np.sort(np.concatenate(hashes))
    return bool((ordered[1:] == ordered[:-1]).any())


def _parse_range(
    data: mmap.mmap | bytes, lo: int, hi: int, path: Path, chunk_bytes: int, hi_is_end: bool,
    report: ByteProgress | None = None,
) -> tuple[list[pa.RecordBatch], list[np.ndarray]]:
    """Parse the entries between byte ``lo`` (just after a separator) and ``hi`` (just after a ``}``);
    ``report(pos, hi)`` after each slice."""
    batches: list[pa.RecordBatch] = []
    pending: list[pa.RecordBatch] = []
    hashes: list[np.ndarray] = []
    pos = lo
    while pos < hi:
        cand = pos + chunk_bytes
        while True:
            match = _CUT.search(data, cand, hi) if cand < hi else None
            cut = match.start() + 1 if match else hi
            piece = b"{" + data[pos:cut] + b"}"
            try:
                entries = orjson.loads(piece)
                break
            except orjson.JSONDecodeError as err:
                at_cut = err.pos >= len(piece) - 2
                if match is None and at_cut and not hi_is_end:
                    raise _BadCut() from None
                if match is None or not at_cut:
                    raise _json_error(path, err, pos) from None
                cand = match.end()
        if entries:
            merged = _merged_id(piece, entries)
            if merged is not None:
                raise GclBenchError(f"product id {merged!r} occurs more than once (ids are compared as strings)", path)
            pending.append(_entries_to_batch(entries, path))
            hashes.append(np.fromiter(map(hash, entries), dtype=np.int64, count=len(entries)))
            if sum(b.num_rows for b in pending) >= BATCH_ROWS:
                batches.append(_concat(pending))
                pending = []
        del entries, piece
        pos = match.end() if match else hi
        if report is not None:
            report(pos, hi)
    if pending:
        batches.append(_concat(pending))
    return batches, hashes


def _concat(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """One record batch from several small ones (slices are parsed small, stored in larger batches)."""
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches, schema=DOC_SCHEMA).combine_chunks().to_batches()[0]


def _parse_second_half(path: str, lo: int, hi: int, chunk_bytes: int) -> int:
    """Worker process: parse ``[lo, hi)``; write the columns to stdout as an Arrow IPC stream.

    A malformed file is reported as one JSON line on stderr and exit code 3.
    """
    with open(path, "rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            batches, hashes = _parse_range(data, lo, hi, Path(path), chunk_bytes, hi_is_end=True)
        except GclBenchError as err:
            sys.stderr.write(orjson.dumps({"error": err.message}).decode() + "\n")
            return 3
        finally:
            data.close()
    sink = pa.PythonFile(sys.stdout.buffer, mode="w")
    metadata = {b"repeated": b"1" if _repeated(hashes) else b"0"}
    with pa.ipc.new_stream(sink, DOC_SCHEMA.with_metadata(metadata)) as writer:
        for batch in batches:
            writer.write_batch(batch)
    sys.stdout.buffer.flush()
    return 0


def _parse_in_two(
    data: mmap.mmap, start: int, end: int, path: Path, chunk_bytes: int, report: ByteProgress | None = None,
) -> pa.Table | None:
    """Parse the first half here and the second in a worker process; None: parse sequentially.

    The second half starts after a ``},`` found by search; it is a true entry boundary exactly
    when the first half parses up to it, which is checked before the second half is trusted.
    The worker is a plain ``python -m gcl_bench.data.corpus`` process (no re-import of the
    caller's ``__main__``, nothing shared but the file).
    """
    match = _CUT.search(data, start + (end - start) // 2, end)
    if match is None:
        return None
    cut, second = match.start() + 1, match.end()
    command = [sys.executable, "-m", "gcl_bench.data.corpus", str(path), str(second), str(end), str(chunk_bytes)]
    try:
        worker = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError:
        return None
    try:
        try:
            batches, hashes = _parse_range(data, start + 1, cut, path, chunk_bytes, hi_is_end=False,
                                           report=None if report is None else lambda pos, hi: report(2 * pos - start, 2 * hi - start))
        except _BadCut:
            return None
        out, err = worker.communicate()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    if worker.returncode == 3:
        raise GclBenchError(orjson.loads(err.splitlines()[-1])["error"], path)
    if worker.returncode != 0:
        return None  # the worker could not run here: parse in this process instead
    rest = pa.ipc.open_stream(out).read_all()
    repeated = (rest.schema.metadata or {}).get(b"repeated") == b"1"
    rest = rest.replace_schema_metadata(None)
    first = pa.Table.from_batches(batches, schema=DOC_SCHEMA)
    table = pa.concat_tables([first, rest])
    if repeated or _repeated(hashes) or pc.any(pc.is_in(rest["doc_id"], value_set=first["doc_id"])).as_py():
        check_unique_ids(table["doc_id"], path)
    return table


BEIR_DOC_SCHEMA = pa.schema([("doc_id", pa.string()), ("title", pa.string()), ("text", pa.string()),
                             ("image_raw", pa.string())])
"""BEIR documents keep both of their text fields: ``title`` and ``text`` (the body)."""


def read_corpus_jsonl(path: str | os.PathLike[str]) -> pa.Table:
    """Read a BEIR ``corpus.jsonl`` (``_id``, ``title``, ``text``, optional ``image``) into doc columns.

    ``title`` and ``text`` are kept apart, as BEIR keeps them (a missing one is empty); models
    and BM25 decide how to combine them (BEIR's BM25 and SentenceBERT use ``title + " " + text``).
    """
    path = Path(path)
    ids: list[str] = []
    titles: list[Any] = []
    texts: list[Any] = []
    images: list[Any] = []
    for line, row in iter_records(path, "corpus file"):
        ids.append(record_id(row, line, path))
        titles.append(row.get("title") or "")
        texts.append(row.get("text") or "")
        images.append(next((row[k] for k in IMAGE_KEYS if row.get(k)), None))
    columns = [pa.array(ids, type=pa.string()), _text_column(titles, ids, "title", path),
               _text_column(texts, ids, "text", path), _text_column(images, ids, "image", path)]
    return pa.table(columns, schema=BEIR_DOC_SCHEMA)


def check_unique_ids(ids: pa.Array | pa.ChunkedArray, path: Path, what: str = "product id") -> None:
    """Raise when two entries share an id (after conversion to strings)."""
    if len(pc.unique(ids)) == len(ids):
        return
    counts = pc.value_counts(ids)
    dup = pc.filter(counts, pc.greater(pc.struct_field(counts, "counts"), 1))[0]["values"].as_py()
    raise GclBenchError(f"{what} {dup!r} occurs more than once (ids are compared as strings)", path)


if __name__ == "__main__":
    sys.exit(_parse_second_half(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
