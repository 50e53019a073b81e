"""BM25 indexes built once per corpus: kept on disk, memory-mapped when read, the last one kept in memory.

An index is keyed by :func:`index_key`: the hash of the texts indexed (in row order), their
count, the BM25 and tokeniser settings, and the bm25s and PyStemmer versions. One entry is the
folder ``<cache root>/bm25/<h[:2]>/<h>/`` (``h`` = :func:`gcl_bench.io.key_hash` of the key),
holding what ``bm25s.BM25.save`` writes (the CSC arrays as ``.npy``, the vocabulary and the
parameters as JSON) and ``manifest.json`` (the key and the list of files). Every file has its
checksum in a ``.xxh3`` sidecar (:func:`gcl_bench.io.record_checksum`).

- Written whole into a temporary folder beside the entry, then renamed into place: a crash
  mid-write leaves only a ``.<h>.<random>.tmp`` folder, which is never read (``gcl-bench cache
  clear bm25`` removes it).
- Read: the manifest's key is compared, every file is checked against its checksum, then
  ``bm25s.BM25.load(mmap=True)`` maps the arrays (the pages stay in the page cache, shared and
  reclaimable, not in the process's own memory). An entry that fails any of this is a miss: it
  is removed and rebuilt, and :attr:`IndexUse.damaged` names the file, never a hit.
- In one process the index last used stays in memory (:func:`held_index`), so the splits that
  share a corpus (``--split all``) reuse it without reading it again; a different corpus
  replaces it, so two indexes are never held at once.

A freshly built index is saved, dropped and read back memory-mapped, so a cold and a warm run
search the same read-only arrays (one compiled kernel signature, and the built arrays' memory
is given back).

May import: bm25s, PyStemmer (inside functions), orjson, :mod:`gcl_bench.io`,
:mod:`gcl_bench.config`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from gcl_bench.errors import GclBenchError
from gcl_bench.io import (
    checksum_matches,
    dumps_json,
    folder_lock,
    key_hash,
    make_temp_dir,
    record_checksum,
    write_bytes,
    write_failure,
)

INDEX_FORMAT = 1
MANIFEST = "manifest.json"
_held: dict[str, Any] = {}
"""entry path -> the index last used in this process (at most one)."""


@dataclass
class IndexUse:
    """How the index of one search was obtained (the ``bm25_index`` section of ``retrieval``)."""

    status: str
    """``built`` (and cached), ``loaded`` (from the cache), ``reused`` (still in memory) or
    ``rebuilt`` (the cached one was damaged)."""
    seconds: float
    path: str | None = None
    damaged: str | None = None
    """The cache file that did not match its checksum (``rebuilt`` only)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def index_key(texts_hash: str, count: int, settings: dict[str, Any]) -> dict[str, Any]:
    """The key of one index: the texts (hash and count) and everything that changes the index."""
    import bm25s

    try:
        from importlib.metadata import version

        stemmer_version = version("PyStemmer")
    except Exception:  # pragma: no cover - PyStemmer without metadata
        stemmer_version = None
    return {"format": INDEX_FORMAT, "texts": texts_hash, "count": int(count), "settings": dict(settings),
            "bm25s": bm25s.__version__, "pystemmer": stemmer_version}


def default_root() -> Path:
    from gcl_bench.config import cache_dir

    return cache_dir() / "bm25"


def entry_path(key: dict[str, Any], root: str | os.PathLike[str] | None = None) -> Path:
    digest = key_hash(key)
    return Path(root or default_root()) / digest[:2] / digest


def held_index(key: dict[str, Any], root: str | os.PathLike[str] | None = None) -> Any | None:
    """The index of ``key`` (in the cache at ``root``) if it is the one this process holds, else None."""
    return _held.get(str(entry_path(key, root)))


def release_held() -> None:
    """Forget the index held in memory (its arrays go once nothing else refers to them)."""
    _held.clear()


def obtain_index(
    key: dict[str, Any], build: Callable[[], Any], root: str | os.PathLike[str] | None = None,
) -> tuple[Any, IndexUse]:
    """The index of ``key``: held in memory, else read from the cache, else ``build()``-t and cached."""
    start = time.perf_counter()
    path = entry_path(key, root)
    held = held_index(key, root)
    if held is not None:
        return held, IndexUse("reused", time.perf_counter() - start, str(path))
    release_held()  # never two indexes at once
    index, damaged = read_index(path, key)
    status = "loaded"
    if index is None:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(path)
        write_index(path, key, build())
        index, unreadable = read_index(path, key)
        if index is None:
            raise GclBenchError("the BM25 index just written cannot be read back", unreadable or path)
        status = "rebuilt" if damaged else "built"
    _held[str(path)] = index
    return index, IndexUse(status, time.perf_counter() - start, str(path), damaged)


def write_index(path: Path, key: dict[str, Any], index: Any) -> None:
    """Save ``index`` (a ``bm25s.BM25``) as the entry ``path`` of ``key``: whole, or not at all."""
    temp = make_temp_dir(path.parent, path.name)
    try:
        try:
            index.save(str(temp), corpus=None, show_progress=False)
        except OSError as err:
            raise write_failure(err, path) from None
        files = sorted(item.name for item in temp.iterdir() if item.is_file())
        for name in files:
            record_checksum(temp / name)
        manifest = dumps_json({"key": key, "files": files})
        write_bytes(temp / MANIFEST, manifest)
        record_checksum(temp / MANIFEST)
        with folder_lock(path.parent):
            if path.exists():  # another process wrote it meanwhile, or a damaged entry
                shutil.rmtree(path, ignore_errors=True)
            try:
                os.replace(temp, path)
            except OSError as err:
                raise write_failure(err, path) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def read_index(path: Path, key: dict[str, Any]) -> tuple[Any | None, str | None]:
    """``(index, None)`` for an entry whose key and checksums match; ``(None, damaged file)`` for
    one that does not (None when there is no entry)."""
    import bm25s

    manifest_path = path / MANIFEST
    try:
        data = manifest_path.read_bytes()
    except FileNotFoundError:
        return None, str(manifest_path) if path.exists() else None
    except OSError:
        return None, str(manifest_path)
    try:
        manifest = orjson.loads(data) if checksum_matches(manifest_path, data) else None
    except orjson.JSONDecodeError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("key") != orjson.loads(orjson.dumps(key)):
        return None, str(manifest_path)
    for name in manifest.get("files") or []:
        if not checksum_matches(path / name):
            return None, str(path / name)
    try:
        index = bm25s.BM25.load(str(path), mmap=True, show_progress=False)
    except (OSError, ValueError, KeyError, TypeError) as err:
        return None, f"{path} ({err})"
    index.gcl_vocab = index.vocab_dict
    index.gcl_num_docs = int(index.scores["num_docs"])
    return index, None
