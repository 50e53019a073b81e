"""Atomic file writing and small file helpers.

Every file gcl_bench writes goes to a temporary name in the same folder and is renamed into
place, so a crash or a Ctrl-C never leaves a half-written file under the final name.
Every input file is read through :func:`open_input` / :func:`read_input` / :func:`text_lines`:
gzip is read transparently (recognised by its magic bytes, whatever the name) and a UTF-8 byte
order mark, which spreadsheets write, is skipped.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

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
    """Read a JSON file (gzip and a UTF-8 BOM accepted); a missing or malformed file raises
    GclBenchError naming it."""
    from gcl_bench.errors import GclBenchError

    data = read_input(path)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise GclBenchError(f"malformed JSON ({err})", path) from None


# -- input files: gzip read transparently, a UTF-8 byte order mark skipped ----------------------
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"


def is_gzip(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts with the gzip magic bytes (whatever its name)."""
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """Open an input file for reading bytes: gunzipped when it is gzip, past a UTF-8 BOM.

    A missing file, a folder, or an unreadable file raises GclBenchError naming it.
    """
    from gcl_bench.errors import GclBenchError

    try:
        handle: BinaryIO = open(path, "rb")
        if handle.read(2) == GZIP_MAGIC:
            handle.seek(0)
            handle = gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[assignment]
        else:
            handle.seek(0)
        if handle.read(3) != UTF8_BOM:
            handle.seek(0)
        return handle
    except FileNotFoundError:
        raise GclBenchError("file not found", path) from None
    except IsADirectoryError:
        raise GclBenchError("is a folder, expected a file", path) from None
    except (OSError, EOFError) as err:
        raise GclBenchError(f"cannot read file ({_reason(err)})", path) from None


def _reason(err: BaseException) -> str:
    if isinstance(err, (gzip.BadGzipFile, EOFError, zlib.error)):
        return f"damaged gzip data: {err}" if str(err) else "damaged gzip data"
    return getattr(err, "strerror", None) or str(err) or type(err).__name__


def read_input(path: str | os.PathLike[str]) -> bytes:
    """The bytes of an input file: gunzipped when it is gzip, without a leading UTF-8 BOM."""
    from gcl_bench.errors import GclBenchError

    handle = open_input(path)
    try:
        with handle:
            return handle.read()
    except (OSError, EOFError, zlib.error) as err:
        raise GclBenchError(f"cannot read file ({_reason(err)})", path) from None


def text_lines(path: str | os.PathLike[str]) -> Iterator[str]:
    """The lines of a UTF-8 text input file (gzip and a BOM accepted), line ends kept.

    A line that is not UTF-8 raises GclBenchError naming the file, the line and the byte.
    """
    from gcl_bench.errors import GclBenchError

    handle = open_input(path)
    with handle:
        number = 0
        try:
            for number, raw in enumerate(handle, start=1):  # noqa: B007 - the count names the line
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    byte = raw[err.start : err.start + 1].hex()
                    raise GclBenchError(
                        f"line {number} is not UTF-8 text (byte 0x{byte} at column {err.start + 1}); "
                        "save the file as UTF-8",
                        path,
                    ) from None
        except (OSError, EOFError, zlib.error) as err:
            raise GclBenchError(f"cannot read file after line {number} ({_reason(err)})", path) from None


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
