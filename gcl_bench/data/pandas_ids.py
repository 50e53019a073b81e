"""Product ids as the GCL reference evaluation reads them from a split CSV (the reference protocol).

The reference script (``evals/eval_gs_v1.py``, which pins pandas 2.2.2) reads the CSV with
pandas' type inference and only then turns the product id column into strings, so its ids are
what ``pandas.read_csv(path)[column].astype(str)`` gives. pandas' C parser infers a type per
*block* of rows (``low_memory=True``, the default) and then joins the blocks:

- a block whose every id is an integer literal (an optional sign, digits, blanks around them)
  in int64's range is read as int64, or when some exceed it but all fit uint64, as uint64; its
  ids become the decimal of the number: ``"00123"`` -> ``"123"``, ``"+7"`` -> ``"7"``,
  ``" 45 "`` -> ``"45"``;
- any other block is read as text: its ids stay as written, but the strings pandas reads as
  missing (``""``, ``"NA"``, ... :data:`~gcl_bench.data.sampled.PANDAS_NA_STRINGS`) become
  ``"nan"``;
- blocks of both kinds give a column of mixed objects (pandas warns ``DtypeWarning``): each
  block keeps its own conversion.

A block of rows has ``2**k`` rows, the largest power of two below ``2**20 // columns`` (the
columns of the whole file), as pandas sizes them. Where pandas would read ids as floating point
(integers with a missing id among them, decimals, exponents), as booleans, or an int64 block
beside a uint64 one (joined as float64), the ids would read ``"123.0"``: that is refused, not
imitated.

May import: pyarrow, numpy, :mod:`~gcl_bench.data.sampled`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gcl_bench.data.sampled import PANDAS_NA_STRINGS
from gcl_bench.errors import GclBenchError

_INTEGER = r"^[ \t]*[+-]?[0-9]+[ \t]*$"
_FLOAT = r"(?i)^[ \t]*[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?|inf|infinity)[ \t]*$"
_BOOLEANS = ("True", "TRUE", "true", "False", "FALSE", "false")
_BLOCK_BUDGET = 1 << 20


def block_rows(n_columns: int) -> int:
    """Rows per block of pandas' low-memory CSV parser for a file of ``n_columns`` columns."""
    budget = _BLOCK_BUDGET // max(1, n_columns)
    rows = 1
    while rows * 2 < budget:
        rows *= 2
    return rows


def _as_integers(ids: pa.Array) -> tuple[str, pa.Array] | None:
    """``("int64" | "uint64", decimal strings)`` of integer literals, or None beyond uint64 / mixed signs."""
    digits = pc.replace_substring_regex(pc.utf8_trim(ids, " \t"), r"^\+", "")
    for kind, arrow_type in (("int64", pa.int64()), ("uint64", pa.uint64())):
        try:
            return kind, pc.cast(pc.cast(digits, arrow_type), pa.string())
        except pa.ArrowInvalid:
            continue
    return None


def reference_id_strings(ids: pa.Array | pa.ChunkedArray, n_columns: int, path: Path, column: str) -> pa.Array:
    """The ids ``pandas.read_csv`` + ``astype(str)`` makes of the CSV column ``ids`` (see module doc).

    ``n_columns`` is the number of columns of the file (it sets pandas' block size); ``path``
    and ``column`` name the file and column in the error for ids pandas would read as numbers
    with a fraction.
    """
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    integer = pc.match_substring_regex(ids, _INTEGER).to_numpy(zero_copy_only=False)
    missing = pc.is_in(ids, value_set=pa.array(PANDAS_NA_STRINGS)).to_numpy(zero_copy_only=False)
    numeric = integer | missing | pc.match_substring_regex(ids, _FLOAT).to_numpy(zero_copy_only=False)
    boolean = pc.is_in(ids, value_set=pa.array(_BOOLEANS)).to_numpy(zero_copy_only=False)
    step = block_rows(n_columns)
    parts: list[pa.Array] = []
    kinds: set[str] = set()
    for start in range(0, len(ids), step):
        stop = min(len(ids), start + step)
        block = ids.slice(start, stop - start)
        converted = _as_integers(block) if integer[start:stop].all() else None
        if converted is not None:
            kinds.add(converted[0])
            parts.append(converted[1])
            continue
        if (numeric[start:stop].all() and not integer[start:stop].all()) or boolean[start:stop].all():
            first = start + int(np.argmax(~integer[start:stop]))
            raise GclBenchError(
                f"--protocol reference: pandas would read column {column!r} as "
                f"{'booleans' if boolean[start:stop].all() else 'floating-point numbers'} (e.g. "
                f"{ids[first].as_py()!r} on data row {first + 1}), which the reference turns into ids "
                "such as '123.0'; that is not reproduced", path,
            )
        kinds.add("text")
        parts.append(pc.if_else(pa.array(missing[start:stop]), pa.scalar("nan"), block))
    if kinds == {"int64", "uint64"}:
        raise GclBenchError(
            f"--protocol reference: pandas would join the blocks of column {column!r} as floating-point "
            "numbers (some ids exceed int64), which the reference turns into ids such as '123.0'; that is "
            "not reproduced", path,
        )
    return pa.concat_arrays(parts) if parts else pa.array([], type=pa.string())
