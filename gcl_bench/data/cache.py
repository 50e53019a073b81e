"""The columnar load cache: a second load of the same split is a memory map, not a parse.

Two kinds of entry live under ``cache_dir()/data/v1/``:

- ``corpus/<key>/``: ``docs.arrow`` (Arrow IPC file, uncompressed so it can be memory-mapped;
  columns ``doc_id``, ``title``, ``image``, ``image_raw``) and ``corpus.json`` (counts, the ids
  of documents without any usable field, the image folders' mtimes). Splits that share a
  corpus file share the entry.
- ``split/<key>/split.json``: the query ids and texts, the judgements, ``meta`` and the report.

Keys are SHA-256 hashes of the identity of every input file (resolved path, size, mtime in ns)
and of every option that changes the result (image root, eval set, sampling settings), so an
edited, replaced or touched file misses the cache. Input content is not hashed: hashing a 4 GB
folder would cost more than parsing it. The JSON file of an entry is written last, so a
half-written entry is never read.

Every cache file carries the checksum of its bytes, recorded when it is written
(:func:`gcl_bench.io.record_checksum`, a ``.xxh3`` sidecar) and checked each time it is read:
the JSON files as they are read, ``docs.arrow`` over its memory map (about 17 GB/s from the page
cache; a run reads every column anyway). A file that does not match (changed on disk, or cut
short) raises :class:`DamagedEntry`: the loaders rebuild the entry from the dataset files and
say so, it is never used.

May import: :mod:`gcl_bench.io`, :mod:`gcl_bench.config`.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from gcl_bench import io
from gcl_bench.config import cache_dir

CACHE_VERSION = "v1"


def file_identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The identity of one input file: resolved path, size and mtime (ns)."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return {"path": str(resolved), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def fingerprint(paths: list[Path]) -> str:
    """Hash of the identity of the given input files (see module doc)."""
    ids = [file_identity(p) for p in sorted(paths, key=str)]
    return hashlib.sha256(orjson.dumps(ids)).hexdigest()[:32]


def entry_key(kind: str, **parts: Any) -> str:
    payload = orjson.dumps({"kind": kind, "version": CACHE_VERSION, **parts}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()[:40]


def entry_dir(kind: str, key: str) -> Path:
    return cache_dir() / "data" / CACHE_VERSION / kind / key


class DamagedEntry(Exception):
    """A cache file that does not match the checksum recorded when it was written."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def write_table(path: Path, table: pa.Table) -> None:
    """Write ``table`` as an uncompressed Arrow IPC file, atomically, with its checksum."""
    with io.atomic_path(path) as tmp:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=1 << 20)
    io.record_checksum(path)


def read_table(path: Path, verify: bool = True) -> pa.Table:
    """Memory-map an Arrow IPC file written by :func:`write_table` (no copy, no parse), after
    checking its bytes against their checksum (:class:`DamagedEntry` when they differ;
    ``verify=False`` only for the file this process has just written)."""
    buffer = pa.memory_map(str(path), "r").read_buffer()
    if verify and not io.checksum_matches(path, memoryview(buffer)):
        raise DamagedEntry(path)
    try:
        return pa.ipc.open_file(buffer).read_all()
    except (pa.ArrowInvalid, OSError):
        raise DamagedEntry(path) from None


def write_entry_json(path: Path, obj: Any) -> None:
    """Write the JSON file of a cache entry, atomically, with its checksum."""
    data = io.dumps_json(obj, indent=False)
    io.write_bytes(path, data)
    io.record_checksum(path, io.checksum_bytes(data))


def read_entry_json(path: Path) -> Any | None:
    """The JSON of a cache entry; None when absent, :class:`DamagedEntry` when its bytes do not
    match their checksum (or do not parse)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        raise DamagedEntry(path) from None
    if not io.checksum_matches(path, data):
        raise DamagedEntry(path)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise DamagedEntry(path) from None
