"""Building leaderboard tables from entries: grouping by setting, cells, bold, reported rows.

:func:`build_tables` groups entries into one :class:`Table` per *setting* (dataset, eval set,
retrieval top-k, how the judgements were built), refuses results of one split that were scored
on different judgements (:mod:`~gcl_bench.leaderboard.checks`), adds published rows, marks
significance against a baseline (:mod:`~gcl_bench.leaderboard.significance`) and bolds the best
value per column. What it shows and how it tests is one :class:`TableOptions`.

May import: gcl_bench.leaderboard (entries, checks, significance), gcl_bench.stats,
gcl_bench.metrics.names, gcl_bench.data.splits, gcl_bench.errors.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gcl_bench.data.splits import SPLITS, canonical_split
from gcl_bench.errors import GclBenchError
from gcl_bench.leaderboard.entries import Entry

DEFAULT_METRICS = ("ndcg@10", "err", "rbp@0.9")


@dataclass(frozen=True)
class TableOptions:
    """What the tables show and how they test (the options of ``gcl-bench leaderboard``).

    ``metrics``: the cells of each split (any spelling :mod:`gcl_bench.metrics.names` accepts,
    shown under its canonical name); ``splits``: which splits (None: every split present);
    ``baseline``: the model every other is tested against (None: no test); ``test``: ``ttest``
    or ``randomization`` (:mod:`gcl_bench.stats`), with ``permutations`` and ``seed``;
    ``alpha``: the level after Holm correction.
    """

    metrics: Sequence[str] = DEFAULT_METRICS
    splits: Sequence[str] | None = None
    baseline: str | None = None
    test: str = "ttest"
    alpha: float = 0.05
    permutations: int = 10_000
    seed: int = 0

    def checked(self) -> TableOptions:
        """These options validated, metric and split names canonical, metrics without repeats."""
        from gcl_bench.metrics.names import canonical_metric_names
        from gcl_bench.stats import TESTS

        if self.test not in TESTS:
            raise GclBenchError(f"unknown test {self.test!r}; choose one of {', '.join(TESTS)}")
        if not 0 < self.alpha < 1:
            raise GclBenchError(f"alpha must be between 0 and 1, got {self.alpha}")
        if not self.metrics:
            raise GclBenchError("no metrics chosen")
        metrics = tuple(canonical_metric_names(self.metrics))
        splits = None if self.splits is None else tuple(canonical_split(s) for s in self.splits)
        return replace(self, metrics=metrics, splits=splits)


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
    rows: list[Row]
    options: TableOptions = field(default_factory=TableOptions)
    baseline: str | None = None
    """The baseline the cells were tested against (None: not tested)."""
    num_queries: dict[str, list[int]] = field(default_factory=dict)
    tested_models: dict[tuple[str, str], int] = field(default_factory=dict)
    reported_sources: list[dict[str, Any]] = field(default_factory=list)
    reported_notes: list[str] = field(default_factory=list)
    data_notes: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> list[str]:
        return list(self.options.metrics)

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
            parts.append(sampled_judgements(setting))
        elif setting.get("sampled") is False:
            parts.append("full judgement files")
        if setting.get("protocol") == "reference":
            parts.append("reference protocol")
        return ", ".join(parts)

    @property
    def columns(self) -> list[tuple[str, str]]:
        return [(split, metric) for split in self.splits for metric in self.metrics]


def sampled_judgements(setting: dict[str, Any]) -> str:
    """``judgements sampled from the triplets (seed 1, top-q 2000, top-k 1000)`` for a setting."""
    extra = ", ".join(
        f"{key.removeprefix('judgements_').replace('_', '-')} {setting[key]}"
        for key in ("judgements_seed", "judgements_top_q", "judgements_top_k")
        if setting.get(key) is not None
    )
    return "judgements sampled from the triplets" + (f" ({extra})" if extra else "")


def split_sort_key(split: str) -> tuple[int, str]:
    """Paper order (in-domain, novel query, novel document, zero-shot), unknown names last."""
    return (SPLITS.index(split), split) if split in SPLITS else (len(SPLITS), split)


def build_tables(
    entries: Sequence[Entry],
    options: TableOptions | None = None,
    reported: Sequence[Entry] = (),
    **overrides: Any,
) -> list[Table]:
    """Group entries into tables (one per setting), fill cells, bold the best, test significance.

    ``overrides`` are :class:`TableOptions` fields (``baseline="bm25"``) replacing those of
    ``options``; ``reported`` are published rows (:func:`~gcl_bench.leaderboard.load_reported`).
    """
    from gcl_bench.leaderboard.checks import check_same_data
    from gcl_bench.leaderboard.significance import mark_significance

    options = replace(options or TableOptions(), **overrides).checked()
    wanted = options.splits
    measured = [e for e in entries if wanted is None or e.split in wanted]
    if not measured and not reported:
        raise GclBenchError("no results for the chosen splits")
    for entry in measured:
        missing = [m for m in options.metrics if m not in entry.metrics]
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
        _refuse_repeated_rows(group)
        by_split: dict[str, list[Entry]] = {}
        for entry in group:
            by_split.setdefault(entry.split, []).append(entry)
        splits = sorted(by_split, key=split_sort_key)
        data_notes: list[str] = []
        for split in splits:
            data_notes += check_same_data(split, by_split[split])
        table = Table(setting=dict(setting_key), splits=splits, rows=[], options=options, data_notes=data_notes)
        table.num_queries = {
            split: sorted({e.num_queries for e in es if e.num_queries is not None})
            for split, es in by_split.items()
        }
        table.rows = _rows(group, reported=False)
        tables.append(table)

    if reported:
        _attach_reported(tables, [e for e in reported if wanted is None or e.split in wanted], options)

    for table in tables:
        if options.baseline is not None:
            mark_significance(table, options.baseline)
        _fill_and_bold(table)
    return tables


def _refuse_repeated_rows(group: list[Entry]) -> None:
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


def _rows(entries: Sequence[Entry], reported: bool) -> list[Row]:
    """One row per model, in first-seen order, holding its entry of each split."""
    rows: dict[str, Row] = {}
    for entry in entries:
        row = rows.setdefault(entry.model, Row(model=entry.model, reported=reported))
        row.entries[entry.split] = entry
    return list(rows.values())


def _attach_reported(tables: list[Table], reported: list[Entry], options: TableOptions) -> None:
    """Add published rows to the tables of their dataset (or to a table of their own)."""
    by_dataset: dict[str, list[Entry]] = {}
    for entry in reported:
        if any(m in entry.metrics for m in options.metrics):
            by_dataset.setdefault(entry.dataset_name, []).append(entry)
    for dataset, entries in by_dataset.items():
        targets = [t for t in tables if t.setting.get("dataset") == dataset]
        if not targets:
            splits = sorted({e.split for e in entries}, key=split_sort_key)
            table = Table(setting={"dataset": dataset, "reported_only": True}, splits=splits, rows=[], options=options)
            tables.append(table)
            targets = [table]
        for table in targets:
            rows = _rows([e for e in entries if e.split in table.splits], reported=True)
            if not rows:
                continue
            table.rows = rows + table.rows
            sources: dict[str, dict[str, Any]] = {}
            table_notes: dict[str, None] = {}
            for row in rows:
                for entry in row.entries.values():
                    record = entry.reported or {}
                    source = record.get("source_record", {})
                    sources[source.get("title", "")] = source
                    table_notes.update(dict.fromkeys(record.get("table_notes", [])))
            table.reported_sources = list(sources.values())
            table.reported_notes = list(table_notes)


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
