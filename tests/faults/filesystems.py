"""Hostile file systems for the fault suite: a read-only folder, a disk that fills up, a tiny tmpfs.

- :func:`read_only_folder`: chmod 0555, and ``chattr +i`` where modes do not stop this user (root);
  the case is skipped only where neither can make a folder read-only;
- :func:`disk_full_under`: every ``fsync`` of a file under a folder fails with ENOSPC once
  ``allowed`` files there were synced (gcl_bench syncs each file before renaming it, so this is
  where a full disk is seen last); the fault is the kernel's error number and message;
- :func:`run_on_tiny_tmpfs`: ``gcl-bench`` in a new process with a tmpfs of a few KiB mounted at a
  folder (a real ENOSPC), in a user+mount namespace; skipped where ``unshare`` cannot do that.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _can_create_in(folder: Path) -> bool:
    probe = folder / f".probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
    except OSError:
        return False
    probe.unlink()
    return True


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """``folder`` (created if needed) made read-only for the block, then writable again."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    immutable = False
    if _can_create_in(folder) and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    try:
        if _can_create_in(folder):
            pytest.skip("this user can write into any folder and cannot set the immutable flag")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        folder.chmod(0o755)


@contextlib.contextmanager
def disk_full_under(folder: Path, allowed: int = 0) -> Iterator[list[str]]:
    """For the block, ``os.fsync`` of files under ``folder`` fails with ENOSPC once ``allowed``
    succeeded; yields the list of paths whose sync failed (filled as it happens)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _fill_disk_under(monkeypatch, folder, allowed)


def _fill_disk_under(monkeypatch: pytest.MonkeyPatch, folder: Path, allowed: int) -> list[str]:
    real_fsync = os.fsync
    root = str(folder.resolve())
    synced: list[str] = []
    failed: list[str] = []

    def fsync(fd: int) -> None:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if target.startswith(root + os.sep) and os.path.isfile(target):
            if len(synced) >= allowed:
                failed.append(target)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            synced.append(target)
        real_fsync(fd)

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("no /proc/self/fd to tell which file is synced")
    monkeypatch.setattr(os, "fsync", fsync)
    return failed


def run_on_tiny_tmpfs(mount_point: Path, args: list[str], size: str = "4k") -> tuple[int, list[str]]:
    """``gcl-bench ARGS`` in a new process with a ``size`` tmpfs mounted at ``mount_point`` (created
    here); its exit code and non-blank stderr lines. Skips the case where this machine cannot mount
    one without privileges; a traceback fails it."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
        pytest.skip("unshare cannot mount a tmpfs on this machine")
    mount_point.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "gcl_bench", *map(str, args)]
    script = (f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(mount_point))} && exec "
              + " ".join(shlex.quote(part) for part in command))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], env=env, capture_output=True, text=True,
                          timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, [line for line in done.stderr.splitlines() if line.strip()]
