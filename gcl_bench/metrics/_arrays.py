"""The array form every metric works on: the hits of a ranked run, plus input checks.

A *ranked gain matrix* ``gains[q, r]`` holds the grade of the document at rank ``r + 1`` of query
``q`` (0 for an unjudged document and for padding after the end of a short list). It is mostly
zeros, and only its non-zero entries, the *hits* (retrieved documents with a positive grade),
add to any metric. :class:`Hits` keeps just those, sorted by (query, rank); a metric family
turns each hit into a term, and a metric at cutoff k is the sum of the terms of the hits ranked
within k: a running sum per query, read at the number of hits above k. The running sums add
the terms in rank order, as a loop down the ranked list would.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from gcl_bench.errors import GclBenchError


@dataclass
class Hits:
    """Non-zero entries of a ranked gain matrix, sorted by (row, rank).

    Attributes:
        rows: query (row) of each hit; ranks: its 0-based rank; grades: its grade (>= 1).
        n_rows: number of queries; depth: length of the ranked lists (columns of the matrix).
    """

    rows: np.ndarray
    ranks: np.ndarray
    grades: np.ndarray
    n_rows: int
    depth: int
    _above: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.counts = np.bincount(self.rows, minlength=self.n_rows)
        self.starts = np.cumsum(self.counts) - self.counts
        self.within = np.arange(self.rows.size) - self.starts[self.rows]  # hits ranked above
        self.width = int(self.counts.max(initial=0))
        self.every_row = np.arange(self.n_rows)

    @classmethod
    def from_matrix(cls, gains: np.ndarray) -> Hits:
        rows, ranks = np.nonzero(gains)
        return cls(rows, ranks, gains[rows, ranks].astype(np.int64), gains.shape[0], gains.shape[1])

    def dense(self) -> np.ndarray:
        """The (n_rows, depth) ranked gain matrix."""
        gains = np.zeros((self.n_rows, self.depth), dtype=np.int64)
        gains[self.rows, self.ranks] = self.grades
        return gains

    def take_rows(self, rows: np.ndarray, n_rows: int) -> Hits:
        """The same hits with row i moved to row ``rows[i]`` (increasing) of ``n_rows`` rows."""
        return Hits(rows[self.rows], self.ranks, self.grades, n_rows, self.depth)

    def table(self, fill: float = 0.0) -> np.ndarray:
        """An (n_rows, width + 1) float table: column j + 1 is each row's j-th hit."""
        return np.full((self.n_rows, self.width + 1), fill)

    def running(self, terms: np.ndarray) -> np.ndarray:
        """Per-row running sums of per-hit terms; column j = sum over the row's first j hits."""
        table = self.table()
        table[self.rows, self.within + 1] = terms
        return np.cumsum(table, axis=1, out=table)

    def above(self, k: int | None) -> np.ndarray:
        """Number of hits ranked within the first k, per row (k None: all)."""
        if k is None or k >= self.depth:
            return self.counts
        if k not in self._above:
            keys = self.rows * (self.depth + 1) + self.ranks
            limits = self.every_row * (self.depth + 1) + k
            self._above[k] = np.searchsorted(keys, limits) - self.starts
        return self._above[k]

    def at(self, running: np.ndarray, k: int | None) -> np.ndarray:
        """Read a running-sum table at cutoff k: the sum of the terms of the hits above k."""
        return running[self.every_row, self.above(k)]


def as_gain_matrix(gains: ArrayLike) -> np.ndarray:
    """Check that ``gains`` is a (Q, K) matrix of non-negative integer grades; return it."""
    matrix = np.asarray(gains)
    if matrix.ndim != 2:
        raise GclBenchError(f"gains must be a (queries, ranks) matrix, got shape {matrix.shape}")
    if matrix.dtype.kind == "f":
        if not (np.isfinite(matrix).all() and (matrix == np.floor(matrix)).all()):
            raise GclBenchError("gains must be non-negative integer grades")
        matrix = matrix.astype(np.int64)
    elif matrix.dtype.kind not in "iub":
        raise GclBenchError(f"gains must be non-negative integer grades, got dtype {matrix.dtype}")
    if matrix.size and matrix.min() < 0:
        raise GclBenchError("gains must be non-negative integer grades")
    return matrix


def as_hits(gains: ArrayLike) -> Hits:
    """Checked :class:`Hits` of a ranked gain matrix."""
    return Hits.from_matrix(as_gain_matrix(gains))


def as_query_vector(values: ArrayLike, n_queries: int, what: str) -> np.ndarray:
    """Check that ``values`` has one entry per query; return it as int64."""
    vector = np.asarray(values, dtype=np.int64)
    if vector.shape != (n_queries,):
        raise GclBenchError(f"{what} must have one entry per query ({n_queries}), got {vector.shape}")
    return vector


def check_cutoff(k: int | None) -> int | None:
    """None (the whole list) or a positive integer cutoff."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise GclBenchError(f"a rank cutoff must be a positive integer, got {k!r}")
    return None if k is None else int(k)


def safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0."""
    out = np.zeros(np.shape(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=np.asarray(denominator) > 0)
    return out
