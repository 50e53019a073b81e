"""Rendering leaderboard tables: Markdown and a tidy CSV; :func:`render` picks the format.

Markdown is written to read well both on GitHub and as plain text: a heading per table
(setting), then one small table per split (a ``####`` heading with the split's name, columns
Model and the metrics), each column padded to one width, so no header needs a line break
(``<br>``) and the text lines up in a terminal. LaTeX is :mod:`~gcl_bench.leaderboard.latex`;
the cell text and the notes under a table, shared by every format, are
:mod:`~gcl_bench.leaderboard.notes`.

May import: gcl_bench.leaderboard (tables, labels, notes, latex), gcl_bench.errors.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from gcl_bench.errors import GclBenchError
from gcl_bench.leaderboard.labels import metric_label, row_label, split_label, training_mark
from gcl_bench.leaderboard.latex import LatexOptions, render_latex
from gcl_bench.leaderboard.notes import format_value, notes
from gcl_bench.leaderboard.tables import Table

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*[]|<>"})
#: "_" only starts or ends emphasis at a word boundary; inside a word (open_clip) it is literal
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def markdown_escape(text: str) -> str:
    """Escape characters that Markdown (GitHub tables) would interpret."""
    return _MD_UNDERSCORE.sub(r"\\_", text.translate(_MD_SPECIAL))


def render_markdown(tables: Sequence[Table]) -> str:
    """Markdown: per table a heading, one table per split, then the notes."""
    out: list[str] = []
    for table in tables:
        out.append(f"### {markdown_escape(table.heading)}")
        out.append("")
        for split in table.splits:
            rows = [row for row in table.rows if split in row.entries]
            out.append(f"#### {markdown_escape(split_label(split))}")
            out.append("")
            header = ["Model", *(metric_label(m) for m in table.metrics)]
            body = [[markdown_escape(row_label(row)) + training_mark(row, split=split),
                     *(format_value(row.cells[(split, m)], "markdown")
                                                      for m in table.metrics)] for row in rows]
            out.extend(_padded_grid(header, body))
            out.append("")
        for line in notes(table, "markdown"):
            out.append(line)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _padded_grid(header: list[str], body: list[list[str]]) -> list[str]:
    """A pipe table whose columns have one width each: the first left-aligned, the rest right."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *body)]

    def line(cells: list[str]) -> str:
        padded = [cells[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(cells[1:], widths[1:]))]
        return "| " + " | ".join(padded) + " |"

    rule = "|:" + "-" * (widths[0] + 1) + "|" + "".join("-" * (w + 1) + ":|" for w in widths[1:])
    return [line(header), rule, *(line(cells) for cells in body)]


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


def render(tables: Sequence[Table], fmt: str, latex: LatexOptions | None = None) -> str:
    """Dispatch on ``fmt`` ("markdown", "latex" or "csv"); ``latex`` sets the LaTeX layout."""
    renderers = {"markdown": render_markdown, "latex": lambda t: render_latex(t, latex), "csv": render_csv}
    if fmt not in renderers:
        raise GclBenchError(f"unknown format {fmt!r}; choose one of {', '.join(renderers)}")
    return renderers[fmt](tables)
