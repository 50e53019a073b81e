"""Significance marks: every model against the baseline, per split and metric.

A paired two-sided test (:func:`gcl_bench.stats.paired_test`) on the per-query values of the two
models, aligned by query id, then Holm's correction across the models compared in that split and
metric; a cell is significant when its corrected p-value is below alpha and the means differ.
Published rows are never tested.

May import: gcl_bench.leaderboard (entries, tables), gcl_bench.stats, gcl_bench.errors.
"""
from __future__ import annotations

import numpy as np

from gcl_bench.errors import GclBenchError
from gcl_bench.leaderboard.entries import per_query_values
from gcl_bench.leaderboard.tables import Cell, Table


def mark_significance(table: Table, baseline: str) -> None:
    """Test every measured row of ``table`` against the row of model ``baseline``."""
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
    options = table.options
    for split in table.splits:
        base_entry = base_row.entries.get(split)
        if base_entry is None:
            continue
        others = [r for r in table.rows if not r.reported and r is not base_row and split in r.entries]
        for metric in table.metrics:
            base_values = per_query_values(base_entry, metric)
            p_values = []
            for row in others:
                values = per_query_values(row.entries[split], metric)
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
                p = paired_test(options.test, a, b, permutations=options.permutations, seed=options.seed)
                diff = float(np.mean(a - b))
                cell = row.cells.setdefault((split, metric), Cell(value=None))
                cell.p_value = p
                cell.direction = (diff > 0) - (diff < 0)
                p_values.append(p)
            for row, p_adj in zip(others, holm(p_values), strict=True):
                cell = row.cells[(split, metric)]
                cell.p_holm = p_adj
                cell.significant = bool(p_adj < options.alpha and cell.direction != 0)
            table.tested_models[(split, metric)] = len(others)
