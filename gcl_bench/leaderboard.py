"""Leaderboards: results.json files -> Markdown / LaTeX / CSV tables and metric@k plots.

Rows are models, column groups are splits (paper order: in-domain, novel query, novel document,
zero-shot), cells are metric means to 3 decimals, the best value of each column in bold. With a
baseline, every other model gets a significance mark per cell from a paired two-sided test on
the per-query values (``per_query.csv`` beside ``results.json``, aligned by query id), Holm-
corrected across the models compared in that split and metric (:mod:`gcl_bench.stats`).

Results are never mixed silently. Files are grouped into one table per *setting*: dataset
(sub-dataset name), eval set, retrieval top-k and how the judgements were built (sampled or
not, with seed, top-q and judgement top-k); each table has a heading saying which. Inside one
table every result of a split must be scored on the same judgements: when their query-set
hashes, query counts, judgement counts or per-query query ids differ, the leaderboard refuses
with an error. Differing dataset fingerprints (which identify files by path, size and mtime,
so two copies of the same data differ) are stated in a note under the table.

Pipeline (each step usable on its own)::

    paths = discover(["results/"])
    entries = load_entries(paths)
    tables = build_tables(entries, metrics=["ndcg@10", "err"], baseline="bm25")
    print(render_markdown(tables))

or in one call: ``leaderboard(["results/"], fmt="latex", baseline="bm25")``.
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError
from gcl_bench.io import read_json

SCHEMA_VERSION = 1
DEFAULT_METRICS = ("ndcg@10", "err", "rbp@0.9")
#: canonical split names in the order the paper reports them
SPLIT_ORDER = ("in_domain", "novel_query", "novel_document", "zero_shot")
SPLIT_LABELS = {
    "in_domain": "In-domain",
    "novel_query": "Novel query",
    "novel_document": "Novel document",
    "zero_shot": "Zero-shot",
}
_SPLIT_ALIASES = {
    "novel_corpus": "novel_document",
    "query_0_product_id_0": "in_domain",
    "query_1_product_id_0": "novel_query",
    "query_0_product_id_1": "novel_document",
    "query_1_product_id_1": "zero_shot",
}
_METRIC_LABELS = {
    "ndcg": "nDCG",
    "err": "ERR",
    "rbp": "RBP",
    "map": "MAP",
    "mrr": "MRR",
    "recall": "R",
    "precision": "P",
    "err_chapelle": "ERR-C",
    "rbp_binary": "RBP-bin",
}
UP, DOWN = "\u2191", "\u2193"
DEFAULT_REPORTED = Path(__file__).resolve().parent.parent / "leaderboards" / "reported.json"
RESULTS_NAME = "results.json"
PER_QUERY_NAME = "per_query.csv"


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One results file (or one reported row): a model's metric means on one split."""

    model: str
    split: str
    metrics: dict[str, float]
    path: Path | None = None
    num_queries: int | None = None
    dataset: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, dict[str, float]] = field(default_factory=dict)
    reported: dict[str, Any] | None = None
    """For published numbers: the source record from reported.json; None for measured rows."""

    @property
    def dataset_name(self) -> str:
        subset = self.dataset.get("subset")
        path = self.dataset.get("path")
        if subset:
            # the bundled sample lives in <cache>/sample/<version>: say "sample v1", not "v1"
            if path and Path(str(path)).name == subset and Path(str(path)).parent.name == "sample":
                return f"sample {subset}"
            return str(subset)
        return Path(str(path)).name if path else "unknown dataset"

    def setting(self) -> tuple[tuple[str, Any], ...]:
        """What must be equal for two results to share a table (besides the split)."""
        sampled = self.dataset.get("sampled")
        items: list[tuple[str, Any]] = [
            ("dataset", self.dataset_name),
            ("eval_set", self.dataset.get("eval_set")),
            ("top_k", self.settings.get("top_k")),
            ("sampled", bool(sampled) if sampled is not None else None),
        ]
        if sampled:
            for key in ("seed", "top_q", "top_k"):
                items.append((f"judgements_{key}", self.dataset.get(key)))
        return tuple(items)

    @property
    def per_query_path(self) -> Path | None:
        return None if self.path is None else self.path.parent / PER_QUERY_NAME


def canonical_split(name: str) -> str:
    """Canonical split name for ``name`` (aliases and file stems accepted)."""
    try:  # the data layer owns the names when it is present
        from gcl_bench.data import canonical_split as data_canonical_split
    except ImportError:
        data_canonical_split = None
    if data_canonical_split is not None:
        return data_canonical_split(name)
    key = name.strip().lower().replace("-", "_")
    key = _SPLIT_ALIASES.get(key, key)
    if key not in SPLIT_ORDER:
        raise GclBenchError(f"unknown split {name!r}; valid: {', '.join(SPLIT_ORDER)}")
    return key


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """results.json files: each file as given, each directory searched recursively (sorted)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            hits = sorted(path.rglob(RESULTS_NAME))
            if not hits:
                raise GclBenchError(f"no {RESULTS_NAME} under this directory", path)
            found.extend(hits)
        elif path.is_file():
            found.append(path)
        else:
            raise GclBenchError("no such file or directory", path)
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in found:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(path)
    return unique


def load_entry(path: str | os.PathLike[str], label: str | None = None) -> Entry:
    """Read one results.json, checking the schema version and the fields a table needs."""
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
    model = data.get("model") or {}
    dataset = data.get("dataset") or {}
    name = label or model.get("name")
    if not name:
        raise GclBenchError("results file has no model name ('model': {'name': ...})", path)
    if not dataset.get("split"):
        raise GclBenchError("results file has no split ('dataset': {'split': ...})", path)
    try:
        values = {str(k): float(v) for k, v in metrics.items()}
    except (TypeError, ValueError):
        raise GclBenchError("'metrics' holds a non-numeric value", path) from None
    try:
        split = canonical_split(str(dataset["split"]))
    except GclBenchError as err:
        raise GclBenchError(err.message, path) from None
    return Entry(
        model=str(name),
        split=split,
        metrics=values,
        path=path,
        num_queries=data.get("num_queries"),
        dataset=dict(dataset),
        settings=dict(data.get("settings") or {}),
        curves=dict(data.get("curves") or {}),
    )


def load_entries(
    paths: Iterable[str | os.PathLike[str]], labels: Mapping[str, str] | None = None
) -> list[Entry]:
    """Load every results file; ``labels`` maps a results file or a folder above it to a row name.

    The nearest match wins, so ``results/clip=clip-random`` names every split under ``results/clip``.
    """
    resolved_labels = {Path(k).resolve(): v for k, v in (labels or {}).items()}
    used: set[Path] = set()
    entries = []
    for path in paths:
        resolved = Path(path).resolve()
        label = None
        for key in (resolved, *resolved.parents):
            if key in resolved_labels:
                label = resolved_labels[key]
                used.add(key)
                break
        entries.append(load_entry(path, label=label))
    for key in resolved_labels:
        if key not in used:
            raise GclBenchError("--label names a path that is not among the results files", key)
    return entries


def load_reported(path: str | os.PathLike[str] | None = None) -> list[Entry]:
    """The published numbers of leaderboards/reported.json as entries marked ``reported``."""
    path = Path(path) if path is not None else DEFAULT_REPORTED
    data = read_json(path)
    sources = data.get("sources", {})
    entries = []
    for row in data.get("rows", []):
        source = sources.get(row.get("source"), {})
        entries.append(
            Entry(
                model=f"{row['name']} (reported)",
                split=canonical_split(row["split"]),
                metrics={k: float(v) for k, v in row["metrics"].items()},
                dataset={"subset": row["dataset"]},
                reported={**row, "source_record": source, "table_notes": data.get("table_notes", [])},
            )
        )
    return entries


def read_per_query(entry: Entry, metric: str) -> dict[str, float]:
    """Per-query values of ``metric`` from the per_query.csv beside ``entry``'s results.json."""
    path = entry.per_query_path
    if path is None or not path.is_file():
        raise GclBenchError(
            f"no {PER_QUERY_NAME} beside {RESULTS_NAME}; significance tests need per-query values "
            "(re-run the evaluation, or leave out --baseline)",
            entry.path,
        )
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or header[0] != "query_id":
            raise GclBenchError("per-query file must start with a 'query_id' column", path)
        if metric not in header:
            raise GclBenchError(f"per-query file has no column {metric!r}", path)
        column = header.index(metric)
        values: dict[str, float] = {}
        for line_number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise GclBenchError(f"line {line_number} has {len(row)} fields, expected {len(header)}", path)
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
    expected = entry.metrics.get(metric)
    if expected is not None and abs(mean - expected) > 1e-6 * max(1.0, abs(expected)):
        raise GclBenchError(
            f"mean {metric} over its rows is {mean:.6f} but {RESULTS_NAME} says {expected:.6f}; "
            "the two files are from different runs",
            path,
        )
    return values


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------


@dataclass
class Cell:
    value: float | None
    bold: bool = False
    p_value: float | None = None
    p_holm: float | None = None
    significant: bool | None = None
    direction: int = 0
    """+1 when the model's mean is above the baseline's, -1 below (0: no test)."""


@dataclass
class Row:
    model: str
    reported: bool = False
    baseline: bool = False
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)


@dataclass
class Table:
    """One leaderboard table: one setting (dataset, eval set, top-k, judgements)."""

    setting: dict[str, Any]
    splits: list[str]
    metrics: list[str]
    rows: list[Row]
    baseline: str | None = None
    test: str = "ttest"
    alpha: float = 0.05
    permutations: int = 10_000
    seed: int = 0
    num_queries: dict[str, list[int]] = field(default_factory=dict)
    tested_models: dict[tuple[str, str], int] = field(default_factory=dict)
    reported_sources: list[dict[str, Any]] = field(default_factory=list)
    reported_notes: list[str] = field(default_factory=list)
    data_notes: list[str] = field(default_factory=list)

    @property
    def heading(self) -> str:
        setting = self.setting
        parts = [str(setting.get("dataset"))]
        if setting.get("reported_only"):
            return f"{parts[0]}: published numbers"
        if setting.get("eval_set"):
            parts.append(f"{setting['eval_set']} judgements")
        if setting.get("top_k") is not None:
            parts.append(f"top-{setting['top_k']} retrieved")
        if setting.get("sampled"):
            extra = ", ".join(
                f"{key.removeprefix('judgements_').replace('_', '-')} {setting[key]}"
                for key in ("judgements_seed", "judgements_top_q", "judgements_top_k")
                if setting.get(key) is not None
            )
            parts.append("judgements sampled from the triplets" + (f" ({extra})" if extra else ""))
        elif setting.get("sampled") is False:
            parts.append("full judgement files")
        return ", ".join(parts)

    @property
    def columns(self) -> list[tuple[str, str]]:
        return [(split, metric) for split in self.splits for metric in self.metrics]


def _split_sort_key(split: str) -> tuple[int, str]:
    return (SPLIT_ORDER.index(split), split) if split in SPLIT_ORDER else (len(SPLIT_ORDER), split)


def read_query_ids(entry: Entry) -> list[str] | None:
    """Query ids of the per_query.csv beside ``entry`` (None when there is none)."""
    path = entry.per_query_path
    if path is None or not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or header[0] != "query_id":
            raise GclBenchError("per-query file must start with a 'query_id' column", path)
        return [row[0] for row in reader if row]


def _check_same_data(split: str, entries: list[Entry]) -> list[str]:
    """Refuse when results of one split in one table were scored on different judgements.

    Compared: the recorded query-set hash, the number of scored queries, the number of
    judgements, and the query ids of the per-query files. The dataset fingerprint identifies
    the input *files* (path, size, mtime), so two copies of the same data differ in it: that is
    reported as a note (returned), not refused.
    """
    def refuse(what: str, here: Any, there: Any, entry: Entry, other: Entry) -> GclBenchError:
        return GclBenchError(
            f"{split}: results disagree on {what} ({here} here, {there} in {other.path}); they were "
            "scored on different judgements and cannot share a column",
            entry.path,
        )

    checks = {
        "the query-set hash": lambda e: e.dataset.get("query_hash"),
        "the number of queries": lambda e: e.num_queries,
        "the number of judgements": lambda e: e.dataset.get("num_judgements"),
    }
    for what, get in checks.items():
        first: tuple[Any, Entry] | None = None
        for entry in entries:
            value = get(entry)
            if value is None:
                continue
            if first is None:
                first = (value, entry)
            elif value != first[0]:
                raise refuse(what, repr(value), repr(first[0]), entry, first[1])
    first_ids: tuple[set[str], Entry] | None = None
    for entry in entries:
        ids = read_query_ids(entry)
        if ids is None:
            continue
        if first_ids is None:
            first_ids = (set(ids), entry)
        elif set(ids) != first_ids[0]:
            only_here = sorted(set(ids) - first_ids[0])
            only_there = sorted(first_ids[0] - set(ids))
            raise GclBenchError(
                f"{split}: per-query values cover different queries than {first_ids[1].per_query_path} "
                f"({len(only_here)} only here, {len(only_there)} only there, e.g. "
                f"{(only_here or only_there)[0]!r}); they were scored on different judgements and "
                "cannot share a column",
                entry.per_query_path,
            )
    fingerprints = {e.dataset.get("fingerprint") for e in entries} - {None}
    if len(fingerprints) > 1:
        return [
            f"{split_label(split)}: the results come from {len(fingerprints)} copies of the dataset files "
            "(different path, size or modification time); their query sets and judgement counts agree."
        ]
    return []


def build_tables(
    entries: Sequence[Entry],
    metrics: Sequence[str] = DEFAULT_METRICS,
    splits: Sequence[str] | None = None,
    baseline: str | None = None,
    test: str = "ttest",
    alpha: float = 0.05,
    permutations: int = 10_000,
    seed: int = 0,
    reported: Sequence[Entry] = (),
) -> list[Table]:
    """Group entries into tables (one per setting), fill cells, bold the best, test significance."""
    from gcl_bench.stats import TESTS

    if test not in TESTS:
        raise GclBenchError(f"unknown test {test!r}; choose one of {', '.join(TESTS)}")
    if not 0 < alpha < 1:
        raise GclBenchError(f"alpha must be between 0 and 1, got {alpha}")
    metrics = list(dict.fromkeys(metrics))
    if not metrics:
        raise GclBenchError("no metrics chosen")
    wanted = None if splits is None else [canonical_split(s) for s in splits]
    measured = [e for e in entries if wanted is None or e.split in wanted]
    if not measured and not reported:
        raise GclBenchError("no results for the chosen splits")
    for entry in measured:
        missing = [m for m in metrics if m not in entry.metrics]
        if missing:
            raise GclBenchError(
                f"results file has no metric {', '.join(map(repr, missing))} "
                f"(it has: {', '.join(sorted(entry.metrics))})",
                entry.path,
            )

    groups: dict[tuple, list[Entry]] = {}
    for entry in measured:
        groups.setdefault(entry.setting(), []).append(entry)

    tables: list[Table] = []
    for setting_key, group in groups.items():
        setting = dict(setting_key)
        seen: dict[tuple[str, str], Entry] = {}
        for entry in group:
            key = (entry.model, entry.split)
            if key in seen:
                raise GclBenchError(
                    f"model {entry.model!r} appears twice for split {entry.split} (also in "
                    f"{seen[key].path}); pass only one, or name them apart with --label PATH=NAME",
                    entry.path,
                )
            seen[key] = entry
        by_split: dict[str, list[Entry]] = {}
        for entry in group:
            by_split.setdefault(entry.split, []).append(entry)
        data_notes: list[str] = []
        for split in sorted(by_split, key=_split_sort_key):
            data_notes += _check_same_data(split, by_split[split])
        table = Table(
            setting=setting,
            splits=sorted(by_split, key=_split_sort_key),
            metrics=metrics,
            rows=[],
            test=test,
            alpha=alpha,
            permutations=permutations,
            seed=seed,
            data_notes=data_notes,
        )
        table.num_queries = {
            split: sorted({e.num_queries for e in es if e.num_queries is not None})
            for split, es in by_split.items()
        }
        rows: dict[str, Row] = {}
        for entry in group:
            row = rows.setdefault(entry.model, Row(model=entry.model))
            row.entries[entry.split] = entry
        table.rows = list(rows.values())
        tables.append(table)

    if reported:
        _attach_reported(tables, [e for e in reported if wanted is None or e.split in wanted],
                         metrics, test, alpha)

    for table in tables:
        if baseline is not None:
            _mark_significance(table, baseline)
        _fill_and_bold(table)
    return tables


def _attach_reported(
    tables: list[Table],
    reported: list[Entry],
    metrics: list[str],
    test: str,
    alpha: float,
) -> None:
    """Add published rows to the tables of their dataset (or to a table of their own)."""
    by_dataset: dict[str, list[Entry]] = {}
    for entry in reported:
        if any(m in entry.metrics for m in metrics):
            by_dataset.setdefault(entry.dataset_name, []).append(entry)
    for dataset, entries in by_dataset.items():
        targets = [t for t in tables if t.setting.get("dataset") == dataset]
        if not targets:
            splits = sorted({e.split for e in entries}, key=_split_sort_key)
            table = Table(setting={"dataset": dataset, "reported_only": True}, splits=splits,
                          metrics=metrics, rows=[], test=test, alpha=alpha)
            tables.append(table)
            targets = [table]
        for table in targets:
            rows: dict[str, Row] = {}
            for entry in entries:
                if entry.split not in table.splits:
                    continue
                row = rows.setdefault(entry.model, Row(model=entry.model, reported=True))
                row.entries[entry.split] = entry
            if not rows:
                continue
            table.rows = list(rows.values()) + table.rows
            sources: dict[str, dict[str, Any]] = {}
            table_notes: dict[str, None] = {}
            for row in rows.values():
                for entry in row.entries.values():
                    record = entry.reported or {}
                    source = record.get("source_record", {})
                    sources[source.get("title", "")] = source
                    table_notes.update(dict.fromkeys(record.get("table_notes", [])))
            table.reported_sources = list(sources.values())
            table.reported_notes = list(table_notes)


def _mark_significance(table: Table, baseline: str) -> None:
    from gcl_bench.stats import holm, paired_test

    if table.setting.get("reported_only"):
        return
    base_row = next((r for r in table.rows if r.model == baseline and not r.reported), None)
    if base_row is None:
        models = ", ".join(r.model for r in table.rows if not r.reported)
        raise GclBenchError(
            f"baseline {baseline!r} has no results in the table '{table.heading}' (models there: {models})"
        )
    base_row.baseline = True
    table.baseline = baseline
    cache: dict[tuple[int, str], dict[str, float]] = {}

    def per_query(entry: Entry, metric: str) -> dict[str, float]:
        key = (id(entry), metric)
        if key not in cache:
            cache[key] = read_per_query(entry, metric)
        return cache[key]

    for split in table.splits:
        base_entry = base_row.entries.get(split)
        if base_entry is None:
            continue
        others = [r for r in table.rows if not r.reported and r is not base_row and split in r.entries]
        for metric in table.metrics:
            base_values = per_query(base_entry, metric)
            p_values = []
            for row in others:
                values = per_query(row.entries[split], metric)
                if values.keys() != base_values.keys():
                    only_here = sorted(values.keys() - base_values.keys())
                    only_base = sorted(base_values.keys() - values.keys())
                    example = (only_here or only_base)[0]
                    raise GclBenchError(
                        f"per-query values cover different queries than the baseline's "
                        f"{base_entry.per_query_path} ({len(only_here)} only here, {len(only_base)} "
                        f"only in the baseline, e.g. {example!r}); evaluate both on the same judgements",
                        row.entries[split].per_query_path,
                    )
                ids = sorted(base_values)
                a = np.array([values[q] for q in ids])
                b = np.array([base_values[q] for q in ids])
                p = paired_test(table.test, a, b, permutations=table.permutations, seed=table.seed)
                diff = float(np.mean(a - b))
                cell = row.cells.setdefault((split, metric), Cell(value=None))
                cell.p_value = p
                cell.direction = (diff > 0) - (diff < 0)
                p_values.append(p)
            for row, p_adj in zip(others, holm(p_values), strict=True):
                cell = row.cells[(split, metric)]
                cell.p_holm = p_adj
                cell.significant = bool(p_adj < table.alpha and cell.direction != 0)
            table.tested_models[(split, metric)] = len(others)


def _fill_and_bold(table: Table) -> None:
    for row in table.rows:
        for split, metric in table.columns:
            cell = row.cells.setdefault((split, metric), Cell(value=None))
            entry = row.entries.get(split)
            cell.value = None if entry is None else entry.metrics.get(metric)
    for column in table.columns:
        # measured rows compete with each other; published rows only when nothing was measured
        measured = [r for r in table.rows if not r.reported and r.cells[column].value is not None]
        candidates = measured or [r for r in table.rows if r.cells[column].value is not None]
        if not candidates:
            continue
        best = max(round(r.cells[column].value, 3) for r in candidates)
        for row in candidates:
            row.cells[column].bold = round(row.cells[column].value, 3) == best


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------


def metric_label(metric: str) -> str:
    """Display name of a metric: ``ndcg@10`` -> ``nDCG@10``, ``rbp@0.9`` -> ``RBP@0.9``."""
    base, sep, cutoff = metric.partition("@")
    return _METRIC_LABELS.get(base, base) + sep + cutoff


def split_label(split: str) -> str:
    return SPLIT_LABELS.get(split, split)


def _queries_text(table: Table) -> str:
    parts = []
    for split in table.splits:
        counts = table.num_queries.get(split) or []
        if counts:
            parts.append(f"{split_label(split)} {'/'.join(str(c) for c in counts)}")
    return "Queries per split: " + ", ".join(parts) + "." if parts else ""


def notes(table: Table, fmt: str = "markdown") -> list[str]:
    """Plain-text notes stated under a table (test, alpha, number of queries, sources)."""
    from gcl_bench.stats import TEST_NAMES

    alpha_symbol = "$\\alpha$" if fmt == "latex" else "\u03b1"
    up, down = ("$\\uparrow$", "$\\downarrow$") if fmt == "latex" else (UP, DOWN)
    has_reported = any(r.reported for r in table.rows)
    lines = ["Best measured value per column in bold." if has_reported and not table.setting.get("reported_only")
             else "Best value per column in bold."]
    if table.baseline is not None and not any(table.tested_models.values()):
        lines.append(f"No significance test: no other model to compare with the baseline {table.baseline}.")
    elif table.baseline is not None:
        test = TEST_NAMES[table.test] + " on per-query values"
        if table.test == "randomization":
            test += f" ({table.permutations} random sign flips with seed {table.seed}, or all when 2^n is fewer)"
        counts = sorted(set(table.tested_models.values()))
        family = "/".join(str(c) for c in counts)
        plural = "" if counts == [1] else "s"
        lines.append(
            f"{up}/{down}: significantly higher/lower than the baseline {table.baseline}: {test}, "
            f"Holm correction over the {family} model{plural} compared per split and metric, "
            f"{alpha_symbol} = {table.alpha:g}."
        )
    elif not table.setting.get("reported_only"):
        lines.append("No significance test (no baseline chosen).")
    queries = _queries_text(table)
    if queries:
        lines.append(queries)
    lines.extend(table.data_notes)
    if table.reported_sources:
        sources = "; ".join(
            f"{s.get('title', '')}, {s.get('section', '')}" + (f" ({s['url']})" if s.get("url") else "")
            for s in table.reported_sources
        )
        lines.append(f"Rows marked (reported) are published numbers, not re-computed and not tested: {sources}.")
        lines.extend(table.reported_notes)
    return lines


def _format_value(cell: Cell, fmt: str) -> str:
    if cell.value is None:
        return "\u2013" if fmt == "markdown" else "--"
    text = f"{cell.value:.3f}"
    if cell.bold:
        text = f"**{text}**" if fmt == "markdown" else f"\\textbf{{{text}}}"
    if cell.significant:
        arrow = UP if cell.direction > 0 else DOWN
        if fmt == "latex":
            arrow = "$^{\\uparrow}$" if cell.direction > 0 else "$^{\\downarrow}$"
        text += arrow
    return text


def _row_label(row: Row) -> str:
    return row.model + (" (baseline)" if row.baseline else "")


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*[]|<>"})
#: "_" only starts or ends emphasis at a word boundary; inside a word (open_clip) it is literal
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def markdown_escape(text: str) -> str:
    """Escape characters that Markdown (GitHub tables) would interpret."""
    return _MD_UNDERSCORE.sub(r"\\_", text.translate(_MD_SPECIAL))


def render_markdown(tables: Sequence[Table]) -> str:
    """GitHub-flavoured Markdown: a heading, a table and its notes per setting."""
    out: list[str] = []
    for table in tables:
        out.append(f"### {markdown_escape(table.heading)}")
        out.append("")
        header = ["Model"] + [f"{split_label(s)}<br>{metric_label(m)}" for s, m in table.columns]
        out.append("| " + " | ".join(header) + " |")
        out.append("|:---|" + "---:|" * len(table.columns))
        for row in table.rows:
            cells = [markdown_escape(_row_label(row))]
            cells += [_format_value(row.cells[c], "markdown") for c in table.columns]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        for line in notes(table, "markdown"):
            out.append(line)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters in plain text."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def render_latex(tables: Sequence[Table]) -> str:
    """LaTeX ``table`` environments with booktabs rules and one column group per split."""
    out = ["% Generated by gcl-bench leaderboard; needs \\usepackage{booktabs} in the preamble."]
    for table in tables:
        width = len(table.metrics)
        spec = "l" + ("@{\\hspace{1em}}" + "r" * width) * len(table.splits)
        out.append("\\begin{table}[t]")
        out.append("\\centering")
        out.append(f"\\caption{{{latex_escape(table.heading)}}}")
        out.append(f"\\begin{{tabular}}{{{spec}}}")
        out.append("\\toprule")
        group = [f"\\multicolumn{{{width}}}{{c}}{{{latex_escape(split_label(s))}}}" for s in table.splits]
        out.append(" & " + " & ".join(group) + " \\\\")
        rules = [f"\\cmidrule(lr){{{2 + i * width}-{1 + (i + 1) * width}}}" for i in range(len(table.splits))]
        out.append(" ".join(rules))
        out.append("Model & " + " & ".join(latex_escape(metric_label(m)) for _, m in table.columns) + " \\\\")
        out.append("\\midrule")
        previous_reported = None
        for row in table.rows:
            if previous_reported is True and not row.reported:
                out.append("\\midrule")
            previous_reported = row.reported
            cells = [latex_escape(_row_label(row))]
            cells += [_format_value(row.cells[c], "latex") for c in table.columns]
            out.append(" & ".join(cells) + " \\\\")
        out.append("\\bottomrule")
        out.append("\\end{tabular}")
        note_text = " ".join(_latex_note(line) for line in notes(table, "latex"))
        out.append(f"\\par\\smallskip{{\\footnotesize {note_text}\\par}}")
        out.append("\\end{table}")
        out.append("")
    return "\n".join(out)


def _latex_note(line: str) -> str:
    """Escape a note but keep the math snippets the notes use on purpose."""
    keep = ["$\\alpha$", "$\\uparrow$", "$\\downarrow$"]
    placeholders = {f"@@{i}@@": k for i, k in enumerate(keep)}
    for token, snippet in placeholders.items():
        line = line.replace(snippet, token)
    line = latex_escape(line)
    for token, snippet in placeholders.items():
        line = line.replace(token, snippet)
    return line


CSV_COLUMNS = (
    "table", "model", "source", "split", "metric", "value", "num_queries",
    "baseline", "test", "p_value", "p_holm", "significant",
)


def render_csv(tables: Sequence[Table]) -> str:
    """Tidy CSV: one row per table x model x split x metric that has a value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for table in tables:
        for row in table.rows:
            for split, metric in table.columns:
                cell = row.cells[(split, metric)]
                if cell.value is None:
                    continue
                entry = row.entries[split]
                tested = cell.p_value is not None
                writer.writerow([
                    table.heading,
                    row.model,
                    "reported" if row.reported else "measured",
                    split,
                    metric,
                    repr(cell.value),
                    "" if entry.num_queries is None else entry.num_queries,
                    table.baseline or "",
                    table.test if tested else "",
                    repr(cell.p_value) if tested else "",
                    repr(cell.p_holm) if tested else "",
                    ("true" if cell.significant else "false") if tested else "",
                ])
    return buffer.getvalue()


def render(tables: Sequence[Table], fmt: str) -> str:
    """Dispatch on ``fmt`` ("markdown", "latex" or "csv")."""
    renderers = {"markdown": render_markdown, "latex": render_latex, "csv": render_csv}
    if fmt not in renderers:
        raise GclBenchError(f"unknown format {fmt!r}; choose one of {', '.join(renderers)}")
    return renderers[fmt](tables)


def leaderboard(
    results: Iterable[str | os.PathLike[str]],
    fmt: str = "markdown",
    metrics: Sequence[str] = DEFAULT_METRICS,
    splits: Sequence[str] | None = None,
    baseline: str | None = None,
    test: str = "ttest",
    alpha: float = 0.05,
    permutations: int = 10_000,
    seed: int = 0,
    include_reported: bool = False,
    labels: Mapping[str, str] | None = None,
) -> str:
    """The whole ``gcl-bench leaderboard`` in one call: results files or folders in, text out."""
    entries = load_entries(discover(results), labels=labels)
    tables = build_tables(
        entries, metrics=metrics, splits=splits, baseline=baseline, test=test, alpha=alpha,
        permutations=permutations, seed=seed, reported=load_reported() if include_reported else (),
    )
    return render(tables, fmt)


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------

CURVE_LABELS = {"ndcg": "nDCG@k", "recall": "Recall@k"}


def plot_curves(table: Table, path: str | os.PathLike[str], curves: Sequence[str] = ("ndcg", "recall")) -> Path:
    """Metric@k curves, one subplot per curve x split, one colour per model, one shared legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gcl_bench.io import atomic_path

    rows = [r for r in table.rows if not r.reported and any(e.curves for e in r.entries.values())]
    if not rows:
        raise GclBenchError(f"no results file in '{table.heading}' has 'curves' to plot")
    splits = [s for s in table.splits if any(s in r.entries and r.entries[s].curves for r in rows)]
    colours = plt.get_cmap("tab10").colors
    markers = "osD^vP*Xh<>"
    fig, axes = plt.subplots(
        len(curves), len(splits), figsize=(3.6 * len(splits) + 0.6, 3.0 * len(curves) + 0.9),
        squeeze=False, sharex=True,
    )
    ticks = [1, 5, 10, 20, 50, 100, 200, 500, 1000]
    handles = {}
    for i, curve in enumerate(curves):
        for j, split in enumerate(splits):
            ax = axes[i][j]
            for k, row in enumerate(rows):
                entry = row.entries.get(split)
                points = (entry.curves.get(curve) if entry else None) or {}
                if not points:
                    continue
                xs = sorted(int(x) for x in points)
                ys = [float(points[str(x)]) for x in xs]
                (line,) = ax.plot(xs, ys, color=colours[k % len(colours)], marker=markers[k % len(markers)],
                                  markersize=4, linewidth=1.6, label=_row_label(row))
                handles[row.model] = line
            ax.set_xscale("log")
            ax.set_xticks(ticks)
            ax.set_xticklabels([str(t) for t in ticks], fontsize=8)
            ax.set_ylim(bottom=0)
            ax.grid(True, which="major", alpha=0.3)
            ax.set_title(f"{split_label(split)}: {CURVE_LABELS.get(curve, curve)}", fontsize=10)
            if i == len(curves) - 1:
                ax.set_xlabel("k (log scale)")
            if j == 0:
                ax.set_ylabel(CURVE_LABELS.get(curve, curve))
    fig.suptitle(table.heading, fontsize=10)
    fig.legend(list(handles.values()), [h.get_label() for h in handles.values()], loc="lower center",
               ncol=min(len(handles), 4), frameon=False, fontsize=9)
    legend_rows = math.ceil(len(handles) / 4)
    fig.tight_layout(rect=(0, 0.06 * legend_rows + 0.02, 1, 0.97))
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return path
