"""Reading the split CSVs with Arrow: every column as a string, numbers converted on request.

Type inference would turn the product id ``"00123"`` into ``123``; reading every column as
a string keeps ids exactly as written, and only the score columns are converted to numbers.

May import: :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from gcl_bench.errors import GclBenchError

BLOCK_BYTES = 16 << 20


def csv_header(path: str | os.PathLike[str]) -> list[str]:
    """The column names in the first line of a CSV file."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), None)
    except FileNotFoundError:
        raise GclBenchError("CSV file not found", path) from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise GclBenchError(f"cannot read CSV header ({err})", path) from None
    if not header:
        raise GclBenchError("empty CSV file (no header line)", path)
    return header


def read_csv_strings(
    path: str | os.PathLike[str], columns: list[str] | None = None, required: tuple[str, ...] = ()
) -> pa.Table:
    """Read ``columns`` (default: all) of a CSV, every value a string (empty stays ``""``).

    Missing ``required`` columns or a malformed file raise :class:`GclBenchError` naming the file.
    """
    path = Path(path)
    header = csv_header(path)
    missing = [c for c in required if c not in header]
    if missing:
        raise GclBenchError(f"CSV has no column {missing[0]!r} (columns: {', '.join(header)})", path)
    wanted = [c for c in (columns or header) if c in header]
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        include_columns=wanted,
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    read = pacsv.ReadOptions(block_size=BLOCK_BYTES)
    try:
        return pacsv.read_csv(path, read_options=read, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GclBenchError(f"malformed CSV ({first})", path) from None


def to_float(column: pa.ChunkedArray | pa.Array, path: Path, name: str) -> pa.ChunkedArray | pa.Array:
    """Convert a string column to float64; a non-numeric value raises naming the file and column."""
    try:
        return pc.cast(pc.utf8_trim_whitespace(column), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        for i, value in enumerate(col.to_pylist()):
            try:
                float(value)
            except (TypeError, ValueError):
                raise GclBenchError(
                    f"column {name!r} has a non-numeric value {value!r} on data row {i + 1}", path
                ) from None
        raise
