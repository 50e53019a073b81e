"""Atomic file writing, destination checks, checksums and small file helpers.

Every file gcl_bench writes goes to a temporary name in the same folder (``.<name>.<random>.tmp``)
and is renamed into place, so a crash or a Ctrl-C never leaves a half-written file under the
final name. Temporary files and folders are created with the user's umask (as ``open`` would
create them), never with :func:`tempfile.mkstemp`'s 0600. A write that fails (a read-only or
impossible path, a full disk) raises :class:`~gcl_bench.errors.GclBenchError` naming the path and
the reason, and its temporary file is removed; :func:`check_writable` asks the same question
before a long computation starts.

Cache files carry a checksum (:func:`checksum_bytes`, xxh3-64: about 17 GB/s, ten times SHA-256)
in a sidecar file ``<name>.xxh3`` (:func:`record_checksum`, :func:`checksum_matches`), so a cache
file that was changed on disk is noticed and rebuilt, never used.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import signal
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import xxhash

from gcl_bench.errors import GclBenchError

TEMP_SUFFIX = ".tmp"
CHECKSUM_SUFFIX = ".xxh3"
_CHECKSUM_PREFIX = "xxh3_64:"


# -- where a write fails -------------------------------------------------------------------------
def write_failure(err: OSError, path: str | os.PathLike[str]) -> GclBenchError:
    """The one-line error for a write to ``path`` that raised ``err`` (with a hint for the cache)."""
    reason = err.strerror or type(err).__name__
    if err.errno in (errno.EEXIST, errno.ENOTDIR):
        reason = "a part of this path is a file, not a folder"
    message = f"cannot write here ({reason})"
    if _in_cache(Path(path)):
        message += "; set GCL_BENCH_CACHE to a writable folder"
    return GclBenchError(message, path)


def _in_cache(path: Path) -> bool:
    from gcl_bench.config import cache_dir

    try:
        root = cache_dir().absolute()
        return path.absolute() == root or root in path.absolute().parents
    except OSError:  # pragma: no cover - an unreadable working directory
        return False


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an OSError raised inside the block into the one-line error naming ``path``."""
    try:
        yield
    except OSError as err:
        raise write_failure(err, path) from err


def ensure_folder(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` (and its parents) if needed; a file in the way is a one-line error."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise GclBenchError("is a file, not a folder", folder)
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_writable(folder: str | os.PathLike[str], what: str = "output folder") -> Path:
    """Check, without creating it, that ``folder`` could be created and written; return it.

    The nearest folder that exists must be a folder (not a file, not a broken link) in which a
    file can be created: a temporary file is created there and removed at once. ``what`` names
    the option in the error (``--output-dir``).
    """
    folder = Path(folder).expanduser()
    if folder.is_symlink() and not folder.exists():
        raise GclBenchError(f"{what} is a symbolic link to a missing folder ({os.readlink(folder)})", folder)
    if folder.exists() and not folder.is_dir():
        raise GclBenchError(f"{what} is a file, not a folder", folder)
    existing = folder
    while not existing.exists():
        if existing.is_symlink():
            raise GclBenchError(f"{what} goes through a broken symbolic link", existing)
        existing = existing.parent
    if not existing.is_dir():
        raise GclBenchError(f"{what} cannot be created: {existing} is a file, not a folder", folder)
    try:
        fd, probe = _create_temp(existing, ".gcl-bench-probe")
    except OSError as err:
        raise GclBenchError(f"{what} is not writable ({err.strerror or type(err).__name__})", folder) from None
    os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        probe.unlink()
    return folder


# -- temporary names ------------------------------------------------------------------------------
def _create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """Create ``folder/.<name>.<random>.tmp`` exclusively, mode 0666 less the umask; (fd, path)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        path = folder / f".{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:  # pragma: no cover - a 32-bit random collision
            continue


def make_temp_dir(parent: str | os.PathLike[str], name: str, suffix: str = TEMP_SUFFIX) -> Path:
    """Create ``parent/.<name>.<random><suffix>/`` with the user's umask (mode 0777 less it)."""
    parent = ensure_folder(parent)
    while True:
        path = parent / f".{name}.{secrets.token_hex(4)}{suffix}"
        try:
            with writing(parent):
                os.mkdir(path, 0o777)
            return path
        except GclBenchError as err:
            if isinstance(err.__cause__, FileExistsError):  # pragma: no cover - a collision
                continue
            raise


def temp_files_of(folder: str | os.PathLike[str], names: tuple[str, ...] | list[str]) -> list[Path]:
    """The temporary files an interrupted write of any of ``names`` (glob patterns allowed) left
    in ``folder``."""
    folder = Path(folder)
    found = []
    for name in names:
        found.extend(p for p in folder.glob(f".{name}.*{TEMP_SUFFIX}") if p.is_file())
    return sorted(found)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``, else delete it.

    An OSError raised while writing or renaming (read-only folder, full disk...) becomes one
    GclBenchError naming ``path``; the temporary file is removed in every failing case.
    """
    final = Path(path)
    ensure_folder(final.parent)
    with writing(final):
        fd, tmp = _create_temp(final.parent, final.name)
    os.close(fd)
    with _removed_on_failure(tmp), writing(final):
        yield tmp
        os.replace(tmp, final)


@contextlib.contextmanager
def _removed_on_failure(tmp: Path) -> Iterator[None]:
    """Delete the temporary file ``tmp`` when the block fails in any way (Ctrl-C included)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    final = Path(path)
    tmp = stage_file(ensure_folder(final.parent), final.name, data)
    with _removed_on_failure(tmp), writing(final):
        os.replace(tmp, final)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def stage_file(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a new temporary file for ``folder/name`` (synced); the caller renames it."""
    final = folder / name
    with writing(final):
        fd, tmp = _create_temp(folder, name)
    with _removed_on_failure(tmp), writing(final), os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """fsync a folder, so the renames in it survive a power cut (a no-op where unsupported)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (flock on the folder itself: no lock file is left).

    Two processes writing the same folder at once take turns. A no-op where ``fcntl`` is missing.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) and SIGTERM until the block is done, then deliver them.

    For the few renames that turn a set of staged files into the new output set. Only the main
    thread can handle signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


# -- JSON --------------------------------------------------------------------------------------------
def dumps_json(obj: Any, indent: bool = True) -> bytes:
    """Serialise ``obj`` with orjson (numpy arrays and scalars allowed); floats keep full precision."""
    option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    if indent:
        option |= orjson.OPT_INDENT_2
    return orjson.dumps(obj, option=option) + (b"\n" if indent else b"")


def write_json(path: str | os.PathLike[str], obj: Any, indent: bool = True) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    write_bytes(path, dumps_json(obj, indent=indent))


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file (gzip and a UTF-8 BOM accepted); a missing or malformed file raises
    GclBenchError naming it."""
    from gcl_bench.inputs import read_input

    data = read_input(path)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise GclBenchError(f"malformed JSON ({err})", path) from None


# -- checksums ---------------------------------------------------------------------------------------
def _digest_file(path: str | os.PathLike[str], digest: Any, chunk_size: int) -> str:
    """``digest`` (hashlib or xxhash) fed with a file's content in chunks; its hex digest."""
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def hash_texts(texts: Sequence[str]) -> str:
    """SHA-256 of an ordered list of strings (length-prefixed, so no two lists collide by joining).

    A column backed by an Arrow string array (``texts.arrow``, as the data layer's columns have) is
    hashed from its buffers, with the same digest and no Python string made; a null counts as ``""``."""
    import numpy as np

    arrow = getattr(texts, "arrow", None)
    if arrow is not None:
        if arrow.null_count:
            import pyarrow.compute as pc

            arrow = pc.fill_null(arrow, "")
        digest = _hash_arrow_strings(arrow)
        if digest is not None:
            return digest
    encoded = [text.encode("utf-8") for text in texts]
    digest = hashlib.sha256(b"texts\0")
    digest.update(np.fromiter((len(item) for item in encoded), dtype=np.int64, count=len(encoded)).tobytes())
    digest.update(b"".join(encoded))
    return digest.hexdigest()


def _hash_arrow_strings(arrow: Any) -> str | None:
    """:func:`hash_texts` of an Arrow (chunked) string array without nulls, read from its offset
    and data buffers; None for another type."""
    import numpy as np
    import pyarrow as pa

    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    pieces = []
    for chunk in chunks:
        if pa.types.is_string(chunk.type) or pa.types.is_binary(chunk.type):
            offset_type = np.int32
        elif pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type):
            offset_type = np.int64
        else:
            return None
        _validity, offsets_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[chunk.offset: chunk.offset + len(chunk) + 1]
        data = memoryview(data_buffer)[offsets[0]: offsets[-1]] if data_buffer is not None and len(chunk) else b""
        pieces.append((np.diff(offsets).astype(np.int64), data))
    digest = hashlib.sha256(b"texts\0")
    for lengths, _data in pieces:
        digest.update(lengths.tobytes())
    for _lengths, data in pieces:
        digest.update(data)
    return digest.hexdigest()


def key_hash(key: dict[str, Any]) -> str:
    """SHA-256 of a cache key's canonical JSON (sorted keys): the name of its cache entry."""
    return hashlib.sha256(orjson.dumps(key, option=orjson.OPT_SORT_KEYS)).hexdigest()


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    return _digest_file(path, hashlib.sha256(), chunk_size)


def checksum_bytes(data: bytes | bytearray | memoryview) -> str:
    """The cache checksum of ``data``: ``"xxh3_64:<16 hex digits>"``."""
    return _CHECKSUM_PREFIX + xxhash.xxh3_64_hexdigest(data)


def checksum_file(path: str | os.PathLike[str], chunk_size: int = 1 << 24) -> str:
    """:func:`checksum_bytes` of a file's content, read in chunks."""
    return _CHECKSUM_PREFIX + _digest_file(path, xxhash.xxh3_64(), chunk_size)


def checksum_path(path: str | os.PathLike[str]) -> Path:
    """The sidecar that holds the checksum of ``path``: ``<path>.xxh3``."""
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def record_checksum(path: str | os.PathLike[str], checksum: str | None = None) -> None:
    """Write the checksum of ``path`` (given, or computed from the file) into its sidecar."""
    write_text(checksum_path(path), (checksum or checksum_file(path)) + "\n")


def checksum_matches(path: str | os.PathLike[str], data: bytes | bytearray | memoryview | None = None) -> bool:
    """Whether ``path`` (or ``data``, its content already read) has the checksum its sidecar holds.

    A missing or unreadable sidecar is a mismatch: a cache file is trusted only when its
    checksum was recorded when it was made.
    """
    try:
        recorded = checksum_path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    try:
        actual = checksum_bytes(data) if data is not None else checksum_file(path)
    except OSError:
        return False
    return actual == recorded
