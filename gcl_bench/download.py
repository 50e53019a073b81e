"""Downloads of model weights and dataset archives: resumable, verified, atomic, safe to unpack.

A download streams into ``<file>.part`` next to its destination. When the transfer breaks, the
next attempt (a retry, or the next run of the command) asks the server for the rest with an HTTP
``Range`` header and appends; a server that ignores ``Range`` restarts it from zero. The finished
file is checked against the size the server announced (``Content-Length`` / ``Content-Range``)
and the expected size and SHA-256 when known, then renamed into place, so the final name only ever
holds a complete, verified file. (The ``.part`` file is the one thing not written through
:mod:`gcl_bench.io`: it must survive a crash to be resumed.) Without a known SHA-256 the file is
also checked by its format (:mod:`gcl_bench.formats`: a tar archive readable to its end, a torch
zip checkpoint or safetensors file complete), since a server that sends no ``Content-Length``
and closes early looks like a finished transfer; the first bytes are checked as soon as they
arrive, so an HTML error page served in place of a checkpoint is refused at once. An existing
file is checked the same way before it is used. Only ``http://`` and ``https://`` URLs are
fetched: a local copy is used by placing it at the destination path.

Without network the error names the URL and the exact path to place the file at by hand;
``GCL_BENCH_OFFLINE=1`` makes every download fail that way without trying.

Archives (:func:`extract_tar`) are checked member by member before anything is written: absolute
names, ``..`` components, links pointing outside the target and device files are refused, and
Python's ``tarfile`` ``data`` filter is applied on top where it exists. Extraction goes into a
staging folder inside the target and is moved into place when complete.
"""
from __future__ import annotations

import contextlib
import http.client
import os
import posixpath
import shutil
import socket
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gcl_bench.config import cache_dir
from gcl_bench.errors import GclBenchError
from gcl_bench.formats import HEAD_BYTES, TAR_ARCHIVE, FileKind
from gcl_bench.io import (
    check_writable,
    ensure_folder,
    sha256_file,
    write_failure,
    write_json,
    writing,
)

#: The released Marqo-GS-10M archives (DESIGN §2), by the name ``gcl-bench download`` uses.
DATASET_ARCHIVES: dict[str, str] = {
    "dataset": "https://marqo-gcl-public.s3.amazonaws.com/v1/marqo-gs-dataset.tar",
    "images": "https://marqo-gcl-public.s3.amazonaws.com/v1/images_archive.tar",
    "wfash-images": "https://marqo-gcl-public.s3.amazonaws.com/v1/images_wfash.tar",
}

USER_AGENT = "gcl-bench (+https://github.com/marqo-ai/GCL)"
CHUNK_SIZE = 1 << 20

Progress = Callable[[int, "int | None"], None]


def weights_dir() -> Path:
    """Where model weights are cached: ``cache_dir()/weights``."""
    return cache_dir() / "weights"


def weights_path(url: str, filename: str | None = None) -> Path:
    """The cache path a weights URL downloads to (its file name under :func:`weights_dir`)."""
    name = filename or posixpath.basename(urllib.request.urlparse(url).path)
    if not name or name in (".", ".."):
        raise GclBenchError(f"cannot tell a file name from URL {url}")
    return weights_dir() / name


def offline() -> bool:
    """True when ``GCL_BENCH_OFFLINE`` is set to a true value."""
    return os.environ.get("GCL_BENCH_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _manual_hint(url: str, dest: Path) -> str:
    return (
        f"download {url} by other means and place it at {dest} (or pass --pretrained PATH / "
        "use a local copy)"
    )


def check_url(url: str, dest: Path) -> None:
    """Refuse a URL that is not ``http://`` or ``https://`` (``file://``, ``ftp://``...)."""
    scheme = urllib.request.urlparse(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise GclBenchError(
            f"cannot download {url}: only http:// and https:// URLs are fetched; to use a local "
            f"copy, place it at {dest}"
        )


def download_file(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    size: int | None = None,
    kind: FileKind | None = None,
    retries: int = 3,
    timeout: float = 30.0,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify it, rename it into place.

    An existing ``dest`` is checked against ``size`` / ``sha256`` (when given) and, without a
    ``sha256``, by its format ``kind`` (:mod:`gcl_bench.formats`), then returned without network
    access. ``retries`` is how many times a broken transfer is resumed within this call. Every
    failure is a :class:`GclBenchError` naming the URL and ``dest``.
    """
    dest = Path(dest).expanduser()
    check_url(url, dest)
    if dest.is_file():
        verify_file(dest, sha256=sha256, size=size, url=url)
        problem = kind.whole(dest) if kind is not None and not sha256 else None
        if problem:
            raise GclBenchError(f"this file is {problem}; delete it to download it again from {url}", dest)
        return dest
    if offline():
        raise GclBenchError(f"offline (GCL_BENCH_OFFLINE is set); {_manual_hint(url, dest)}", dest)
    ensure_folder(check_writable(dest.parent, "the download folder"))
    part = dest.with_name(dest.name + ".part")
    attempts = 0
    while True:
        try:
            total = _fetch_into(url, part, timeout=timeout, progress=progress, chunk_size=chunk_size, kind=kind)
            break
        except _Interrupted as err:
            attempts += 1
            if attempts > retries:
                have = part.stat().st_size if part.exists() else 0
                raise GclBenchError(
                    f"download of {url} interrupted ({err}) after {have} bytes, {retries} resumes "
                    f"failed; run the command again to resume, or {_manual_hint(url, dest)}",
                    dest,
                ) from None
            time.sleep(min(2.0 ** (attempts - 1) * 0.1, 5.0))
    have = part.stat().st_size
    if total is not None and have != total:
        part.unlink(missing_ok=True)
        raise GclBenchError(f"download of {url} has {have} bytes, the server announced {total}", dest)
    try:
        verify_file(part, sha256=sha256, size=size, url=url, shown_path=dest)
        problem = kind.whole(part) if kind is not None and not sha256 else None
        if problem:
            raise GclBenchError(f"the download from {url} is {problem}; it was not kept", dest)
    except GclBenchError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    return dest


class _Interrupted(Exception):
    """A transfer that broke after it started: resumable."""


def _fetch_into(
    url: str, part: Path, *, timeout: float, progress: Progress | None, chunk_size: int,
    kind: FileKind | None = None,
) -> int | None:
    """Append the rest of ``url`` to ``part``; return the full size when the server said it.

    With ``kind``, the first bytes of the file are checked as soon as they are in (a transfer
    of the wrong kind of file is stopped there: the ``.part`` is deleted, GclBenchError)."""
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if start:
        request.add_header("Range", f"bytes={start}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) URLs only
    except urllib.error.HTTPError as err:
        if err.code == 416 and start:  # our .part is already as long as the file (or longer)
            part.unlink(missing_ok=True)
            raise _Interrupted("stale partial file discarded") from None
        raise GclBenchError(f"cannot download {url} (HTTP {err.code} {err.reason}); "
                            f"{_manual_hint(url, _final_of(part))}", _final_of(part)) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", None) or err
        if start and isinstance(reason, (TimeoutError, ConnectionError, socket.timeout)):
            raise _Interrupted(str(reason)) from None
        raise GclBenchError(
            f"cannot reach {url} ({reason}); {_manual_hint(url, _final_of(part))}", _final_of(part)
        ) from None
    with response:
        status = getattr(response, "status", 200)
        total = _announced_total(response, start if status == 206 else 0)
        mode = "ab" if status == 206 else "wb"
        done = start if status == 206 else 0
        head = b"" if kind is not None and done == 0 else None  # None: nothing to check
        with _disk_errors(part), open(part, mode) as handle:
            try:
                while True:
                    try:
                        chunk = response.read(chunk_size)
                    except (OSError, http.client.HTTPException) as err:  # the network, resumable
                        raise _Interrupted(type(err).__name__ + (f": {err}" if str(err) else "")) from None
                    if not chunk:
                        break
                    handle.write(chunk)
                    done += len(chunk)
                    if head is not None and len(head) < HEAD_BYTES:
                        head += chunk[: HEAD_BYTES - len(head)]
                        if len(head) == HEAD_BYTES:
                            _check_head(kind, head, url, part)
                    if progress is not None:
                        progress(done, total)
            finally:
                handle.flush()
                os.fsync(handle.fileno())
        if head is not None and len(head) < HEAD_BYTES:
            _check_head(kind, head, url, part)  # a file shorter than the head
    if total is not None and done < total:
        raise _Interrupted(f"connection closed at {done} of {total} bytes")
    return total


@contextlib.contextmanager
def _disk_errors(part: Path) -> Iterator[None]:
    """A write to ``part`` that fails (full disk) is one line; what was downloaded is kept."""
    try:
        yield
    except OSError as err:
        failure = write_failure(err, part)
        raise GclBenchError(f"{failure.message}; the part downloaded so far is kept: make room and run "
                            "the command again to resume", part) from err


def _check_head(kind: FileKind | None, head: bytes, url: str, part: Path) -> None:
    problem = kind.head(head) if kind is not None else None
    if problem:
        part.unlink(missing_ok=True)
        raise GclBenchError(f"the download from {url} is {problem}; it was not kept", _final_of(part))


def _announced_total(response: Any, offset: int) -> int | None:
    content_range = response.headers.get("Content-Range")
    if content_range and "/" in content_range:
        tail = content_range.rsplit("/", 1)[1].strip()
        if tail.isdigit():
            return int(tail)
    length = response.headers.get("Content-Length")
    if length and length.strip().isdigit():
        return offset + int(length)
    return None


def _final_of(part: Path) -> Path:
    return part.with_name(part.name[: -len(".part")]) if part.name.endswith(".part") else part


def verify_file(
    path: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    url: str | None = None,
    shown_path: Path | None = None,
) -> None:
    """Raise GclBenchError unless ``path`` has the expected ``size`` and ``sha256`` (when given)."""
    shown = shown_path or path
    source = f" downloaded from {url}" if url else ""
    if size is not None:
        actual = path.stat().st_size
        if actual != size:
            raise GclBenchError(
                f"file{source} has {actual} bytes, expected {size}; delete it and download again", shown
            )
    if sha256:
        actual_hash = sha256_file(path)
        if actual_hash.lower() != sha256.lower():
            raise GclBenchError(
                f"file{source} has SHA-256 {actual_hash}, expected {sha256}; delete it and "
                "download again",
                shown,
            )


# -- archives ----------------------------------------------------------------------------------
def check_tar_members(archive: tarfile.TarFile, target: Path, archive_path: Path) -> list[tarfile.TarInfo]:
    """Every member of ``archive``, after refusing any that would land outside ``target``."""
    root = target.resolve()
    members = []
    for member in archive.getmembers():
        name = member.name
        problem = _member_problem(member, root)
        if problem:
            raise GclBenchError(f"unsafe archive member {name!r}: {problem}; nothing extracted", archive_path)
        members.append(member)
    return members


def _member_problem(member: tarfile.TarInfo, root: Path) -> str | None:
    name = member.name
    if not name or "\x00" in name:
        return "empty or invalid name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or os.path.isabs(name):
        return "absolute path"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "'..' in path"
    dest = (root / name).resolve()
    if dest != root and root not in dest.parents:
        return "path outside the target folder"
    if member.isdev() or member.isfifo():
        return "device or FIFO"
    if member.issym() or member.islnk():
        link = member.linkname
        if not link or os.path.isabs(link) or link.startswith(("/", "\\")):
            return f"link to absolute path {link!r}"
        base = (root / name).parent if member.issym() else root
        link_dest = (base / link).resolve()
        if link_dest != root and root not in link_dest.parents:
            return f"link {link!r} points outside the target folder"
    return None


def extract_tar(archive_path: str | os.PathLike[str], to_dir: str | os.PathLike[str]) -> list[str]:
    """Safely unpack a tar archive into ``to_dir``; return the top-level names it created.

    All members are checked first (:func:`check_tar_members`); then the archive is extracted
    into a staging folder inside ``to_dir`` (with tarfile's ``data`` filter when available) and
    its files are moved into place, merging with folders that already exist.
    """
    archive_path = Path(archive_path)
    target = ensure_folder(Path(to_dir).expanduser())
    staging = target / f".{archive_path.name}.extracting"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with tarfile.open(archive_path, "r:*") as archive:
            members = check_tar_members(archive, staging, archive_path)
            staging.mkdir(parents=True)
            if hasattr(tarfile, "data_filter"):
                archive.extractall(staging, members=members, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                archive.extractall(staging, members=members)
    except tarfile.TarError as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, tarfile.FilterError):
            raise GclBenchError(f"unsafe archive member refused ({err}); nothing extracted", archive_path) from None
        raise GclBenchError(f"not a readable tar archive ({err})", archive_path) from None
    except OSError as err:  # a full disk, a folder that cannot be written
        shutil.rmtree(staging, ignore_errors=True)
        raise write_failure(err, target) from err
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    top_level = sorted(item.name for item in staging.iterdir())
    with writing(target):
        _merge_move(staging, target)
    shutil.rmtree(staging, ignore_errors=True)
    return top_level


def _merge_move(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        final = dst / item.name
        if item.is_dir() and not item.is_symlink() and final.is_dir() and not final.is_symlink():
            _merge_move(item, final)
        else:
            if final.is_dir() and not final.is_symlink():
                shutil.rmtree(final)
            os.replace(item, final)


def download_archive(
    kind: str,
    to_dir: str | os.PathLike[str],
    *,
    keep_archive: bool = False,
    url: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Download one of :data:`DATASET_ARCHIVES` into ``to_dir`` and unpack it there.

    The archive is kept as ``to_dir/<name>.tar`` while downloading (resumable), deleted after a
    successful extraction unless ``keep_archive``. A marker file records a finished extraction so
    a second call does nothing. Returns ``{"url", "archive", "extracted", "skipped"}``.
    """
    if kind not in DATASET_ARCHIVES and url is None:
        raise GclBenchError(f"unknown archive {kind!r} (valid: {', '.join(DATASET_ARCHIVES)})")
    url = url or DATASET_ARCHIVES[kind]
    target = Path(to_dir).expanduser()
    name = posixpath.basename(urllib.request.urlparse(url).path) or f"{kind}.tar"
    archive = target / name
    marker = target / f".{name}.extracted"
    if marker.exists():
        return {"url": url, "archive": str(archive), "extracted": [], "skipped": True}
    download_file(url, archive, progress=progress, kind=TAR_ARCHIVE)
    extracted = extract_tar(archive, target)
    write_json(marker, {"url": url, "extracted": extracted})
    if not keep_archive:
        with contextlib.suppress(FileNotFoundError):
            archive.unlink()
    return {"url": url, "archive": str(archive), "extracted": extracted, "skipped": False}
