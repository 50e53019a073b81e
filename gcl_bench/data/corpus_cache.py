"""The documents of a split as Arrow columns, through the columnar corpus cache.

A :class:`CorpusSource` says where a corpus comes from (its files, the reader that parses them,
the folder relative image paths start from); :func:`load_corpus` returns its :class:`Corpus`:
from the cache when the files are unchanged (image existence checked again only when an image
folder changed), else parsed, checked (ids unique, at least one document), images resolved and
stored. Splits that share a corpus file share the entry.

May import: the corpus readers (:mod:`~gcl_bench.data.corpus`, :mod:`~gcl_bench.data.hf`),
:mod:`~gcl_bench.data.cache`, :mod:`~gcl_bench.data.images`, :mod:`~gcl_bench.data.files`,
:mod:`gcl_bench.io`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from gcl_bench.data import cache
from gcl_bench.data import hf as hf_format
from gcl_bench.data.corpus import (
    ByteProgress,
    check_unique_ids,
    read_corpus_json,
    read_corpus_jsonl,
)
from gcl_bench.data.files import BeirFiles, MarqoFiles
from gcl_bench.data.images import dir_state_changed, resolve_images
from gcl_bench.errors import GclBenchError

PathLike = str | os.PathLike[str]

READER_RULES = 2
"""Part of every load-cache key: bumped when a reader starts to refuse or report input an earlier
version accepted silently (repeated keys, lossy ids), so entries such a version made are not reused."""


@dataclass
class Corpus:
    """Documents as Arrow columns (``doc_id``, ``title``, ``image``, ``image_raw``, and ``text``
    for BEIR folders) plus counts."""

    table: pa.Table
    info: dict[str, Any]


@dataclass
class CorpusSource:
    """Where a corpus comes from: ``reader(progress)`` parses ``files`` into ``doc_id``, ``title``,
    ``image_raw`` columns; relative image paths start at ``base_dir``; errors name ``label``;
    ``ids_checked``: the reader already rejects repeated ids."""

    files: list[Path]
    reader: Callable[[ByteProgress | None], pa.Table]
    base_dir: Path
    label: Path
    ids_checked: bool = False
    columns: str | None = None
    """Names the reader's columns in the cache key when they differ from Marqo-GS's (BEIR: ``title+text``)."""


def marqo_corpus(files: MarqoFiles) -> CorpusSource:
    """The corpus JSON of a Marqo-GS split."""
    path = files.corpus
    return CorpusSource([path], lambda progress: read_corpus_json(path, progress=progress), files.folder, path,
                        ids_checked=True)


def hf_corpus(folder: Path, parquet: list[Path], rows: Callable[[], pa.Table]) -> CorpusSource:
    """The products of a Hugging Face split's rows (``rows`` gives them, read once by the caller)."""
    return CorpusSource(list(parquet), lambda progress: hf_format.read_corpus(parquet, rows()), folder, parquet[0])


def beir_corpus(files: BeirFiles) -> CorpusSource:
    """The ``corpus.jsonl`` of a BEIR folder."""
    path = files.corpus
    return CorpusSource([path], lambda progress: read_corpus_jsonl(path), files.folder, path, columns="title+text")


def image_root_key(image_root: PathLike | None) -> str | None:
    """``image_root`` as it enters cache keys and ``meta``: resolved, or None."""
    return None if image_root is None else str(Path(image_root).expanduser().resolve())


def _mib(count: int) -> int:
    """Bytes in MiB, rounded up (so a finished small file reads 1/1, not 0/0)."""
    return (count + (1 << 20) - 1) >> 20


def _finish_corpus(raw: pa.Table, base_dir: Path, image_root: PathLike | None, label: Path, check_ids: bool = True) -> Corpus:
    if raw.num_rows == 0:
        raise GclBenchError("empty corpus (no products)", label)
    if check_ids:
        check_unique_ids(raw["doc_id"], label)
    images = resolve_images(raw["image_raw"], base_dir, image_root)
    titles = pc.fill_null(raw["title"], "")
    empty = pc.equal(pc.utf8_trim_whitespace(titles), "")
    columns = {"doc_id": raw["doc_id"], "title": titles}
    no_text, with_text = empty, 0
    if "text" in raw.column_names:  # BEIR documents have a body beside the title
        columns["text"] = pc.fill_null(raw["text"], "")
        empty_text = pc.equal(pc.utf8_trim_whitespace(columns["text"]), "")
        no_text = pc.and_(empty, empty_text)
        with_text = len(empty_text) - (pc.sum(empty_text).as_py() or 0)
    no_fields = pc.filter(raw["doc_id"], pc.and_(no_text, pc.is_null(images.paths)))
    table = pa.table({**columns, "image": images.paths, "image_raw": raw["image_raw"]})
    info = {
        "num_documents": table.num_rows,
        "missing_images": images.missing,
        "empty_titles": pc.sum(empty).as_py() or 0,
        "docs_without_fields": no_fields.to_pylist(),
        "documents_with_text": with_text,
        "dir_state": images.dir_state,
        "image_strategy": images.strategy,
    }
    return Corpus(table, info)


def load_corpus(
    source: CorpusSource, image_root: PathLike | None, use_cache: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> Corpus:
    """Load the corpus of ``source`` through the cache (``use_cache=False``: parse, store nothing).

    ``progress(f"parse {file name} (MiB)", done, total)`` follows a parse that reports its bytes.

    ``info["cache"]`` says what happened: ``hit``, ``images_rechecked``, ``miss``, ``off``, or
    ``rebuilt`` when a file of the entry did not match its checksum (``info["cache_damaged"]``
    names it).
    """
    key = cache.entry_key(
        "corpus",
        files=[cache.file_identity(p) for p in source.files],
        image_root=image_root_key(image_root),
        base=str(source.base_dir.resolve()),
        **({"columns": source.columns} if source.columns else {}),
        rules=READER_RULES,
    )
    entry = cache.entry_dir("corpus", key)
    damaged: Path | None = None
    if use_cache:
        try:
            info = cache.read_entry_json(entry / "corpus.json")
            table = cache.read_table(entry / "docs.arrow") if info is not None and (entry / "docs.arrow").is_file() else None
        except cache.DamagedEntry as err:
            table, damaged = None, err.path
        if table is not None:
            if not dir_state_changed(info["dir_state"]):
                info["cache"] = "hit"
                return Corpus(table, info)
            raw = table.select([c for c in ("doc_id", "title", "text", "image_raw") if c in table.column_names])
            corpus = _finish_corpus(raw, source.base_dir, image_root, source.label, check_ids=False)
            return _store_corpus(entry, corpus, status="images_rechecked")
    label = f"parse {source.label.name} (MiB)"
    parse_progress = None if progress is None else (lambda done, total: progress(label, _mib(done), _mib(total)))
    corpus = _finish_corpus(source.reader(parse_progress), source.base_dir, image_root, source.label, check_ids=not source.ids_checked)
    if not use_cache:
        corpus.info["cache"] = "off"
        return corpus
    if damaged is None:
        return _store_corpus(entry, corpus, status="miss")
    stored = _store_corpus(entry, corpus, status="rebuilt")
    stored.info["cache_damaged"] = str(damaged)
    return stored


def _store_corpus(entry: Path, corpus: Corpus, status: str) -> Corpus:
    cache.write_table(entry / "docs.arrow", corpus.table)
    cache.write_entry_json(entry / "corpus.json", corpus.info)
    table = cache.read_table(entry / "docs.arrow", verify=False)  # the memory map replaces the parsed copy
    corpus.info["cache"] = status
    return Corpus(table, corpus.info)
