"""Rendering leaderboard tables: GitHub Markdown and a tidy CSV; :func:`render` picks the format.

LaTeX is :mod:`~gcl_bench.leaderboard.latex`; the cell text and the notes under a table, shared
by every format, are :mod:`~gcl_bench.leaderboard.notes`.

May import: gcl_bench.leaderboard (tables, labels, notes, latex), gcl_bench.errors.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from gcl_bench.errors import GclBenchError
from gcl_bench.leaderboard.labels import metric_label, row_label, split_label, training_mark
from gcl_bench.leaderboard.latex import render_latex
from gcl_bench.leaderboard.notes import format_value, notes
from gcl_bench.leaderboard.tables import Table

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
            cells = [markdown_escape(row_label(row)) + training_mark(row)]
            cells += [format_value(row.cells[c], "markdown") for c in table.columns]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        for line in notes(table, "markdown"):
            out.append(line)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


CSV_COLUMNS = (
    "table", "model", "source", "split", "metric", "value", "num_queries",
    "baseline", "test", "p_value", "p_holm", "significant", "seen_in_training",
)


def render_csv(tables: Sequence[Table]) -> str:
    """Tidy CSV: one row per table x model x split x metric that has a value; ``seen_in_training``
    is true when the model saw the split's queries or documents in training (empty: not known)."""
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
                    table.options.test if tested else "",
                    repr(cell.p_value) if tested else "",
                    repr(cell.p_holm) if tested else "",
                    ("true" if cell.significant else "false") if tested else "",
                    {"seen": "true", "unseen": "false"}.get((entry.training or {}).get("status"), ""),
                ])
    return buffer.getvalue()


def render(tables: Sequence[Table], fmt: str) -> str:
    """Dispatch on ``fmt`` ("markdown", "latex" or "csv")."""
    renderers = {"markdown": render_markdown, "latex": render_latex, "csv": render_csv}
    if fmt not in renderers:
        raise GclBenchError(f"unknown format {fmt!r}; choose one of {', '.join(renderers)}")
    return renderers[fmt](tables)
