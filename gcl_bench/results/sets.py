"""The output set of one evaluation as one unit: written together, checked when read.

``results.json`` is the set's manifest: its ``files`` section records the size and SHA-256 of
every other file of the set (``{"run.json": {"bytes": ..., "sha256": ...}, ...}``; check one by
hand with ``sha256sum``), and it is the last file renamed into place. :func:`write_set`

1. takes an exclusive lock on the folder, so two runs writing one folder take turns;
2. removes the temporary files an interrupted write left there (``.<name>.<random>.tmp``);
3. writes every file of the new set under a temporary name (synced); then, with Ctrl-C held
   back, removes the old results.json, renames the new files into place, removes the files of
   the earlier set that the new one does not have (an old ``run.trec``), and renames
   results.json into place last.

A crash at any moment leaves the old set, the new set, or files without a results.json (no set:
no reader takes them for one, the next write cleans up) — never a results.json beside a file of
another run. Readers check a file of a set against the results.json beside it
(:func:`check_member`): a file that differs from what results.json records, or that it does not
list, is an error naming the file. Names are relative, so a folder copied elsewhere stays a valid
set; a results.json without ``files`` (an older gcl_bench) is read without the check.

An ``--output-dir`` holds what the last run into it wrote: :func:`remove_other_sets` removes the
sets an earlier run left in the folder or in its per-split sub-folders (``--split all``). Only
gcl_bench's own file names are ever removed.

May import: gcl_bench.io, gcl_bench.errors, gcl_bench.data.splits, gcl_bench.results.files.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import orjson

from gcl_bench.data.splits import SPLITS
from gcl_bench.errors import GclBenchError
from gcl_bench.io import (
    deferred_interrupts,
    dumps_json,
    ensure_folder,
    folder_lock,
    sha256_file,
    stage_file,
    sync_folder,
    temp_files_of,
    writing,
)
from gcl_bench.results.files import MEMBER_NAMES, RESULTS_NAME, SET_NAMES


def file_record(data: bytes) -> dict[str, Any]:
    """What results.json's ``files`` records about one file of the set."""
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_set(folder: str | os.PathLike[str], results: dict[str, Any], members: dict[str, bytes]) -> dict[str, Path]:
    """Write ``members`` (name -> bytes) and results.json (``results`` plus ``files``) as one set.

    Returns the final path of every file written, results.json included. See the module doc.
    """
    unknown = set(members) - set(MEMBER_NAMES)
    if unknown:
        raise ValueError(f"not files of an output set: {sorted(unknown)}")
    folder = ensure_folder(folder)
    manifest = dumps_json({**results, "files": {name: file_record(data) for name, data in members.items()}})
    with folder_lock(folder):
        _unlink(temp_files_of(folder, SET_NAMES))
        try:
            staged = {name: stage_file(folder, name, data) for name, data in members.items()}
            staged_results = stage_file(folder, RESULTS_NAME, manifest)
            with deferred_interrupts(), writing(folder):
                _unlink([folder / RESULTS_NAME])
                for name, tmp in staged.items():
                    os.replace(tmp, folder / name)
                _unlink([folder / name for name in MEMBER_NAMES if name not in members])
                os.replace(staged_results, folder / RESULTS_NAME)
        except BaseException:
            _unlink(temp_files_of(folder, SET_NAMES))
            raise
        sync_folder(folder)
    return {name: folder / name for name in (*members, RESULTS_NAME)}


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def check_member(path: str | os.PathLike[str]) -> None:
    """Refuse a file of an output set that is not the one the results.json beside it records.

    Files with other names than the set's, and files beside no results.json or beside one
    without ``files``, pass unchecked.
    """
    path = Path(path)
    manifest = path.parent / RESULTS_NAME
    if path.name not in MEMBER_NAMES or not manifest.is_file():
        return
    try:
        data = orjson.loads(manifest.read_bytes())
    except (OSError, orjson.JSONDecodeError) as err:
        raise GclBenchError(f"cannot check this file: the {RESULTS_NAME} beside it is unreadable ({err})", path) from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return
    record = files.get(path.name)
    if not isinstance(record, dict):
        raise GclBenchError(
            f"is not part of the output set that {RESULTS_NAME} beside it describes (a file an "
            "earlier run left?); delete it, or copy it elsewhere to use it on its own",
            path,
        )
    if path.stat().st_size != record.get("bytes") or sha256_file(path) != record.get("sha256"):
        raise GclBenchError(
            f"is not the file that {RESULTS_NAME} beside it was written with (changed since, or "
            "from another run); re-run the evaluation into this folder, or copy the file elsewhere "
            "to use it as it is",
            path,
        )


def refuse_overwriting(path: str | os.PathLike[str], option: str) -> None:
    """Refuse ``option``'s destination when it is a file of an output set (a table written over
    results.json, per-query values over per_query.csv would leave a broken set)."""
    path = Path(path)
    if path.name in SET_NAMES and (path.parent / RESULTS_NAME).is_file():
        raise GclBenchError(f"{option} would overwrite a file of the output set in {path.parent}; choose "
                            "another name", path)


def has_set(folder: Path) -> bool:
    """Whether ``folder`` holds any file of an output set (or a leftover of writing one)."""
    return folder.is_dir() and (
        any((folder / name).is_file() for name in SET_NAMES) or bool(temp_files_of(folder, SET_NAMES))
    )


def remove_set(folder: str | os.PathLike[str]) -> bool:
    """Remove the output set in ``folder`` (gcl_bench's file names only, results.json first);
    the folder too when nothing else is left in it. Returns whether there was a set."""
    folder = Path(folder)
    if not has_set(folder):
        return False
    with folder_lock(folder), deferred_interrupts(), writing(folder):
        _unlink([folder / RESULTS_NAME, *(folder / name for name in MEMBER_NAMES)])
        _unlink(temp_files_of(folder, SET_NAMES))
    with contextlib.suppress(OSError):
        folder.rmdir()  # only succeeds when empty
    return True


def remove_other_sets(output_dir: str | os.PathLike[str], written: str | os.PathLike[str]) -> list[Path]:
    """Remove the sets an earlier run left in ``output_dir`` and its per-split sub-folders, all
    but the folder ``written`` (the one this run just wrote); return the folders cleared."""
    output_dir = Path(output_dir)
    keep = Path(written).resolve()
    removed = []
    for folder in (output_dir, *(output_dir / split for split in SPLITS)):
        if folder.resolve() != keep and remove_set(folder):
            removed.append(folder)
    return removed
