"""Rendering leaderboard tables as LaTeX floats that fit a two-column paper page.

Written by hand (no table library) so the output is exactly the paper layout, and needs only
``\\usepackage{booktabs}``. Layouts (:class:`LatexOptions`, ``--latex-layout``):

- ``column``: a ``table`` float, one column group per split (``\\multicolumn`` header and
  ``\\cmidrule`` per split), models as rows;
- ``full-width``: the same as a ``table*`` float, spanning both columns of the page;
- ``per-split``: a narrow ``table`` with the metrics as columns and one block of rows per split;
- ``auto`` (the default): ``column`` when the table fits a column, else ``full-width`` when it
  fits the page width, else ``per-split``. Widths are computed from Computer Modern's glyph
  widths at ``\\footnotesize`` (they match pdflatex's to a fraction of a point, kerning aside)
  against the narrowest common two-column page (``article``'s 229.5pt column and 469pt text
  width; ACM and IEEE pages are wider).

Cells are right-aligned numbers with 3 decimals, so the digits of a column line up; a
significance mark sits in a box of no width after the number (``\\rlap``) and does not push it
out of line. Metric headers take two lines (``nDCG`` over ``@10``) so a column is as narrow as
its numbers. The caption is written for a reader: what the numbers are (:func:`~.notes.describe`),
how bold is chosen and which test made the marks (:func:`~.notes.key_notes`); the remaining notes
(queries per split, data notes, sources of published rows) follow the tabular in small print.

May import: gcl_bench.leaderboard (tables, labels, notes), gcl_bench.errors.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gcl_bench.errors import GclBenchError
from gcl_bench.leaderboard.labels import metric_label, row_label, split_label, training_mark
from gcl_bench.leaderboard.notes import describe, format_value, key_notes, notes
from gcl_bench.leaderboard.tables import Row, Table

__all__ = ["LATEX_LAYOUTS", "LatexOptions", "latex_escape", "render_latex"]

#: the values of ``--latex-layout``
LATEX_LAYOUTS = ("auto", "column", "full-width", "per-split")

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
    "\u2020": r"$^{\dagger}$",
    "\u2021": r"$^{\ddagger}$",
    "\u2191": r"$\uparrow$",
    "\u2193": r"$\downarrow$",
    "\u03b1": r"$\alpha$",
    "\u2013": "--",
}

# widths (pt) of the printable ASCII characters (32..126) in Computer Modern at \footnotesize,
# regular and bold, as pdflatex sets them; other characters count as 6pt
_REGULAR = (
    "2.83 2.36 4.25 7.08 4.25 7.08 6.61 2.36 3.31 3.31 4.25 6.61 2.36 2.83 2.36 4.25 4.25 4.25 4.25 "
    "4.25 4.25 4.25 4.25 4.25 4.25 4.25 2.36 2.36 6.61 6.61 6.61 4.01 6.61 6.37 6.02 6.14 6.49 5.78 "
    "5.54 6.67 6.37 3.06 4.36 6.60 5.31 7.78 6.37 6.61 5.78 6.61 6.25 4.72 6.14 6.37 6.37 8.73 6.37 "
    "6.37 5.19 2.36 4.25 2.36 4.25 3.06 2.36 4.25 4.72 3.78 4.72 3.78 2.60 4.25 4.72 2.36 2.60 4.49 "
    "2.36 7.08 4.72 4.25 4.72 4.49 3.31 3.35 3.31 4.72 4.49 6.14 4.49 4.49 3.78 4.25 2.36 4.25 4.25"
)
_BOLD = (
    "3.27 2.98 4.90 8.17 4.90 8.17 7.62 2.72 3.81 3.81 4.90 7.62 2.72 3.27 2.72 4.90 4.90 4.90 4.90 "
    "4.90 4.90 4.90 4.90 4.90 4.90 4.90 2.72 2.72 7.62 7.62 7.62 4.63 7.62 7.38 6.96 7.08 7.50 6.42 "
    "6.15 7.70 7.64 3.67 5.05 7.65 5.88 9.27 7.64 7.36 6.68 7.36 7.32 5.44 6.82 7.51 7.51 10.24 7.38 "
    "7.62 5.99 2.72 4.90 2.72 4.90 3.53 2.72 4.76 5.44 4.36 5.44 4.49 3.94 5.04 5.44 2.72 2.99 5.17 "
    "2.72 8.17 5.44 4.90 5.44 5.17 4.05 3.87 3.81 5.44 5.31 7.21 5.17 5.31 4.36 4.90 2.72 4.90 4.90"
)
_WIDTHS = {bold: [float(w) for w in table.split()] for bold, table in ((False, _REGULAR), (True, _BOLD))}
_COLUMN_PT, _PAGE_PT = 229.5, 469.0
# space between two number columns (room for a mark), between two splits' groups, at the edges
_GAP_PT, _GROUP_GAP_PT, _EDGE_PT = 7.0, 10.0, 5.0


@dataclass(frozen=True)
class LatexOptions:
    """How LaTeX tables are set (the LaTeX options of ``gcl-bench leaderboard``).

    ``caption``: LaTeX text inserted as written (None: a caption saying what the numbers are);
    the notes then all go under the tabular. ``label``: the ``\\label`` key (a second and later
    table get ``-2``, ``-3``...). ``layout``: one of :data:`LATEX_LAYOUTS`.
    """

    caption: str | None = None
    label: str | None = "tab:leaderboard"
    layout: str = "auto"

    def checked(self) -> LatexOptions:
        if self.layout not in LATEX_LAYOUTS:
            raise GclBenchError(f"unknown LaTeX layout {self.layout!r}; choose one of {', '.join(LATEX_LAYOUTS)}")
        return self


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters in plain text (and set arrows, daggers, alpha as math)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def render_latex(tables: Sequence[Table], options: LatexOptions | None = None) -> str:
    """LaTeX floats with booktabs rules, one per table, laid out as ``options.layout`` says."""
    options = (options or LatexOptions()).checked()
    out = ["% Generated by gcl-bench leaderboard; needs \\usepackage{booktabs} in the preamble."]
    for number, table in enumerate(tables, start=1):
        layout = _chosen_layout(table) if options.layout == "auto" else options.layout
        environment = "table*" if layout == "full-width" else "table"
        out.append(f"\\begin{{{environment}}}[t]")
        out.append("\\centering")
        caption_notes = [] if options.caption is not None else key_notes(table, "latex")
        caption = options.caption if options.caption is not None else " ".join(
            [latex_escape(describe(table)), *(_latex_note(line) for line in caption_notes)])
        out.append(f"\\caption{{{caption}}}")
        if options.label:
            out.append(f"\\label{{{options.label}{'' if number == 1 else f'-{number}'}}}")
        out.append("\\footnotesize")
        out.extend(_per_split_tabular(table) if layout == "per-split" else _grouped_tabular(table))
        rest = notes(table, "latex")[len(caption_notes):]
        if rest:
            out.append(f"\\par\\smallskip{{\\footnotesize {' '.join(_latex_note(line) for line in rest)}\\par}}")
        out.append(f"\\end{{{environment}}}")
        out.append("")
    return "\n".join(out)


# ----------------------------------------------------------------------------- the two tabulars
def _metric_header(metrics: list[str], repeat: int) -> list[str]:
    """The metric header lines: ``nDCG`` over ``@10`` (one line when no metric has a parameter),
    "Model" on the last line."""
    names, params = [], []
    for metric in metrics:
        base, at, param = metric_label(metric).partition("@")
        names.append(latex_escape(base))
        params.append(latex_escape(at + param))
    if not any(params):
        return ["Model & " + " & ".join(names * repeat) + " \\\\"]
    return [" & " + " & ".join(names * repeat) + " \\\\", "Model & " + " & ".join(params * repeat) + " \\\\"]


def _column_spec(groups: int, width: int) -> str:
    """``l`` and ``groups`` groups of ``width`` right-aligned columns, with the gaps set explicitly."""
    group = "r" + f"@{{\\hspace{{{_GAP_PT:g}pt}}}}r" * (width - 1)
    edge = f"@{{\\hspace{{{_EDGE_PT:g}pt}}}}"
    return edge + "l" + "".join(f"@{{\\hspace{{{_GROUP_GAP_PT:g}pt}}}}" + group for _ in range(groups)) + edge


def _body_rows(
    table: Table, rows: list[Row], columns: list[tuple[str, str]], split: str | None = None
) -> list[str]:
    """Model rows, published ones first and ruled off from the measured ones (``split``: the one
    split of a per-split block, which decides the training mark)."""
    lines: list[str] = []
    for previous, row in zip([None, *rows], rows):
        if previous is not None and previous.reported and not row.reported:
            lines.append("\\midrule")
        label = latex_escape(row_label(row)) + training_mark(row, "latex", split=split)
        cells = [label, *(format_value(row.cells[c], "latex") for c in columns)]
        lines.append(" & ".join(cells) + " \\\\")
    return lines


def _grouped_tabular(table: Table) -> list[str]:
    """Splits as column groups (``column`` and ``full-width`` layouts)."""
    width = len(table.metrics)
    groups = [f"\\multicolumn{{{width}}}{{c}}{{{latex_escape(split_label(s))}}}" for s in table.splits]
    rules = [f"\\cmidrule(lr){{{2 + i * width}-{1 + (i + 1) * width}}}" for i in range(len(table.splits))]
    lines = [f"\\begin{{tabular}}{{{_column_spec(len(table.splits), width)}}}", "\\toprule",
             " & " + " & ".join(groups) + " \\\\", " ".join(rules),
             *_metric_header(table.metrics, len(table.splits)), "\\midrule"]
    lines.extend(_body_rows(table, table.rows, table.columns))
    return [*lines, "\\bottomrule", "\\end{tabular}"]


def _per_split_tabular(table: Table) -> list[str]:
    """Metrics as columns, one block of rows per split (``per-split`` layout)."""
    width = len(table.metrics)
    lines = [f"\\begin{{tabular}}{{{_column_spec(1, width)}}}", "\\toprule", *_metric_header(table.metrics, 1)]
    for split in table.splits:
        rows = [row for row in table.rows if split in row.entries]
        lines.append("\\midrule")
        lines.append(f"\\multicolumn{{{width + 1}}}{{@{{}}l}}{{\\emph{{{latex_escape(split_label(split))}}}}} \\\\")
        lines.extend(_body_rows(table, rows, [(split, metric) for metric in table.metrics], split))
    return [*lines, "\\bottomrule", "\\end{tabular}"]


# ----------------------------------------------------------------------------- fitting the page
def _text_pt(text: str, bold: bool = False) -> float:
    widths = _WIDTHS[bold]
    return sum(widths[ord(ch) - 32] if 32 <= ord(ch) < 127 else 6.0 for ch in text)


def _cell_pt(row: Row, column: tuple[str, str]) -> float:
    cell = row.cells[column]
    return 0.0 if cell.value is None else _text_pt(f"{cell.value:.3f}", bold=cell.bold)


def _metric_pt(metric: str) -> float:
    base, at, param = metric_label(metric).partition("@")
    return max(_text_pt(base), _text_pt(at + param))


def _chosen_layout(table: Table) -> str:
    """``column`` if the grouped table fits a column, ``full-width`` if it fits the page, else ``per-split``."""
    model_pt = max([_text_pt("Model"), *(_text_pt(row_label(row)) for row in table.rows)])
    gaps = _GAP_PT * (len(table.metrics) - 1)
    split_pt = [
        max(sum(max([_metric_pt(m), *(_cell_pt(row, (s, m)) for row in table.rows)]) for m in table.metrics) + gaps,
            _text_pt(split_label(s)))
        for s in table.splits
    ]
    grouped = 2 * _EDGE_PT + model_pt + sum(split_pt) + len(table.splits) * _GROUP_GAP_PT
    margin = 2.0  # pt; the estimate matches pdflatex's width to a fraction of a point
    if grouped + margin <= _COLUMN_PT:
        return "column"
    if grouped + margin <= _PAGE_PT:
        return "full-width"
    return "per-split"


def _latex_note(line: str) -> str:
    """Escape a note but keep the math snippets the notes use on purpose."""
    keep = ["$\\alpha$", "$\\uparrow$", "$\\downarrow$", "$^\\dagger$"]
    placeholders = {f"@@{i}@@": k for i, k in enumerate(keep)}
    for token, snippet in placeholders.items():
        line = line.replace(snippet, token)
    line = latex_escape(line)
    for token, snippet in placeholders.items():
        line = line.replace(token, snippet)
    return line
