"""A local Hugging Face Hub cache for tests, in huggingface_hub's own layout.

``<cache>/<type>s--<org>--<name>/`` holds ``blobs/<sha256>`` (file contents), ``refs/<branch>``
(the commit a branch or tag points at) and ``snapshots/<commit>/<path>`` (relative symlinks to the
blobs), which is what ``snapshot_download`` / ``hf_hub_download`` read with ``HF_HUB_OFFLINE=1``.
:func:`use_hub_cache` points the environment at such a folder and turns the network off.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest


def repo_folder(cache: Path, repo_id: str, repo_type: str = "model") -> Path:
    return cache / f"{repo_type}s--{repo_id.replace('/', '--')}"


def commit_sha(label: str) -> str:
    """A 40-hex commit id made from a label (the Hub's commit ids are 40 hex digits)."""
    return hashlib.sha1(label.encode()).hexdigest()


def put_file(cache: Path, repo_id: str, commit: str, path: str, data: bytes, repo_type: str = "model") -> Path:
    """Store ``data`` as ``path`` of ``repo_id`` at ``commit``; returns the snapshot path."""
    root = repo_folder(cache, repo_id, repo_type)
    blob = root / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    link = root / "snapshots" / commit / path
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(blob, link.parent))
    return link


def put_ref(cache: Path, repo_id: str, ref: str, commit: str, repo_type: str = "model") -> None:
    """Point branch or tag ``ref`` of ``repo_id`` at ``commit``."""
    path = repo_folder(cache, repo_id, repo_type) / "refs" / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(commit)


def use_hub_cache(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """Make ``cache`` the Hugging Face cache of this test, with no network (HF_HUB_OFFLINE=1)."""
    from huggingface_hub import constants

    cache.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # huggingface_hub reads both at import; libraries that call it without a cache folder
    # (open_clip's tokenizer, transformers) see the module constants
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
