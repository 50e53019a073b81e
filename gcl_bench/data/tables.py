"""Reading the split CSVs with Arrow: every column as a string, numbers converted on request.

Type inference would turn the product id ``"00123"`` into ``123``; reading every column as
a string keeps ids exactly as written, and only the score columns are converted to numbers.
A file may be gzip-compressed (whatever its name) and start with a UTF-8 byte order mark; a
line that is not UTF-8 is an error naming it. :func:`check_ids` refuses id columns that lost
information before they were written: ids printed from a float column (``1.23456789012e+11``,
``123.0``) and empty ids.

May import: :mod:`gcl_bench.io`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from gcl_bench import inputs
from gcl_bench.errors import GclBenchError

BLOCK_BYTES = 16 << 20


def csv_header(path: str | os.PathLike[str]) -> list[str]:
    """The column names in the first line of a CSV file."""
    path = Path(path)
    if not path.exists():
        raise GclBenchError("CSV file not found", path)
    try:
        header = next(csv.reader(inputs.text_lines(path)), None)
    except csv.Error as err:
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
    twice = next((c for c in wanted if header.count(c) > 1), None)
    if twice is not None:
        raise GclBenchError(f"CSV has the column {twice!r} {header.count(twice)} times; which one is meant is unknown", path)
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        include_columns=wanted,
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    read = pacsv.ReadOptions(block_size=BLOCK_BYTES)
    source = pa.CompressedInputStream(pa.OSFile(str(path)), "gzip") if inputs.is_gzip(path) else str(path)
    try:
        return pacsv.read_csv(source, read_options=read, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError, OSError) as err:
        if "UTF8" in str(err):
            for _ in inputs.text_lines(path):  # raises naming the first line that is not UTF-8
                pass
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GclBenchError(f"malformed CSV ({first})", path) from None


def to_float(column: pa.ChunkedArray | pa.Array, path: Path, name: str) -> pa.ChunkedArray | pa.Array:
    """Convert a string column to float64; a value that is not a finite number raises naming the
    file, the column and the data row."""
    try:
        numbers = pc.cast(pc.utf8_trim_whitespace(column), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        numbers = None
    if numbers is not None and numbers.null_count == 0 and pc.all(pc.is_finite(numbers)).as_py() is not False:
        return numbers
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    for i, value in enumerate(col.to_pylist()):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise GclBenchError(f"column {name!r} has a non-numeric value {value!r} on data row {i + 1}", path) from None
        if not math.isfinite(number):
            raise GclBenchError(f"column {name!r} has a value {value!r} that is not finite on data row {i + 1}", path)
    raise AssertionError("a value that fails the cast passes float()")  # pragma: no cover


FLOAT_TEXT = r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+|nan|NaN|inf)$"
"""What an id printed from a float column looks like (``123.0``, ``1.23456789012e+11``, ``nan``)."""


def check_ids(column: pa.ChunkedArray | pa.Array, path: Path, name: str = "product_id") -> None:
    """Refuse an id column that lost information before it was written (see the module doc).

    Ids printed from floats are refused when every id looks so (a float column, not an id that
    happens to contain a dot: the first id decides whether the others are looked at); an empty
    or null id is refused wherever it is.
    """
    column = column.cast(pa.string())
    empty = pc.fill_null(pc.equal(column, ""), True)
    if pc.any(empty).as_py():
        row = pc.index(empty, True).as_py()
        count = pc.sum(empty).as_py()
        raise GclBenchError(
            f"column {name!r} is empty or null on {count} row(s), the first data row {row + 1}; "
            "rows without an id would all become one document \"\": drop or fill them", path
        )
    example = column[0].as_py() if len(column) else None
    if example is not None and re.match(FLOAT_TEXT, example) and pc.all(pc.match_substring_regex(column, FLOAT_TEXT)).as_py():
        raise GclBenchError(
            f"column {name!r} holds ids written from floats (e.g. {example!r}): digits and leading zeros "
            "are lost; export the ids as text (pandas: dtype=str when reading, astype(str) before writing)",
            path,
        )
