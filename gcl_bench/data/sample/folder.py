"""Where the sample is written: a folder of the user's (:func:`write_sample`) or the bundled
default in the cache (:func:`default_sample_dir`), each built under a temporary name and renamed
into place, so a sample folder is complete or absent (folders and files get the user's umask).

May import: :mod:`~gcl_bench.data.sample.generate`, :mod:`gcl_bench.config`,
:mod:`gcl_bench.errors`, :mod:`gcl_bench.io`.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from gcl_bench.config import cache_dir
from gcl_bench.data.sample.generate import INFO_FILE, SAMPLE_VERSION, check_sizes, generate
from gcl_bench.errors import GclBenchError
from gcl_bench.io import make_temp_dir

DEFAULT_PRODUCTS = 2000
DEFAULT_QUERIES = 500
DEFAULT_SEED = 0
DEFAULT_IMAGE_SIZE = 32


def _staging_dir(final: Path) -> Path:
    return make_temp_dir(final.parent, final.name)


def write_sample(
    out_dir: str | os.PathLike[str],
    products: int = DEFAULT_PRODUCTS,
    queries: int = DEFAULT_QUERIES,
    seed: int = DEFAULT_SEED,
    image_size: int = DEFAULT_IMAGE_SIZE,
    *,
    overwrite: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Write one sample sub-dataset folder (Marqo-GS layout) at ``out_dir`` and return its path.

    The folder is built under a temporary name next to ``out_dir`` and renamed into place, so it
    is either complete or absent. An existing non-empty ``out_dir`` is refused
    (:class:`GclBenchError`) unless ``overwrite`` is true, in which case it is replaced.
    Same arguments, same bytes. ``progress(step, done, total)`` follows the build.
    """
    final = Path(out_dir)
    check_sizes(products, queries, image_size)
    if final.exists() and not final.is_dir():
        raise GclBenchError("exists and is not a folder", final)
    if final.is_dir() and any(final.iterdir()) and not overwrite:
        raise GclBenchError("folder is not empty (use --force to replace it)", final)

    staging = _staging_dir(final)
    try:
        generate(staging, products, queries, seed, image_size, progress)
        if final.is_dir() and any(final.iterdir()):
            trash = make_temp_dir(final.parent, final.name, suffix=".old")
            os.replace(final, trash / "old")
            os.replace(staging, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, final)  # replaces an empty folder too
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def default_sample_dir(progress: Callable[[str, int, int], None] | None = None) -> Path:
    """The bundled default sample, built on first use under ``cache_dir()/sample/<version>``.

    ``progress(step, done, total)`` follows the build (see :func:`generate`).

    Built in a temporary folder and renamed into place, so a half-built sample is never seen;
    when two processes race, the first rename wins and the other's copy is discarded.
    """
    final = cache_dir() / "sample" / SAMPLE_VERSION
    if (final / INFO_FILE).is_file():
        return final
    staging = _staging_dir(final)
    try:
        generate(staging, DEFAULT_PRODUCTS, DEFAULT_QUERIES, DEFAULT_SEED, DEFAULT_IMAGE_SIZE, progress)
        try:
            os.rename(staging, final)
        except OSError:
            if not (final / INFO_FILE).is_file():  # not another process's finished copy
                raise GclBenchError("the cached sample folder is incomplete; remove it and "
                                    "run again", final) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)
    return final
