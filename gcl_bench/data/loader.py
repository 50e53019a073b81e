"""Loading one split of any supported folder into a :class:`Split`, with the columnar cache.

``load_split`` finds the layout (``layout.detect``), loads the split's corpus through the corpus
cache, builds the judgements (a gt file with key resolution, or the reference sampling when
there is none), and stores the result under the split cache. ``dataset_info`` counts what each
split holds; ``read_triplets`` gives the trainer the CSV rows with resolved titles and images.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gcl_bench import io
from gcl_bench.data import beir as beir_format
from gcl_bench.data import cache
from gcl_bench.data import hf as hf_format
from gcl_bench.data.columns import StrColumn
from gcl_bench.data.corpus import check_unique_ids, read_corpus_json, read_corpus_jsonl
from gcl_bench.data.images import dir_state_changed, resolve_images
from gcl_bench.data.judgements import (
    KIND_QUERY_ID,
    QueryLookup,
    read_gt,
    read_queries_file,
    resolve_keys,
    unresolved_error,
)
from gcl_bench.data.layout import BEIR, HF_PARQUET, MARQO, Layout, detect, parquet_files
from gcl_bench.data.sampled import sample_judgements
from gcl_bench.data.split import LoadReport, Split
from gcl_bench.data.splits import SPLIT_CORPUS, SPLIT_STEMS, SPLITS, canonical_split, check_eval_set
from gcl_bench.data.tables import read_csv_strings, to_float
from gcl_bench.errors import GclBenchError

if TYPE_CHECKING:
    import pandas as pd

PathLike = str | os.PathLike[str]


# ---------------------------------------------------------------- corpus (cached)


@dataclass
class Corpus:
    """Documents as Arrow columns (``doc_id``, ``title``, ``image``, ``image_raw``) plus counts."""

    table: pa.Table
    info: dict[str, Any]


def _finish_corpus(raw: pa.Table, base_dir: Path, image_root: PathLike | None, label: Path, check_ids: bool = True) -> Corpus:
    if raw.num_rows == 0:
        raise GclBenchError("empty corpus (no products)", label)
    if check_ids:
        check_unique_ids(raw["doc_id"], label)
    images = resolve_images(raw["image_raw"], base_dir, image_root)
    titles = pc.fill_null(raw["title"], "")
    empty = pc.equal(pc.utf8_trim_whitespace(titles), "")
    no_fields = pc.filter(raw["doc_id"], pc.and_(empty, pc.is_null(images.paths)))
    table = pa.table({"doc_id": raw["doc_id"], "title": titles, "image": images.paths, "image_raw": raw["image_raw"]})
    info = {
        "num_documents": table.num_rows,
        "missing_images": images.missing,
        "empty_titles": pc.sum(empty).as_py() or 0,
        "docs_without_fields": no_fields.to_pylist(),
        "dir_state": images.dir_state,
        "image_strategy": images.strategy,
    }
    return Corpus(table, info)


def load_corpus(
    files: list[Path],
    reader: Callable[[], pa.Table],
    base_dir: Path,
    image_root: PathLike | None,
    use_cache: bool,
    label: Path,
    ids_checked: bool = False,
) -> Corpus:
    """Load a corpus through the cache; ``reader`` parses ``files`` when the cache misses
    (``ids_checked``: the reader already rejects repeated ids)."""
    root = None if image_root is None else str(Path(image_root).expanduser().resolve())
    key = cache.entry_key(
        "corpus", files=[cache.file_identity(p) for p in files], image_root=root, base=str(base_dir.resolve())
    )
    entry = cache.entry_dir("corpus", key)
    if use_cache:
        info = cache.read_entry_json(entry / "corpus.json")
        if info is not None and (entry / "docs.arrow").is_file():
            table = cache.read_table(entry / "docs.arrow")
            if not dir_state_changed(info["dir_state"]):
                info["cache"] = "hit"
                return Corpus(table, info)
            raw = table.select(["doc_id", "title", "image_raw"])
            corpus = _finish_corpus(raw, base_dir, image_root, label, check_ids=False)
            return _store_corpus(entry, corpus, status="images_rechecked")
    corpus = _finish_corpus(reader(), base_dir, image_root, label, check_ids=ids_checked is False)
    if not use_cache:
        corpus.info["cache"] = "off"
        return corpus
    return _store_corpus(entry, corpus, status="miss")


def _store_corpus(entry: Path, corpus: Corpus, status: str) -> Corpus:
    cache.write_table(entry / "docs.arrow", corpus.table)
    io.write_json(entry / "corpus.json", corpus.info, indent=False)
    table = cache.read_table(entry / "docs.arrow")  # the memory map replaces the parsed copy
    corpus.info["cache"] = status
    return Corpus(table, corpus.info)


# ---------------------------------------------------------------- judgements


@dataclass
class Judged:
    query_ids: list[str]
    query_texts: list[str]
    qrels: dict[str, dict[str, int]]
    meta: dict[str, Any]
    kinds: dict[str, int]
    notes: list[str]


def _from_gt(
    gt_path: Path,
    queries_file: Path | None,
    rows: Callable[[], pa.Table] | None,
    rows_path: Path | None,
) -> Judged:
    qrels = read_gt(gt_path)
    keys = list(qrels)
    lookup = QueryLookup()
    sources: list[Path] = []
    if queries_file is not None:
        texts, ids = read_queries_file(queries_file)
        lookup.add(texts, ids)
        sources.append(queries_file)
    resolved, kinds = resolve_keys(keys, lookup)
    if None in resolved and rows is not None and rows_path is not None:
        table = rows()
        sources.append(rows_path)
        lookup.add(pc.unique(table["query"]).to_pylist(), [])
        if "query_id" in table.column_names:
            pairs = table.select(["query_id", "query"]).group_by(["query_id", "query"]).aggregate([])
            lookup.add([], zip(pairs["query_id"].to_pylist(), pairs["query"].to_pylist()))
        resolved, kinds = resolve_keys(keys, lookup)
    if None in resolved:
        raise unresolved_error(keys, resolved, gt_path, sources, lookup)
    meta = {"sampled": False, "judgements": str(gt_path)}
    return Judged(keys, [t for t in resolved if t is not None], qrels, meta, kinds, [])


def _sampled(rows: pa.Table, path: Path, weight_column: str, top_q: int, top_k: int) -> Judged:
    scores = None
    if weight_column in rows.column_names:
        scores = to_float(rows[weight_column], path, weight_column).to_numpy()
        if np.isnan(scores).any():
            raise GclBenchError(f"column {weight_column!r} has NaN values", path)
    result = sample_judgements(rows["query"], rows["product_id"], scores, weight_column, top_q=top_q, top_k=top_k)
    if not result.query_keys:
        raise GclBenchError("no queries to sample judgements from (the file has no rows with a query)", path)
    notes = [
        f"no judgement file: {len(result.query_keys)} queries and their judgements sampled from "
        f"{path.name} as the GCL reference evaluation does (seed {result.info['seed']})"
    ]
    if result.info["weight_column"] is None:
        notes.append(f"column {weight_column!r} is absent or constant: every judgement has grade 1")
    meta = dict(result.info, judgements=str(path))
    return Judged(result.query_keys, result.query_texts, result.qrels, meta, {}, notes)


def _judged_not_in_corpus(qrels: dict[str, dict[str, int]], corpus: Corpus) -> int:
    """How many distinct judged products the corpus lacks."""
    judged = pc.unique(pa.array([d for docs in qrels.values() for d in docs], type=pa.string()))
    if not len(judged):
        return 0
    found = pc.sum(pc.is_in(corpus.table["doc_id"], value_set=judged)).as_py() or 0
    return len(judged) - found


# ---------------------------------------------------------------- per layout


@dataclass
class _Plan:
    """Inputs of one split of one layout, and how to load its parts."""

    inputs: list[Path]
    corpus_files: list[Path]
    corpus_reader: Callable[[], pa.Table]
    corpus_label: Path
    base_dir: Path
    judge: Callable[[], Judged]
    files: dict[str, Any]
    ids_checked: bool = False
    reads_rows: bool = False


def _marqo_plan(folder: Path, split: str, eval_set: str, weight_column: str, top_q: int, top_k: int) -> _Plan:
    stem = SPLIT_STEMS[split]
    corpus_path = folder / f"{SPLIT_CORPUS[split]}.json"
    csv_path = folder / f"{stem}.csv"
    gt_path = folder / f"{stem}_gt_{eval_set}.json"
    queries_path = folder / f"{stem}_queries.json"
    if not corpus_path.is_file():
        raise GclBenchError(f"no {corpus_path.name} (the corpus of split {split})", folder)
    has_gt, has_csv, has_queries = gt_path.is_file(), csv_path.is_file(), queries_path.is_file()
    if not has_gt and not has_csv:
        raise GclBenchError(f"no {csv_path.name} and no {gt_path.name}: the files of split {split} are missing", folder)
    inputs = [corpus_path] + [p for p, ok in ((gt_path, has_gt), (csv_path, has_csv), (queries_path, has_queries)) if ok]

    def judge() -> Judged:
        if has_gt:
            def rows() -> pa.Table:
                return read_csv_strings(csv_path, ["query", "query_id"], required=("query",))
            return _from_gt(gt_path, queries_path if has_queries else None, rows if has_csv else None, csv_path)
        table = read_csv_strings(csv_path, ["query", "product_id", weight_column], required=("query", "product_id"))
        return _sampled(table, csv_path, weight_column, top_q, top_k)

    files = {"corpus": str(corpus_path), "csv": str(csv_path) if has_csv else None,
             "judgements": str(gt_path) if has_gt else None, "queries": str(queries_path) if has_queries else None}
    return _Plan(
        inputs, [corpus_path], lambda: read_corpus_json(corpus_path), corpus_path, folder, judge, files, True, not has_gt
    )


def _hf_plan(folder: Path, split: str, eval_set: str, weight_column: str, top_q: int, top_k: int) -> _Plan:
    found = parquet_files(folder)
    files = found.get(split)
    if not files:
        have = ", ".join(sorted(found)) or "none"
        raise GclBenchError(f"no parquet files for split {split} (splits found: {have})", folder)
    gt_candidates = [folder / f"{split}_gt_{eval_set}.json", folder / f"{SPLIT_STEMS[split]}_gt_{eval_set}.json"]
    gt_path = next((p for p in gt_candidates if p.is_file()), None)
    cached_rows: list[pa.Table] = []
    lock = threading.Lock()

    def rows() -> pa.Table:  # shared by the corpus and the judgements, read once
        with lock:
            if not cached_rows:
                cached_rows.append(hf_format.read_rows(files))
            return cached_rows[0]

    def judge() -> Judged:
        if gt_path is not None:
            return _from_gt(gt_path, None, rows, files[0])
        return _sampled(rows(), files[0], weight_column, top_q, top_k)

    inputs = list(files) + ([gt_path] if gt_path else [])
    names = {"parquet": [str(p) for p in files], "judgements": str(gt_path) if gt_path else None}
    return _Plan(inputs, list(files), lambda: hf_format.read_corpus(files, rows()), files[0], folder, judge, names)


def _beir_plan(folder: Path, eval_set: str) -> _Plan:
    corpus_path, queries_path = folder / "corpus.jsonl", folder / "queries.jsonl"
    qrels_path = folder / "qrels" / f"{eval_set}.tsv"
    if not qrels_path.is_file():
        raise GclBenchError(f"no qrels/{eval_set}.tsv in this BEIR folder", folder)

    def judge() -> Judged:
        qrels = beir_format.read_qrels(qrels_path)
        queries = beir_format.read_queries(queries_path)
        keys = list(qrels)
        texts = [queries.get(k) for k in keys]
        if None in texts:
            lookup = QueryLookup(ids=dict(queries))
            raise unresolved_error(keys, texts, qrels_path, [queries_path], lookup)
        return Judged(keys, texts, qrels, {"sampled": False, "judgements": str(qrels_path)}, {KIND_QUERY_ID: len(keys)}, [])

    files = {"corpus": str(corpus_path), "queries": str(queries_path), "judgements": str(qrels_path)}
    inputs = [corpus_path, queries_path, qrels_path]
    return _Plan(inputs, [corpus_path], lambda: read_corpus_jsonl(corpus_path), corpus_path, folder, judge, files)


def _plan(layout: Layout, split: str, eval_set: str, weight_column: str, top_q: int, top_k: int) -> _Plan:
    if layout.kind == MARQO:
        return _marqo_plan(layout.folder, split, eval_set, weight_column, top_q, top_k)
    if layout.kind == HF_PARQUET:
        return _hf_plan(layout.folder, split, eval_set, weight_column, top_q, top_k)
    return _beir_plan(layout.folder, eval_set)


def _default_data_dir() -> Path:
    from gcl_bench.data.sample import default_sample_dir

    return Path(default_sample_dir())


# ---------------------------------------------------------------- public API


def load_split(
    data_dir: PathLike | None = None,
    split: str = "zero_shot",
    eval_set: str = "test",
    image_root: PathLike | None = None,
    subset: str | None = None,
    weight_column: str = "score_linear",
    top_q: int = 2000,
    top_k: int = 1000,
    use_cache: bool = True,
) -> Split:
    """Load one split of a dataset folder into a :class:`Split`.

    ``data_dir`` is a Marqo-GS sub-dataset folder, a root holding sub-dataset folders (``subset``
    picks one; default ``marqo_gs_full_10m`` or the only one), a Hugging Face parquet export or a
    BEIR folder; None means the bundled sample. ``split`` is a name, alias or file stem.
    ``eval_set`` picks ``_gt_test.json`` or ``_gt_dev.json``; without one, judgements are
    sampled from the split CSV as the GCL reference does (``weight_column``, ``top_q``,
    ``top_k``; recorded in ``meta``). ``image_root`` remaps image paths. The result is cached
    (see :mod:`gcl_bench.data.cache`); ``use_cache=False`` reads the files again.
    """
    split = canonical_split(split)
    eval_set = check_eval_set(eval_set)
    data_path = Path(data_dir).expanduser() if data_dir is not None else _default_data_dir()
    layout = detect(data_path, subset, split)
    plan = _plan(layout, split, eval_set, weight_column, top_q, top_k)
    fingerprint = cache.fingerprint(plan.inputs)
    root = None if image_root is None else str(Path(image_root).expanduser().resolve())
    key = cache.entry_key(
        "split", fingerprint=fingerprint, layout=layout.kind, folder=str(layout.folder.resolve()), split=split,
        eval_set=eval_set, image_root=root, weight_column=weight_column, top_q=top_q, top_k=top_k,
    )
    entry = cache.entry_dir("split", key)
    stored = cache.read_entry_json(entry / "split.json") if use_cache else None
    # Judgements from a gt file are built in a thread while this thread parses the corpus
    # (Arrow's CSV reader releases the GIL). Sampled judgements read the whole CSV: they are
    # built first, so that the CSV columns are freed before the corpus is parsed.
    judged = plan.judge() if stored is None and plan.reads_rows else None
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(plan.judge) if stored is None and judged is None else None
        corpus = load_corpus(
            plan.corpus_files, plan.corpus_reader, plan.base_dir, image_root, use_cache, plan.corpus_label,
            plan.ids_checked,
        )
        if pending is not None:
            judged = pending.result()
    if stored is None:
        assert judged is not None
        outside = _judged_not_in_corpus(judged.qrels, corpus)
        notes = list(judged.notes)
        if outside:
            notes.append(f"{outside} distinct judged products are not in {plan.corpus_label.name}; they can never be retrieved")
        meta = {
            "path": str(layout.folder),
            "data_dir": str(data_path),
            "subset": layout.subset,
            "split": split,
            "eval_set": eval_set,
            "format": layout.kind,
            "fingerprint": fingerprint,
            **judged.meta,
            "files": plan.files,
            "image_root": root,
            "num_queries": len(judged.query_ids),
            "num_judgements": sum(len(v) for v in judged.qrels.values()),
            "judged_not_in_corpus": outside,
        }
        stored = {"query_ids": judged.query_ids, "query_texts": judged.query_texts, "qrels": judged.qrels,
                  "meta": meta, "gt_key_kinds": judged.kinds, "notes": notes}
        if use_cache:
            io.write_json(entry / "split.json", stored, indent=False)
        split_cache = "miss" if use_cache else "off"
    else:
        split_cache = "hit"
    info = corpus.info
    meta = dict(stored["meta"], num_documents=info["num_documents"], image_strategy=info["image_strategy"],
                load_cache={"split": split_cache, "corpus": info.get("cache")})
    report = LoadReport(
        missing_images=info["missing_images"],
        empty_titles=info["empty_titles"],
        docs_without_fields=list(info["docs_without_fields"]),
        unresolved_gt_keys=0,
        gt_key_kinds=dict(stored["gt_key_kinds"]),
        notes=list(stored["notes"]),
    )
    table = corpus.table
    return Split(
        name=split,
        doc_ids=StrColumn(table["doc_id"]),
        doc_titles=StrColumn(table["title"]),
        doc_images=StrColumn(table["image"]),
        query_ids=stored["query_ids"],
        query_texts=stored["query_texts"],
        qrels=stored["qrels"],
        meta=meta,
        report=report,
    )


def _count_judgements(path: Path) -> int | None:
    if not path.is_file():
        return None
    return sum(len(v) for v in read_gt(path).values())


def dataset_info(data_dir: PathLike | None = None, image_root: PathLike | None = None, subset: str | None = None) -> list[dict[str, Any]]:
    """One row per split present: ``split``, ``queries``, ``documents``, ``judgements_dev``,
    ``judgements_test`` (judged pairs; None without a gt file), ``missing_images``, ``format``."""
    data_path = Path(data_dir).expanduser() if data_dir is not None else _default_data_dir()
    rows: list[dict[str, Any]] = []
    layout = detect(data_path, subset, SPLITS[0])
    if layout.kind == BEIR:
        split = load_split(data_path, SPLITS[0], "test", image_root, subset)
        dev = layout.folder / "qrels" / "dev.tsv"
        return [{
            "split": layout.folder.name, "queries": len(beir_format.read_queries(layout.folder / "queries.jsonl")),
            "documents": split.num_docs,
            "judgements_dev": sum(len(v) for v in beir_format.read_qrels(dev).values()) if dev.is_file() else None,
            "judgements_test": split.meta["num_judgements"], "missing_images": split.report.missing_images,
            "format": BEIR,
        }]
    for split in SPLITS:
        if layout.kind == MARQO:
            folder, stem = layout.folder, SPLIT_STEMS[split]
            csv_path, queries_path = folder / f"{stem}.csv", folder / f"{stem}_queries.json"
            corpus_path = folder / f"{SPLIT_CORPUS[split]}.json"
            gt = {e: folder / f"{stem}_gt_{e}.json" for e in ("dev", "test")}
            if not corpus_path.is_file() or not (csv_path.is_file() or any(p.is_file() for p in gt.values())):
                continue
            corpus = load_corpus([corpus_path], lambda p=corpus_path: read_corpus_json(p), folder, image_root, True, corpus_path, True)
            if queries_path.is_file():
                queries = len(read_queries_file(queries_path)[0])
            elif csv_path.is_file():
                queries = pc.count_distinct(read_csv_strings(csv_path, ["query"], required=("query",))["query"]).as_py()
            else:
                queries = len(read_gt(gt["test"] if gt["test"].is_file() else gt["dev"]))
            judgements = {e: _count_judgements(p) for e, p in gt.items()}
        else:
            files = parquet_files(layout.folder).get(split)
            if not files:
                continue
            table = hf_format.read_rows(files)
            corpus = load_corpus(files, lambda f=files, t=table: hf_format.read_corpus(f, t), layout.folder, None, True, files[0])
            queries = pc.count_distinct(table["query"]).as_py()
            judgements = {"dev": None, "test": None}
        rows.append({
            "split": split, "queries": queries, "documents": corpus.info["num_documents"],
            "judgements_dev": judgements["dev"], "judgements_test": judgements["test"],
            "missing_images": corpus.info["missing_images"], "format": layout.kind,
        })
    if not rows:
        raise GclBenchError("no split files found", layout.folder)
    return rows


NUMERIC_COLUMNS = {"score_linear": "float", "score_reciprocal": "float", "no_score": "float", "position": "int"}


def read_triplets(data_dir: PathLike, split: str, image_root: PathLike | None = None, subset: str | None = None) -> pd.DataFrame:
    """The (query, product, score) rows of a split for training, ids as strings.

    Columns: ``query``, ``product_id``, ``title``, ``image`` (resolved path or None), then those
    of ``query_id``, ``pair_id``, ``position``, ``score_linear``, ``score_reciprocal``,
    ``no_score`` the file has (scores as float64, position as int64). Title and image come from
    the CSV when it has them, else from the split's corpus.
    """
    split = canonical_split(split)
    data_path = Path(data_dir).expanduser()
    layout = detect(data_path, subset, split)
    if layout.kind == BEIR:
        raise GclBenchError("a BEIR folder has no training triplets (use the Marqo-GS CSVs or the parquet export)", data_path)
    if layout.kind == MARQO:
        folder = layout.folder
        path = folder / f"{SPLIT_STEMS[split]}.csv"
        if not path.is_file():
            raise GclBenchError(f"no {path.name}: the triplets of split {split} are missing", folder)
        rows = read_csv_strings(path, required=("query", "product_id"))
        corpus_path = folder / f"{SPLIT_CORPUS[split]}.json"
        corpus_files, reader, base = [corpus_path], (lambda: read_corpus_json(corpus_path)), folder
    else:
        files = parquet_files(layout.folder).get(split)
        if not files:
            raise GclBenchError(f"no parquet files for split {split}", layout.folder)
        path, rows = files[0], hf_format.read_rows(files)
        corpus_files, reader, base = files, (lambda: hf_format.read_corpus(files, rows)), layout.folder
    columns: dict[str, Any] = {"query": rows["query"], "product_id": rows["product_id"]}
    need_corpus = "title" not in rows.column_names or "image_local" not in rows.column_names
    corpus = None
    if need_corpus:
        if not corpus_files[0].is_file():
            raise GclBenchError(f"the CSV has no title/image_local columns and {corpus_files[0].name} is missing", path)
        corpus = load_corpus(corpus_files, reader, base, image_root, True, corpus_files[0])
        where = pc.index_in(rows["product_id"], value_set=corpus.table["doc_id"])
    columns["title"] = rows["title"] if "title" in rows.column_names else pc.fill_null(pc.take(corpus.table["title"], where), "")
    if "image_local" in rows.column_names:
        columns["image"] = resolve_images(rows["image_local"], base, image_root).paths
    else:
        columns["image"] = pc.take(corpus.table["image"], where)
    for name in ("query_id", "pair_id"):
        if name in rows.column_names:
            columns[name] = rows[name]
    for name, kind in NUMERIC_COLUMNS.items():
        if name in rows.column_names:
            values = to_float(rows[name], path, name)
            if kind == "int":
                try:
                    values = pc.cast(values, pa.int64())
                except pa.ArrowInvalid:
                    raise GclBenchError(f"column {name!r} has non-integer values", path) from None
            columns[name] = values
    return pa.table(columns).to_pandas()
