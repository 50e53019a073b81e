"""A read-only string column backed by Arrow, turned into Python strings only when first used.

A corpus of millions of documents loads from the memory-mapped cache in milliseconds because
nothing is converted until a consumer touches the column; the first element access (or
iteration) converts the whole column once with Arrow's bulk conversion and keeps the list.
:attr:`StrColumn.arrow` gives vectorised consumers the Arrow array without any conversion.

May import: pyarrow and numpy only.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
import pyarrow as pa


class StrColumn(Sequence):
    """A list-like column of ``str`` (or ``None``) values over an Arrow array."""

    __slots__ = ("_arrow", "_list", "_contiguous")

    def __init__(self, values: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> None:
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            self._arrow = values
            self._list: list[str | None] | None = None
        else:
            self._list = list(values)
            self._arrow = None
        self._contiguous: pa.Array | None = None

    @property
    def arrow(self) -> pa.Array | pa.ChunkedArray:
        """The values as an Arrow string array (built once from the list when needed)."""
        if self._arrow is None:
            self._arrow = pa.array(self._list, type=pa.string())
        return self._arrow

    def tolist(self) -> list[str | None]:
        """The values as a plain Python list (converted once, then shared)."""
        if self._list is None:
            self._list = self._arrow.to_pylist()
        return self._list

    def values_at(self, rows: np.ndarray) -> list[str | None]:
        """The values at ``rows`` as a list, without converting the whole column: taken from
        Arrow (its chunks combined once and kept: a take over thousands of chunks is slow), or
        from the Python list once that exists."""
        if self._list is not None:
            values = self._list
            return [values[i] for i in np.asarray(rows).tolist()]
        if self._contiguous is None:
            arrow = self._arrow
            self._contiguous = arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow
        return self._contiguous.take(rows).to_pylist()

    def __len__(self) -> int:
        return len(self._list) if self._list is not None else len(self._arrow)

    @overload
    def __getitem__(self, index: int) -> str | None: ...

    @overload
    def __getitem__(self, index: slice) -> list[str | None]: ...

    def __getitem__(self, index: Any) -> Any:
        return self.tolist()[index]

    def __iter__(self) -> Iterator[str | None]:
        return iter(self.tolist())

    def __contains__(self, value: object) -> bool:
        return value in self.tolist()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StrColumn):
            return self.tolist() == other.tolist()
        if isinstance(other, (list, tuple)):
            return self.tolist() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[str | None]) -> list[str | None]:
        return self.tolist() + list(other)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.tolist(), dtype=object if dtype is None else dtype)

    def __repr__(self) -> str:
        n = len(self)
        head = ", ".join(repr(v) for v in self.tolist()[:3]) if n else ""
        return f"StrColumn([{head}{', ...' if n > 3 else ''}], len={n})"
