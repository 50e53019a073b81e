"""Leaderboard entries: results files (and published numbers) as rows' cells to be.

:func:`discover` finds results.json files, :func:`load_entries` reads them (through
:func:`gcl_bench.results.read_results`, which checks the schema) into :class:`Entry` objects,
:func:`load_reported` turns leaderboards/reported.json into entries marked ``reported``, and
:func:`per_query_values` reads the per_query.csv beside an entry for significance tests.

May import: gcl_bench.results, gcl_bench.data.splits, gcl_bench.io, gcl_bench.errors.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from gcl_bench.data.splits import canonical_split
from gcl_bench.errors import GclBenchError
from gcl_bench.io import read_json
from gcl_bench.results import (
    PER_QUERY_NAME,
    RESULTS_NAME,
    PerQueryTable,
    read_per_query,
    read_results,
)

DEFAULT_REPORTED = Path(__file__).resolve().parents[2] / "leaderboards" / "reported.json"
"""The published numbers shipped with the project (``--include-reported``)."""


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
    training: dict[str, Any] | None = None
    """Whether the model saw this split's queries or documents in training (results.json
    ``training_overlap``: ``status`` seen / unseen / unknown); None when the file does not say."""

    @property
    def dataset_name(self) -> str:
        subset = self.dataset.get("subset")
        path = self.dataset.get("path")
        if self.dataset.get("format") == "hf_parquet":  # another corpus than the release folders
            hub = self.dataset.get("hub")
            source = f"{hub['repo_id']}@{str(hub['sha'])[:12]}" if hub else Path(str(path)).name
            return f"{source} (HF export)"
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
        if self.reported is None:  # results files before the protocol was recorded used the default
            items.append(("protocol", self.settings.get("protocol", "default")))
        if sampled:
            for key in ("seed", "top_q", "top_k"):
                items.append((f"judgements_{key}", self.dataset.get(key)))
        return tuple(items)

    @property
    def per_query_path(self) -> Path | None:
        return None if self.path is None else self.path.parent / PER_QUERY_NAME

    @cached_property
    def per_query_table(self) -> PerQueryTable | None:
        """The per_query.csv beside this entry's results.json, read once (None when there is none)."""
        path = self.per_query_path
        if path is None or not path.is_file():
            return None
        return read_per_query(path)


def per_query_values(entry: Entry, metric: str) -> dict[str, float]:
    """Per-query values of ``metric`` beside ``entry``; their mean must be the one results.json has."""
    table = entry.per_query_table
    if table is None:
        raise GclBenchError(
            f"no {PER_QUERY_NAME} beside {RESULTS_NAME}; significance tests need per-query values "
            "(re-run the evaluation, or leave out --baseline)",
            entry.path,
        )
    return table.values(metric, expected_mean=entry.metrics.get(metric))


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
    """Read one results.json (schema checked); ``label`` replaces the model name as row name."""
    record = read_results(path)
    name = label or record.model_name
    if not name:
        raise GclBenchError("results file has no model name ('model': {'name': ...})", record.path)
    return Entry(
        model=str(name),
        split=record.split,
        metrics=record.metrics,
        path=record.path,
        num_queries=record.num_queries,
        dataset=record.dataset,
        settings=record.settings,
        curves=record.curves,
        training=record.data.get("training_overlap"),
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
                training=_reported_training(row),
            )
        )
    return entries


def _reported_training(row: dict[str, Any]) -> dict[str, Any] | None:
    """A published row's ``seen_in_training`` (true: the model was trained on the split's queries
    or documents) as a training status; None when the row does not say."""
    seen = row.get("seen_in_training")
    if seen is None:
        return None
    return {"status": "seen" if seen else "unseen", "declared": True, "why": row.get("training", "")}
