"""Structural checks of downloaded files: is this a whole tar archive, a whole checkpoint?

A download whose size and hash are not known in advance (a server that sends no
``Content-Length`` and closes the connection early looks like a finished transfer) is checked by
its format before it gets its final name, and so is an existing file without a recorded size or
hash before it is trusted:

- :data:`TAR_ARCHIVE`: every member header readable, the data of the last member present, and
  the two zero blocks that end every tar archive after it (a tar cut at a member boundary reads
  as a shorter valid archive without them); compressed tars are read to their end (gzip, bzip2
  and xz check their own length and CRC there);
- :data:`CHECKPOINT`: a torch zip checkpoint (``torch.save``'s format: the zip central directory,
  which is written last, and a ``data.pkl`` member) or a ``.safetensors`` file (its header, and a
  size equal to the header's length plus the end of the last tensor).

Each :class:`FileKind` also checks the first bytes of a transfer (:attr:`FileKind.head`), so that
an HTML error page or a tar archive served in place of a checkpoint is refused after a few bytes,
not after the whole file. May import the standard library only.
"""
from __future__ import annotations

import json
import os
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 512
"""How many leading bytes :attr:`FileKind.head` needs (fewer when the file is shorter)."""

_COMPRESSED = {b"\x1f\x8b": "gzip data", b"BZh": "bzip2 data", b"\xfd7zXZ\x00": "xz data"}


@dataclass(frozen=True)
class FileKind:
    """A file format a download must have: ``head(first bytes)`` and ``whole(path)`` return the
    problem in words, or None when the file is of this kind."""

    name: str
    head: Callable[[bytes], str | None]
    whole: Callable[[Path], str | None]


def describe_head(head: bytes) -> str:
    """What the first bytes of a file look like, for messages (``an HTML page``, ``a tar archive``)."""
    text = head.lstrip()[:64].lower()
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text:
        return "an HTML page"
    if text.startswith(b"<"):
        return "an XML/HTML document"
    if text.startswith((b"{", b"[")):
        return "JSON text"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "a tar archive"
    if head.startswith(b"PK\x03\x04"):
        return "a zip file"
    for magic, name in _COMPRESSED.items():
        if head.startswith(magic):
            return name
    return "an unknown format"


# -- tar ---------------------------------------------------------------------------------------------
def _tar_head(head: bytes) -> str | None:
    if (len(head) >= 262 and head[257:262] == b"ustar") or any(head.startswith(m) for m in _COMPRESSED):
        return None
    return f"not a tar archive (it starts like {describe_head(head)})"


def tar_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete tar archive, or None (see the module doc)."""
    try:
        with tarfile.open(path, "r:*") as archive:
            for _ in archive:  # reads every header, seeking over (or decompressing) the data
                pass
            stream = archive.fileobj
            stream.seek(archive.offset)
            end = stream.read(2 * tarfile.BLOCKSIZE)
            while stream.read(1 << 20):  # compressed: reach the end of the stream, checking it
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as err:
        return f"not a complete tar archive ({str(err).splitlines()[0] or type(err).__name__})"
    if end != bytes(2 * tarfile.BLOCKSIZE):
        return "not a complete tar archive (it ends without the end-of-archive blocks: cut short?)"
    return None


# -- checkpoints ---------------------------------------------------------------------------------
def _checkpoint_head(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04") or _safetensors_header_length(head) is not None:
        return None
    return f"not a checkpoint (it starts like {describe_head(head)})"


def _safetensors_header_length(head: bytes) -> int | None:
    """The header length of a safetensors file's first bytes, when they look like one."""
    if len(head) < 9:
        return None
    (length,) = struct.unpack("<Q", head[:8])
    return length if 2 <= length <= 100_000_000 and head[8:9] == b"{" else None


def checkpoint_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete torch zip checkpoint or safetensors file, or None."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    problem = _checkpoint_head(head)
    if problem is not None:
        return problem
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as err:
            return f"not a complete checkpoint (its zip directory is unreadable: {err}; cut short?)"
        if not any(name.endswith("data.pkl") for name in names):
            return "not a torch checkpoint (a zip file without data.pkl)"
        return None
    return _safetensors_problem(path, _safetensors_header_length(head) or 0)


def _safetensors_problem(path: Path, length: int) -> str | None:
    size = os.path.getsize(path)
    if 8 + length > size:
        return f"not a complete safetensors file (its header needs {8 + length} bytes, the file has {size})"
    with open(path, "rb") as handle:
        handle.seek(8)
        try:
            header = json.loads(handle.read(length))
        except (ValueError, UnicodeDecodeError) as err:
            return f"not a safetensors file (unreadable header: {err})"
    ends = [info["data_offsets"][1] for name, info in header.items()
            if name != "__metadata__" and isinstance(info, dict) and "data_offsets" in info]
    expected = 8 + length + max(ends, default=0)
    if size != expected:
        return f"not a complete safetensors file ({size} bytes, its header describes {expected})"
    return None


TAR_ARCHIVE = FileKind("tar archive", _tar_head, tar_problem)
CHECKPOINT = FileKind("checkpoint", _checkpoint_head, checkpoint_problem)
