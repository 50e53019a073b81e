"""Leaderboards: results.json files -> Markdown / LaTeX / CSV tables and metric@k plots.

Rows are models, column groups are splits (paper order: in-domain, novel query, novel document,
zero-shot), cells are metric means to 3 decimals, the best value of each column in bold. With a
baseline, every other model gets a significance mark per cell from a paired two-sided test on
the per-query values (``per_query.csv`` beside ``results.json``, aligned by query id), Holm-
corrected across the models compared in that split and metric (:mod:`gcl_bench.stats`).

Results are never mixed silently. Files are grouped into one table per *setting*: dataset
(sub-dataset name), eval set, retrieval top-k, how the judgements were built (sampled or
not, with seed, top-q and judgement top-k) and the protocol (``default`` or ``reference``,
never mixed in one table); each table has a heading saying which. Inside one
table every result of a split must be scored on the same judgements: when their query-set
hashes, query counts, judgement counts or per-query query ids differ, the leaderboard refuses
with an error. Differing dataset fingerprints (which identify files by path, size and mtime,
so two copies of the same data differ) are stated in a note under the table.

Pipeline (each step usable on its own)::

    paths = discover(["results/"])
    entries = load_entries(paths)
    tables = build_tables(entries, TableOptions(metrics=["ndcg@10", "err"], baseline="bm25"))
    print(render_markdown(tables))
    print(render_latex(tables, LatexOptions(caption=None, label="tab:main", layout="auto")))

or in one call: ``leaderboard(["results/"], fmt="latex", baseline="bm25")``.

Modules: :mod:`.entries` (reading), :mod:`.tables` (grouping, cells, bold, options),
:mod:`.checks` (same-data checks), :mod:`.significance`, :mod:`.notes`, :mod:`.render`
(Markdown, CSV), :mod:`.latex`, :mod:`.plots`, :mod:`.labels`.

May import: gcl_bench.results, gcl_bench.stats, gcl_bench.metrics.names, gcl_bench.data.splits, gcl_bench.io,
gcl_bench.errors.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from gcl_bench.leaderboard.entries import (
    DEFAULT_REPORTED,
    Entry,
    discover,
    load_entries,
    load_entry,
    load_reported,
    per_query_values,
)
from gcl_bench.leaderboard.labels import metric_label, split_label
from gcl_bench.leaderboard.latex import LATEX_LAYOUTS, LatexOptions, latex_escape, render_latex
from gcl_bench.leaderboard.notes import DOWN, UP, describe, key_notes, notes
from gcl_bench.leaderboard.plots import CURVE_LABELS, PLOT_FORMATS, check_plot_path, plot_curves
from gcl_bench.leaderboard.render import (
    CSV_COLUMNS,
    markdown_escape,
    render,
    render_csv,
    render_markdown,
)
from gcl_bench.leaderboard.tables import (
    DEFAULT_METRICS,
    Cell,
    Row,
    Table,
    TableOptions,
    build_tables,
)
from gcl_bench.results import PER_QUERY_NAME, RESULTS_NAME, SCHEMA_VERSION

__all__ = [
    "CSV_COLUMNS",
    "CURVE_LABELS",
    "DEFAULT_METRICS",
    "DEFAULT_REPORTED",
    "DOWN",
    "LATEX_LAYOUTS",
    "PER_QUERY_NAME",
    "PLOT_FORMATS",
    "RESULTS_NAME",
    "SCHEMA_VERSION",
    "UP",
    "Cell",
    "Entry",
    "LatexOptions",
    "Row",
    "Table",
    "TableOptions",
    "build_tables",
    "check_plot_path",
    "describe",
    "discover",
    "key_notes",
    "latex_escape",
    "leaderboard",
    "load_entries",
    "load_entry",
    "load_reported",
    "markdown_escape",
    "metric_label",
    "notes",
    "per_query_values",
    "plot_curves",
    "render",
    "render_csv",
    "render_latex",
    "render_markdown",
    "split_label",
]


def leaderboard(
    results: Iterable[str | os.PathLike[str]],
    fmt: str = "markdown",
    options: TableOptions | None = None,
    include_reported: bool = False,
    labels: Mapping[str, str] | None = None,
    latex: LatexOptions | None = None,
    **overrides: Any,
) -> str:
    """The whole ``gcl-bench leaderboard`` in one call: results files or folders in, text out.

    ``options`` (and ``overrides``, its fields by name: ``baseline="bm25"``) as for
    :func:`build_tables`; ``latex`` (caption, label, layout) as for :func:`render_latex`.
    """
    entries = load_entries(discover(results), labels=labels)
    reported = load_reported() if include_reported else ()
    return render(build_tables(entries, options, reported=reported, **overrides), fmt, latex)
