"""Reading input files: gzip transparently, a UTF-8 byte order mark skipped, bad bytes named.

Every input file gcl_bench reads (judgements, runs, queries, corpora, CSVs) goes through
:func:`open_input` / :func:`read_input` / :func:`text_lines`: gzip is recognised by its magic
bytes, whatever the file's name; a UTF-8 byte order mark, which spreadsheets write, is skipped;
a line that is not UTF-8 is an error naming the file, the line and the byte; a missing file or a
folder where a file belongs is one clear error.

May import: :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from gcl_bench.errors import GclBenchError

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
