"""Image paths: resolve them against the dataset folder or remap them under ``--image-root``.

The released files carry the authors' absolute paths. With ``image_root`` the loader keeps the
part of each path below the common prefix of all paths and looks for it under ``image_root``;
if that finds fewer files on a sample than using a shorter tail (down to the bare file name),
the tail that finds the most wins. Relative paths in the files are taken relative to the
sub-dataset folder (or to ``image_root`` when one is given). No file is rewritten.

Existence is checked once per load with one directory listing per distinct image folder
(``os.scandir``), not one ``stat`` per image, so millions of images cost seconds, not minutes.
The folder mtimes are kept with the cache so that a later load notices when images were
unpacked or removed. Only existence is checked here: a file that exists but cannot be decoded
is the encoder's to report.

May import: pyarrow and numpy only.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SAMPLE_SIZE = 400


@dataclass
class ImageResolution:
    """Resolved image paths (null where the image is absent) and what it took to find them."""

    paths: pa.Array
    missing: int
    dir_state: dict[str, int] = field(default_factory=dict)
    strategy: str = "as_is"


def _dir_and_name(paths: pa.Array) -> tuple[pa.Array, pa.Array]:
    parts = pc.split_pattern(paths, "/", max_splits=1, reverse=True)
    has_dir = pc.fill_null(pc.equal(pc.list_value_length(parts), 2), False)
    dirs = pc.if_else(has_dir, pc.list_element(parts, 0), pa.scalar(".", pa.string()))
    names = pc.if_else(has_dir, pc.list_element(pc.list_slice(parts, 1, 2), 0), paths)
    return dirs, names


def _common_dir(paths: pa.Array) -> str | None:
    """The deepest folder containing every absolute path of ``paths`` (None if some are relative)."""
    if len(paths) == 0 or not pc.all(pc.starts_with(paths, "/")).as_py():
        return None
    lo_hi = pc.min_max(paths)
    common = os.path.commonprefix([lo_hi["min"].as_py(), lo_hi["max"].as_py()])
    return common[: common.rfind("/")] or "/"


def _dir_mtime(directory: str) -> int:
    try:
        return os.stat(directory).st_mtime_ns
    except OSError:
        return -1


def dir_state_changed(dir_state: dict[str, int]) -> bool:
    """True when any image folder recorded at load time changed (mtime) or appeared/disappeared."""
    return any(_dir_mtime(d) != mtime for d, mtime in dir_state.items())


def check_exists(paths: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, dict[str, int]]:
    """Boolean array: which non-null ``paths`` name an existing file; plus each folder's mtime."""
    valid = pc.fill_null(pc.not_equal(paths, ""), False)
    present = pc.filter(paths, valid) if paths.null_count or not pc.all(valid).as_py() else paths
    top = _common_dir(present)
    if top is not None and not os.path.isdir(top):  # e.g. the authors' paths, images not unpacked
        return pa.array(np.zeros(len(paths), dtype=bool)), {top: _dir_mtime(top)}
    dirs, _ = _dir_and_name(present)
    existing: list[str] = []
    state: dict[str, int] = {}
    for directory in pc.unique(dirs).to_pylist():
        state[directory] = _dir_mtime(directory)
        try:
            with os.scandir(directory) as entries:
                prefix = "" if directory == "." else directory + "/"
                existing.extend(prefix + e.name for e in entries if e.is_file())
        except OSError:
            continue
    found = pc.is_in(paths, value_set=pa.array(existing, type=pa.string()))
    return pc.and_(pc.fill_null(found, False), valid), state


def _candidates(raw: pa.Array, image_root: str) -> list[tuple[str, pa.Array]]:
    """Ways of mapping the file's paths under ``image_root``, in order of preference."""
    root = image_root.rstrip("/") + "/"
    absolute = pc.fill_null(pc.starts_with(raw, "/"), False)
    options: list[tuple[str, pa.Array]] = []
    abs_paths = pc.filter(raw, absolute)
    prefix = ""
    if len(abs_paths):
        lo_hi = pc.min_max(abs_paths)
        lo, hi = lo_hi["min"].as_py(), lo_hi["max"].as_py()
        common = os.path.commonprefix([lo, hi])
        prefix = common[: common.rfind("/") + 1]
    stripped = pc.if_else(
        absolute, pc.utf8_slice_codeunits(raw, len(prefix)), pc.replace_substring_regex(raw, r"^(\./)+", "")
    )
    options.append(("relative_to_common_prefix", pc.binary_join_element_wise(root, stripped, "")))
    _, names = _dir_and_name(raw)
    options.append(("file_name", pc.binary_join_element_wise(root, names, "")))
    for depth in (2, 3, 4):
        tail = pc.extract_regex(raw, rf"(?P<tail>(?:[^/]+/){{{depth - 1}}}[^/]+)$")
        tail = pc.struct_field(tail, [0])
        options.append((f"last_{depth}_components", pc.binary_join_element_wise(root, tail, "")))
    return options


def _blank_to_null(raw: pa.Array) -> pa.Array:
    blank = pc.equal(raw, "")
    if not pc.any(blank).as_py():
        return raw
    return pc.if_else(pc.fill_null(blank, True), pa.scalar(None, pa.string()), raw)


def _relative_to(base: str, raw: pa.Array) -> pa.Array:
    """Relative paths of ``raw`` joined to ``base``; absolute ones kept."""
    absolute = pc.fill_null(pc.starts_with(raw, "/"), True)
    if pc.all(absolute).as_py():
        return raw
    if pc.any(pc.starts_with(raw, "./")).as_py():
        raw_rel = pc.replace_substring_regex(raw, r"^(\./)+", "")
    else:
        raw_rel = raw
    return pc.if_else(absolute, raw, pc.binary_join_element_wise(base, raw_rel, ""))


def resolve_images(raw: pa.Array | pa.ChunkedArray, base_dir: Path, image_root: str | os.PathLike[str] | None) -> ImageResolution:
    """Resolve raw image strings from a dataset file to existing paths (null when absent)."""
    raw = _blank_to_null(raw.cast(pa.string()))
    if image_root is None:
        paths = _relative_to(str(Path(base_dir).resolve()).rstrip("/") + "/", raw)
        strategy = "as_is"
    else:
        root = str(Path(image_root).expanduser().resolve())
        options = _candidates(raw, root)
        valid_idx = pc.indices_nonzero(pc.is_valid(raw))
        step = max(1, len(valid_idx) // SAMPLE_SIZE)
        sample_idx = valid_idx[::step][:SAMPLE_SIZE] if len(valid_idx) else valid_idx
        best = (0, 0)
        for i, (_, candidate) in enumerate(options):
            hits, _ = check_exists(pc.take(candidate, sample_idx))
            n_hits = pc.sum(hits).as_py() or 0
            if n_hits > best[1]:
                best = (i, n_hits)
        strategy, paths = options[best[0]]
    exists, state = check_exists(paths)
    found = pc.sum(exists).as_py() or 0
    if found == 0:
        resolved = pa.nulls(len(paths), pa.string())
    elif found == len(paths) - paths.null_count:
        resolved = paths
    else:
        resolved = pc.if_else(exists, paths, pa.scalar(None, pa.string()))
    return ImageResolution(paths=resolved, missing=len(paths) - found, dir_state=state, strategy=strategy)
