"""What each split of a dataset folder holds: queries, documents, judged pairs, missing images.

:func:`dataset_info` is what ``gcl-bench info`` shows. Corpora go through the corpus cache (so
a later :func:`~gcl_bench.data.load.load_split` is fast); queries are counted from the queries
file, else the CSV, else the judgement file.

May import: :mod:`~gcl_bench.data.load`, :mod:`~gcl_bench.data.corpus_cache`,
:mod:`~gcl_bench.data.files`, :mod:`~gcl_bench.data.layout`, the readers
(:mod:`~gcl_bench.data.beir`, :mod:`~gcl_bench.data.hf`, :mod:`~gcl_bench.data.judgements`,
:mod:`~gcl_bench.data.tables`), :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from gcl_bench.data import beir as beir_format
from gcl_bench.data import hf as hf_format
from gcl_bench.data.corpus_cache import Corpus, PathLike, hf_corpus, load_corpus, marqo_corpus
from gcl_bench.data.files import BeirFiles, MarqoFiles
from gcl_bench.data.judgements import read_gt, read_queries_file
from gcl_bench.data.layout import BEIR, MARQO, Layout, detect, parquet_files
from gcl_bench.data.load import data_folder, load_split
from gcl_bench.data.splits import SPLITS
from gcl_bench.data.tables import read_csv_strings
from gcl_bench.errors import GclBenchError

#: Per split: the number of queries, the corpus, judged pairs per eval set (None: no gt file).
SplitCounts = tuple[int, Corpus, dict[str, int | None]]


def dataset_info(data_dir: PathLike | None = None, image_root: PathLike | None = None, subset: str | None = None) -> list[dict[str, Any]]:
    """One row per split present: ``split``, ``queries``, ``documents``, ``judgements_dev``,
    ``judgements_test`` (judged pairs; None without a gt file), ``missing_images``, ``format``.
    An ``hf://`` id fetches the splits its revision has (offline: those in the cache)."""
    data_path, _ = data_folder(data_dir, every_split=False)
    layout = detect(data_path, subset, SPLITS[0])
    if layout.kind == BEIR:
        return [_beir_row(data_path, layout, image_root, subset)]
    if layout.kind == MARQO:
        counts = {split: _marqo_counts(layout.folder, split, image_root) for split in SPLITS}
    else:
        counts = _hf_counts(layout.folder)
    rows: list[dict[str, Any]] = []
    for split, found in counts.items():
        if found is None:
            continue
        queries, corpus, judgements = found
        rows.append({
            "split": split, "queries": queries, "documents": corpus.info["num_documents"],
            "judgements_dev": judgements["dev"], "judgements_test": judgements["test"],
            "missing_images": corpus.info["missing_images"], "format": layout.kind,
        })
    if not rows:
        raise GclBenchError("no split files found", layout.folder)
    return rows


def _count_judgements(path: Path) -> int | None:
    if not path.is_file():
        return None
    return sum(len(v) for v in read_gt(path).values())


def _marqo_counts(folder: Path, split: str, image_root: PathLike | None) -> SplitCounts | None:
    """The counts of one split of a Marqo-GS folder; None when its files are not there."""
    files = MarqoFiles(folder, split)
    gt = {eval_set: files.gt(eval_set) for eval_set in ("dev", "test")}
    if not files.corpus.is_file() or not (files.csv.is_file() or any(p.is_file() for p in gt.values())):
        return None
    corpus = load_corpus(marqo_corpus(files), image_root)
    if files.queries.is_file():
        queries = len(read_queries_file(files.queries)[0])
    elif files.csv.is_file():
        queries = pc.count_distinct(read_csv_strings(files.csv, ["query"], required=("query",))["query"]).as_py()
    else:
        queries = len(read_gt(gt["test"] if gt["test"].is_file() else gt["dev"]))
    return queries, corpus, {eval_set: _count_judgements(p) for eval_set, p in gt.items()}


def _hf_counts(folder: Path) -> dict[str, SplitCounts | None]:
    """The counts of each split of a Hugging Face export (judgements are not counted there;
    images are taken as stored, without an image root)."""
    found = parquet_files(folder)
    counts: dict[str, SplitCounts | None] = {}
    for split in SPLITS:
        files = found.get(split)
        if not files:
            counts[split] = None
            continue
        table = hf_format.read_rows(files)
        corpus = load_corpus(hf_corpus(folder, files, lambda t=table: t), None)
        counts[split] = (pc.count_distinct(table["query"]).as_py(), corpus, {"dev": None, "test": None})
    return counts


def _beir_row(data_path: Path, layout: Layout, image_root: PathLike | None, subset: str | None) -> dict[str, Any]:
    """The one row of a BEIR folder (its test judgements through :func:`load_split`)."""
    split = load_split(data_path, None if not layout.per_split else SPLITS[0], "test", image_root, subset)
    files = BeirFiles(layout.folder)
    dev = files.qrels("dev")
    return {
        "split": layout.folder.name, "queries": len(beir_format.read_queries(files.queries)),
        "documents": split.num_docs,
        "judgements_dev": sum(len(v) for v in beir_format.read_qrels(dev).values()) if dev.is_file() else None,
        "judgements_test": split.meta["num_judgements"], "missing_images": split.report.missing_images,
        "format": BEIR,
    }
