"""The Hugging Face parquet export of Marqo-GS-10M (``Marqo/marqo-GS-10M``) from a local folder.

Each split is one or more parquet files (``data/in_domain-00000-of-00008.parquet``,
``novel-query/novel-query-5.parquet``, ``in_domain/0000.parquet``...) with one row per
(query, product) pair: ``image`` (bytes), ``query``, ``product_id``, ``position``, ``title``,
``pair_id``, ``score_linear``, ``score_reciprocal``, ``no_score``, ``query_id``. As in the
reference HF evaluation, the corpus of a split is the set of products of its rows (first
occurrence order) and, with no gt file, judgements are sampled from its rows.

Images are bytes in the parquet; each distinct image is written once into a content-addressed
folder (``cache_dir()/images/<sha256[:2]>/<sha256>.<ext>``) so that documents carry paths.

Product ids must be stored as text. A float or integer ``product_id`` column is refused: a float
prints ``123456789012`` as ``1.23456789012e+11``, and an integer has already lost the leading
zeros of ``00123``; neither can be turned back into the ids as the dataset writes them, and the
tie break of every metric compares ids as text. Null or empty ids are refused too (all of them
would become the one document ``""``). A row with a null query belongs to no query, as the
reference evaluation's pandas ``groupby`` drops it.

May import: :mod:`~gcl_bench.data.corpus` (the document schema), :mod:`~gcl_bench.data.tables`
(the id checks), :mod:`gcl_bench.io`, :mod:`gcl_bench.config`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gcl_bench import io
from gcl_bench.config import cache_dir
from gcl_bench.data.corpus import DOC_SCHEMA
from gcl_bench.data.tables import check_ids
from gcl_bench.errors import GclBenchError


def image_store() -> Path:
    return cache_dir() / "images"


def _extension(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    if data.startswith(b"GIF8"):
        return ".gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return ".img"


def store_image(data: bytes) -> str:
    """Write image bytes once under their SHA-256 and return the path."""
    digest = hashlib.sha256(data).hexdigest()
    path = image_store() / digest[:2] / f"{digest}{_extension(data)}"
    if not path.exists():
        io.write_bytes(path, data)
    return str(path)


def _columns(path: Path) -> list[str]:
    try:
        return pq.read_schema(path).names
    except (pa.ArrowInvalid, OSError) as err:
        raise GclBenchError(f"malformed parquet file ({str(err).splitlines()[0]})", path) from None


def read_rows(files: list[Path]) -> pa.Table:
    """All columns but the image of a split's parquet files, every column cast to string."""
    names = _columns(files[0])
    if "query" not in names or "product_id" not in names:
        raise GclBenchError(f"parquet file lacks a query or product_id column (columns: {', '.join(names)})", files[0])
    wanted = [c for c in names if c != "image"]
    tables = []
    for path in files:
        try:
            table = pq.read_table(path, columns=[c for c in wanted if c in _columns(path)])
        except (pa.ArrowInvalid, OSError) as err:
            raise GclBenchError(f"malformed parquet file ({str(err).splitlines()[0]})", path) from None
        cols = {}
        for name in wanted:
            if name not in table.column_names:
                raise GclBenchError(f"parquet file lacks column {name!r}", path)
            col = table[name]
            if name == "product_id":
                _check_id_type(col.type, path)
            cols[name] = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
        tables.append(pa.table(cols))
        check_ids(cols["product_id"], path)
    return pa.concat_tables(tables)


def _check_id_type(kind: pa.DataType, path: Path) -> None:
    """Refuse a numeric ``product_id`` column (see the module doc)."""
    if pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        raise GclBenchError(
            f"column 'product_id' is {kind}: numeric ids cannot keep the ids as written (leading zeros, "
            "digits past float precision); write the column as text (pandas: astype(str); pyarrow: "
            "cast to pa.string()) from the original ids",
            path,
        )


def _first_rows(ids: pa.ChunkedArray) -> np.ndarray:
    """Row index of the first occurrence of each distinct id, in order of first occurrence."""
    table = pa.table({"id": ids, "row": pa.array(np.arange(len(ids), dtype=np.int64))})
    first = table.group_by("id", use_threads=False).aggregate([("row", "min")])
    return np.sort(first["row_min"].to_numpy())


def _image_bytes(value: object) -> bytes | None:
    if isinstance(value, dict):
        value = value.get("bytes")
    return value if isinstance(value, (bytes, bytearray)) and len(value) else None


def read_corpus(files: list[Path], rows: pa.Table) -> pa.Table:
    """The documents of a split: first row of each product, with its image bytes stored as a file."""
    first = _first_rows(rows["product_id"])
    ids = pc.take(rows["product_id"], pa.array(first))
    titles = pc.take(rows["title"], pa.array(first)) if "title" in rows.column_names else pa.nulls(len(first), pa.string())
    wanted = np.zeros(len(rows), dtype=bool)
    wanted[first] = True
    images: dict[int, str] = {}
    offset = 0
    for path in files:
        handle = pq.ParquetFile(path)
        if "image" not in handle.schema_arrow.names:
            offset += handle.metadata.num_rows
            continue
        for batch in handle.iter_batches(columns=["image"], batch_size=2048):
            n = batch.num_rows
            local = np.nonzero(wanted[offset : offset + n])[0]
            if len(local):
                values = batch.column(0).take(pa.array(local)).to_pylist()
                for i, value in zip(local.tolist(), values):
                    data = _image_bytes(value)
                    if data is not None:
                        images[offset + i] = store_image(bytes(data))
            offset += n
    image_col = pa.array([images.get(r) for r in first.tolist()], type=pa.string())
    return pa.table([ids, titles.cast(pa.string()), image_col], schema=DOC_SCHEMA)
