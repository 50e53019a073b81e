"""Atomic file writing and small file helpers.

Every file gcl_bench writes goes to a temporary name in the same folder and is renamed into
place, so a crash or a Ctrl-C never leaves a half-written file under the final name.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``, else delete it."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


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
    """Read a JSON file; a missing or malformed file raises GclBenchError naming it."""
    from gcl_bench.errors import GclBenchError

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise GclBenchError("file not found", path) from None
    except OSError as err:
        raise GclBenchError(f"cannot read file ({err.strerror})", path) from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise GclBenchError(f"malformed JSON ({err})", path) from None


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def write_files(folder: str | os.PathLike[str], payloads: dict[str, bytes]) -> dict[str, Path]:
    """Write several files into ``folder`` as one step: all complete, or none renamed into place.

    Every payload is written to a temporary name first; only when all are on disk are they
    renamed (in the order given, so put the file readers look for first, e.g. results.json, last).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, data in payloads.items():
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            staged.append((Path(tmp_name), folder / name))
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    return {final.name: final for _, final in staged}
