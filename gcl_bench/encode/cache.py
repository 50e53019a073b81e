"""On-disk embedding cache: one entry per (model, side, field, settings, dtype, items encoded).

Layout under ``<cache root>/embeddings/<h[:2]>/<h>/`` where ``h`` is the SHA-256 of the
canonical JSON of the key (:func:`cache_key`):

- ``manifest.json``: ``{"format", "key", "key_hash", "count", "shard_size", "dtype", "dim",
  "complete"}``; the full key is stored and compared on every read, so an entry written for
  another model, side, field, setting, dtype or item list is never used (a mismatch raises
  :class:`~gcl_bench.errors.GclBenchError` naming the manifest);
- ``shard_000000.npy``, ...: rows ``[i * shard_size, (i + 1) * shard_size)`` of the item list,
  each written atomically (temporary name, then rename). A shard that is missing, unreadable or of
  the wrong shape is (re-)encoded; every finished shard survives an interruption, so an encode
  resumes from where it stopped.

Every file carries the checksum of its bytes in a ``.xxh3`` sidecar written after it
(:func:`gcl_bench.io.record_checksum`). A manifest that does not match is rewritten; a shard
without its sidecar, or cut short, counts as missing (and is listed in
:attr:`CacheEntry.damaged`); a shard's bytes are checked when :meth:`CacheEntry.load` reads them
(over their memory map, the one time they are read, on the merging rank only) and a shard that
does not match is encoded again through the ``repair`` callback and listed in
:attr:`CacheEntry.repaired`. A changed cache file is therefore a miss, never a hit.

The key holds: the model fingerprint (checkpoint hash or plug-in ``fingerprint()``), the side
(``query`` or ``doc``, so a query and a document with the same text never share vectors), the
field, the adapter's settings for that field (preprocessing, context length, prefix/prompt...),
the storage dtype, the number of items, and a hash of the items (:func:`hash_texts`,
:func:`hash_image_files`). Field weights are not in the key: they are applied after the cache.

Imports: numpy, orjson, :mod:`gcl_bench.errors`, :mod:`gcl_bench.io` (and :mod:`gcl_bench.config`
for the default root).
"""
from __future__ import annotations

import contextlib
import io
import mmap
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from gcl_bench.errors import GclBenchError
from gcl_bench.io import (
    checksum_bytes,
    checksum_matches,
    checksum_path,
    dumps_json,
    hash_texts,
    key_hash,
    record_checksum,
    write_bytes,
)

CACHE_FORMAT = 1
DTYPES = ("float32", "float16")


def image_stamp(path: str) -> str | None:
    """``"<absolute path>|<size>|<mtime_ns>"`` of an image file, or None when it cannot be stat'ed.

    Images are identified by path, size and modification time, not by content: hashing the bytes
    of ten million images would cost a full read of the image set on every run. Replacing a file
    in place with one of the same size and the same mtime (nanoseconds) is not noticed.
    """
    try:
        stat = os.stat(path)
    except (OSError, TypeError, ValueError):
        return None
    if not os.path.isfile(path):
        return None
    return f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}"


def hash_image_files(stamps: Sequence[str]) -> str:
    """SHA-256 of an ordered list of :func:`image_stamp` strings."""
    return hash_texts(["image-files"] + list(stamps))


def cache_key(
    *,
    model: str,
    side: str,
    field: str,
    settings: dict[str, Any],
    dtype: str,
    count: int,
    items_hash: str,
) -> dict[str, Any]:
    """The full key of one cache entry (stored in its manifest and compared on read)."""
    if side not in ("query", "doc"):
        raise ValueError(f"side must be 'query' or 'doc', got {side!r}")
    if dtype not in DTYPES:
        raise GclBenchError(f"cache dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return {
        "format": CACHE_FORMAT,
        "model": str(model),
        "side": side,
        "field": str(field),
        "settings": _jsonable(settings),
        "dtype": dtype,
        "count": int(count),
        "items": items_hash,
    }


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so the stored key compares equal to a freshly built one."""
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))


class CacheEntry:
    """The shards of one key. ``MemoryEntry`` has the same interface without files."""

    persistent = True

    def __init__(self, root: Path, key: dict[str, Any], shard_size: int) -> None:
        self.key = key
        self.hash = key_hash(key)
        self.path = Path(root) / self.hash[:2] / self.hash
        self.count = int(key["count"])
        self.dtype = np.dtype(key["dtype"])
        self.shard_size = int(shard_size)
        self.dim: int | None = None
        self.complete = False
        self.repaired: list[int] = []
        """Shards :meth:`load` found damaged and encoded again."""
        self.damaged: list[int] = []
        """Shards :meth:`missing_shards` found present but unusable (cut short, no checksum)."""

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    @property
    def num_shards(self) -> int:
        return max(1, -(-self.count // self.shard_size)) if self.count else 0

    def shard_rows(self, shard: int) -> tuple[int, int]:
        start = shard * self.shard_size
        return start, min(self.count, start + self.shard_size)

    def shard_path(self, shard: int) -> Path:
        return self.path / f"shard_{shard:06d}.npy"

    def read_manifest(self) -> bool:
        """Load and verify an existing manifest; False when there is none (or one that does not
        match its checksum, which :meth:`create` then replaces)."""
        try:
            data = self.manifest_path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as err:
            raise GclBenchError(f"cannot read the embedding cache manifest ({err.strerror})", self.manifest_path) from None
        if not checksum_matches(self.manifest_path, data):
            return False
        try:
            manifest = orjson.loads(data)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(manifest, dict) or manifest.get("key") != self.key:
            stored = manifest.get("key", {}) if isinstance(manifest, dict) else {}
            differing = sorted(
                name for name in set(self.key) | set(stored or {})
                if (stored or {}).get(name) != self.key.get(name)
            )
            raise GclBenchError(
                "embedding cache entry was written for a different key "
                f"(differs in: {', '.join(differing) or 'format'}); delete this folder to re-encode",
                self.manifest_path,
            )
        self.shard_size = int(manifest["shard_size"])
        self.dim = manifest.get("dim")
        self.complete = bool(manifest.get("complete"))
        return True

    def create(self) -> None:
        """Verify the manifest if one exists, else write a fresh (incomplete) one."""
        if not self.read_manifest():
            self._write_manifest()

    def _write_manifest(self) -> None:
        self._write_checked(self.manifest_path, dumps_json({
            "format": CACHE_FORMAT,
            "key": self.key,
            "key_hash": self.hash,
            "count": self.count,
            "shard_size": self.shard_size,
            "dtype": str(self.dtype),
            "dim": self.dim,
            "complete": self.complete,
        }))

    @staticmethod
    def _write_checked(path: Path, data: bytes) -> None:
        """Write ``data`` atomically, then its checksum sidecar."""
        write_bytes(path, data)
        record_checksum(path, checksum_bytes(data))

    def _shape_ok(self, array: np.ndarray, shard: int) -> bool:
        start, stop = self.shard_rows(shard)
        return (
            array.ndim == 2 and array.shape[0] == stop - start and array.dtype == self.dtype
            and (self.dim is None or array.shape[1] == self.dim)
        )

    def has_shard(self, shard: int) -> bool:
        """True when the shard and its checksum exist and its header has the right rows, dtype
        and dim (its bytes are checked when :meth:`load` reads them)."""
        path = self.shard_path(shard)
        if not checksum_path(path).is_file():
            return False
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return False
        return self._shape_ok(array, shard)

    def _read_shard(self, shard: int) -> np.ndarray | None:
        """The shard's rows as a view of its memory map, after checking the mapped bytes against
        their checksum (one pass over the page cache); None when damaged or gone."""
        path = self.shard_path(shard)
        try:
            with open(path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size == 0:
                    return None
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise GclBenchError(f"unreadable embedding cache shard ({err.strerror})", path) from None
        if not checksum_matches(path, mapped):
            return None
        try:
            array = _npy_view(mapped)
        except (ValueError, OSError):
            return None
        return array if self._shape_ok(array, shard) else None

    def missing_shards(self) -> list[int]:
        """The shards to encode; those whose file is there but unusable go to :attr:`damaged`."""
        missing = [shard for shard in range(self.num_shards) if not self.has_shard(shard)]
        self.damaged = [shard for shard in missing if self.shard_path(shard).exists()]
        return missing

    def write_shard(self, shard: int, vectors: np.ndarray) -> None:
        start, stop = self.shard_rows(shard)
        if vectors.shape[0] != stop - start:
            raise ValueError(f"shard {shard} needs {stop - start} rows, got {vectors.shape[0]}")
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(vectors, dtype=self.dtype), allow_pickle=False)
        self._write_checked(self.shard_path(shard), buffer.getvalue())

    def load(self, repair: Callable[[int], np.ndarray] | None = None) -> np.ndarray:
        """All rows as one in-memory array (count, dim); marks the manifest complete.

        Each shard is checked against its checksum as it is read; a damaged one is rebuilt
        with ``repair(shard)`` (its rows, encoded again), written back and listed in
        :attr:`repaired`. Without ``repair`` a damaged shard is an error naming it.
        """
        shards = []
        for shard in range(self.num_shards):
            array = self._read_shard(shard)
            if array is None:
                if repair is None:
                    raise GclBenchError("embedding cache shard does not match its checksum", self.shard_path(shard))
                self.write_shard(shard, repair(shard))
                self.repaired.append(shard)
                array = self._read_shard(shard)
                if array is None:
                    raise GclBenchError("embedding cache shard cannot be written back", self.shard_path(shard))
            shards.append(array)
        dims = {array.shape[1] for array in shards}
        if len(dims) > 1:
            raise GclBenchError(f"embedding cache shards disagree on dimension: {sorted(dims)}", self.path)
        if not shards:
            return np.empty((0, self.dim or 0), dtype=self.dtype)
        vectors = np.concatenate(shards, axis=0) if len(shards) > 1 else np.array(shards[0])
        if not self.complete or self.dim != vectors.shape[1]:
            self.dim = int(vectors.shape[1])
            self.complete = True
            self._write_manifest()
        return vectors

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _npy_view(data: bytes | mmap.mmap) -> np.ndarray:
    """The array in the bytes of a ``.npy`` file, as a read-only view (no copy)."""
    from numpy.lib import format as npy

    stream = io.BytesIO(data[: 1 << 17])  # the header (np.save writes it in the first 64 KiB)
    version = npy.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = npy.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = npy.read_array_header_2_0(stream)
    else:
        return np.load(io.BytesIO(bytes(data)), allow_pickle=False)
    if dtype.hasobject:
        raise ValueError("object arrays are not embeddings")
    count = int(np.prod(shape)) if shape else 1
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
    return flat.reshape(shape, order="F" if fortran else "C")


class MemoryEntry(CacheEntry):
    """A cache entry that lives in memory only (``cache=False``)."""

    persistent = False

    def __init__(self, key: dict[str, Any], shard_size: int) -> None:
        super().__init__(Path("."), key, shard_size)
        self._shards: dict[int, np.ndarray] = {}

    def read_manifest(self) -> bool:
        return False

    def create(self) -> None:
        return None

    def has_shard(self, shard: int) -> bool:
        return shard in self._shards

    def write_shard(self, shard: int, vectors: np.ndarray) -> None:
        self._shards[shard] = np.ascontiguousarray(vectors, dtype=self.dtype)

    def load(self, repair: Callable[[int], np.ndarray] | None = None) -> np.ndarray:
        shards = [self._shards[shard] for shard in range(self.num_shards)]
        if not shards:
            return np.empty((0, 0), dtype=self.dtype)
        return np.concatenate(shards, axis=0) if len(shards) > 1 else shards[0]

    def remove(self) -> None:
        self._shards.clear()


class EmbeddingCache:
    """The embedding cache rooted at ``root`` (default ``cache_dir()/embeddings``)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        if root is None:
            from gcl_bench.config import cache_dir

            root = cache_dir() / "embeddings"
        self.root = Path(root)

    def entry(self, key: dict[str, Any], shard_size: int) -> CacheEntry:
        return CacheEntry(self.root, key, shard_size)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.root)
