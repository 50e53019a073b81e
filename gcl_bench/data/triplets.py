"""A split's (query, product, score) rows for the trainer, with resolved titles and images.

May import: :mod:`~gcl_bench.data.corpus_cache`, :mod:`~gcl_bench.data.hub`, :mod:`~gcl_bench.data.files`,
:mod:`~gcl_bench.data.layout`, :mod:`~gcl_bench.data.images`, :mod:`~gcl_bench.data.hf`,
:mod:`~gcl_bench.data.tables`, :mod:`~gcl_bench.data.splits`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from gcl_bench.data import hf as hf_format
from gcl_bench.data.corpus_cache import CorpusSource, PathLike, hf_corpus, load_corpus, marqo_corpus
from gcl_bench.data.files import MarqoFiles
from gcl_bench.data.hub import local_folder
from gcl_bench.data.images import resolve_images
from gcl_bench.data.layout import BEIR, MARQO, detect, parquet_files
from gcl_bench.data.splits import canonical_split
from gcl_bench.data.tables import read_csv_strings, to_float
from gcl_bench.errors import GclBenchError

if TYPE_CHECKING:
    import pandas as pd

NUMERIC_COLUMNS = {"score_linear": "float", "score_reciprocal": "float", "no_score": "float", "position": "int"}
"""Columns converted to numbers, when the file has them: scores as float64, position as int64."""


def read_triplets(data_dir: PathLike, split: str, image_root: PathLike | None = None, subset: str | None = None) -> pd.DataFrame:
    """The (query, product, score) rows of a split for training, ids as strings.

    Columns: ``query``, ``product_id``, ``title``, ``image`` (resolved path or None), then those
    of ``query_id``, ``pair_id``, ``position``, ``score_linear``, ``score_reciprocal``,
    ``no_score`` the file has (scores as float64, position as int64). Title and image come from
    the CSV when it has them, else from the split's corpus.
    """
    split = canonical_split(split)
    data_path, _ = local_folder(data_dir, [split])
    layout = detect(data_path, subset, split)
    if layout.kind == BEIR:
        raise GclBenchError("a BEIR folder has no training triplets (use the Marqo-GS CSVs or the parquet export)", data_path)
    if layout.kind == MARQO:
        files = MarqoFiles(layout.folder, split)
        path = files.csv
        if not path.is_file():
            raise GclBenchError(f"no {path.name}: the triplets of split {split} are missing", layout.folder)
        rows = read_csv_strings(path, required=("query", "product_id"))
        source = marqo_corpus(files)
    else:
        parquet = parquet_files(layout.folder).get(split)
        if not parquet:
            raise GclBenchError(f"no parquet files for split {split}", layout.folder)
        path, rows = parquet[0], hf_format.read_rows(parquet)
        source = hf_corpus(layout.folder, parquet, lambda: rows)
    columns: dict[str, Any] = {"query": rows["query"], "product_id": rows["product_id"]}
    columns.update(_documents(rows, source, path, image_root))
    for name in ("query_id", "pair_id"):
        if name in rows.column_names:
            columns[name] = rows[name]
    for name, kind in NUMERIC_COLUMNS.items():
        if name in rows.column_names:
            columns[name] = _number_column(rows[name], kind, path, name)
    return pa.table(columns).to_pandas()


def _documents(rows: pa.Table, source: CorpusSource, path: Path, image_root: PathLike | None) -> dict[str, Any]:
    """``title`` and ``image`` of each row: the row's own when the file has them, else its product's."""
    has_title, has_image = "title" in rows.column_names, "image_local" in rows.column_names
    if not (has_title and has_image):
        if not source.files[0].is_file():
            raise GclBenchError(f"the CSV has no title/image_local columns and {source.files[0].name} is missing", path)
        corpus = load_corpus(source, image_root)
        where = pc.index_in(rows["product_id"], value_set=corpus.table["doc_id"])
    title = rows["title"] if has_title else pc.fill_null(pc.take(corpus.table["title"], where), "")
    if has_image:
        image = resolve_images(rows["image_local"], source.base_dir, image_root).paths
    else:
        image = pc.take(corpus.table["image"], where)
    return {"title": title, "image": image}


def _number_column(values: pa.ChunkedArray, kind: str, path: Path, name: str) -> pa.ChunkedArray:
    numbers = to_float(values, path, name)
    if kind == "int":
        try:
            return pc.cast(numbers, pa.int64())
        except pa.ArrowInvalid:
            raise GclBenchError(f"column {name!r} has non-integer values", path) from None
    return numbers
