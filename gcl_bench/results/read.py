"""Reading what ``gcl-bench run`` wrote: results.json (schema checked) and per_query.csv.

:func:`read_results` refuses a file of another :data:`~gcl_bench.results.files.SCHEMA_VERSION`
and one without the fields every reader needs (metrics, split); :func:`read_per_query` reads the
per-query table once, and :meth:`PerQueryTable.values` checks a column (numbers, no NaN, one row
per query, and, when given, that its mean is the one results.json reports). Every problem is an
error naming the file (and the line).

May import: gcl_bench.io, gcl_bench.errors, gcl_bench.data.splits, gcl_bench.results.files,
gcl_bench.results.sets.
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench.data.splits import canonical_split
from gcl_bench.errors import GclBenchError
from gcl_bench.io import read_json
from gcl_bench.results.files import RESULTS_NAME, SCHEMA_VERSION
from gcl_bench.results.sets import check_member


@dataclass
class ResultsFile:
    """The parts of one results.json that tables are built from (``data`` is the whole file)."""

    path: Path
    metrics: dict[str, float]
    split: str
    """Canonical split name."""
    model_name: str | None
    num_queries: int | None
    dataset: dict[str, Any]
    settings: dict[str, Any]
    curves: dict[str, dict[str, float]]
    data: dict[str, Any] = field(repr=False)


def read_results(path: str | os.PathLike[str]) -> ResultsFile:
    """Read one results.json, checking the schema version, the metrics and the split."""
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise GclBenchError("not a results file (expected a JSON object)", path)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise GclBenchError(
            f"schema_version {version!r} is not supported (this gcl_bench reads version "
            f"{SCHEMA_VERSION}); re-run the evaluation with this version",
            path,
        )
    metrics = data.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        raise GclBenchError("results file has no 'metrics'", path)
    try:
        values = {str(k): float(v) for k, v in metrics.items()}
    except (TypeError, ValueError):
        raise GclBenchError("'metrics' holds a non-numeric value", path) from None
    model = data.get("model") or {}
    dataset = data.get("dataset") or {}
    if not dataset.get("split"):
        raise GclBenchError("results file has no split ('dataset': {'split': ...})", path)
    try:
        split = canonical_split(str(dataset["split"]))
    except GclBenchError as err:
        raise GclBenchError(err.message, path) from None
    return ResultsFile(
        path=path,
        metrics=values,
        split=split,
        model_name=model.get("name") or None,
        num_queries=data.get("num_queries"),
        dataset=dict(dataset),
        settings=dict(data.get("settings") or {}),
        curves=dict(data.get("curves") or {}),
        data=data,
    )


@dataclass
class PerQueryTable:
    """A per_query.csv as read: its header and its rows (cells as text, with line numbers)."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]

    @property
    def query_ids(self) -> list[str]:
        """The query id of every non-blank row, in file order."""
        return [cells[0] for _, cells in self.rows if cells]

    def values(self, metric: str, expected_mean: float | None = None) -> dict[str, float]:
        """``{query_id: value}`` of one column; with ``expected_mean``, its mean must match."""
        path = self.path
        if metric not in self.header:
            raise GclBenchError(f"per-query file has no column {metric!r}", path)
        column = self.header.index(metric)
        values: dict[str, float] = {}
        for line_number, row in self.rows:
            if len(row) != len(self.header):
                raise GclBenchError(f"line {line_number} has {len(row)} fields, expected {len(self.header)}", path)
            query_id = row[0]
            if query_id in values:
                raise GclBenchError(f"query id {query_id!r} appears twice", path)
            try:
                value = float(row[column])
            except ValueError:
                raise GclBenchError(f"line {line_number}: {metric} is not a number ({row[column]!r})", path) from None
            if math.isnan(value):
                raise GclBenchError(f"line {line_number}: {metric} is NaN", path)
            values[query_id] = value
        if not values:
            raise GclBenchError("per-query file has no rows", path)
        mean = float(np.mean(list(values.values())))
        if expected_mean is not None and abs(mean - expected_mean) > 1e-6 * max(1.0, abs(expected_mean)):
            raise GclBenchError(
                f"mean {metric} over its rows is {mean:.6f} but {RESULTS_NAME} says {expected_mean:.6f}; "
                "the two files are from different runs",
                path,
            )
        return values


def read_per_query(path: str | os.PathLike[str]) -> PerQueryTable:
    """Read a per_query.csv; its first column must be ``query_id``; beside a results.json, it must
    be the file that results.json records (:func:`~gcl_bench.results.sets.check_member`)."""
    path = Path(path)
    check_member(path)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or header[0] != "query_id":
            raise GclBenchError("per-query file must start with a 'query_id' column", path)
        rows = list(enumerate(reader, start=2))
    return PerQueryTable(path, header, rows)
