"""Metric@k plots of a leaderboard table: nDCG@k and recall@k curves per split, one colour per model.

Drawn from each results file's ``curves`` section with matplotlib (Agg backend), written
atomically in the format the file name's extension names (:data:`PLOT_FORMATS`: ``.pdf`` and
``.svg`` as vector graphics with embedded TrueType fonts / text, ``.png`` at 200 dpi), with a
title saying what is plotted on which data and one legend of model names for the figure, so the
file can go into a paper as it is. Files carry no creation date: the same results draw the same
bytes.

May import: gcl_bench.leaderboard (tables, labels), gcl_bench.io, gcl_bench.errors, matplotlib.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from gcl_bench.errors import GclBenchError
from gcl_bench.leaderboard.labels import row_label, split_label
from gcl_bench.leaderboard.tables import Table

CURVE_LABELS = {"ndcg": "nDCG@k", "recall": "Recall@k"}

#: file name extension -> matplotlib format
PLOT_FORMATS = {".pdf": "pdf", ".svg": "svg", ".png": "png"}

_STABLE_METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "png": {}}


def check_plot_path(path: str | os.PathLike[str]) -> str:
    """The plot format named by ``path``'s extension; GclBenchError for any other extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_FORMATS:
        shown = f"extension {suffix!r}" if suffix else "no extension"
        raise GclBenchError(
            f"--plot {path}: {shown}; the format follows the extension: {', '.join(PLOT_FORMATS)}"
        )
    return PLOT_FORMATS[suffix]


def plot_title(table: Table, curves: Sequence[str]) -> str:
    """``nDCG@k and Recall@k per split: sample v3, test judgements, top-1000 retrieved``."""
    what = " and ".join(CURVE_LABELS.get(c, c) for c in curves)
    return f"{what} per split: {table.heading}"


def plot_curves(table: Table, path: str | os.PathLike[str], curves: Sequence[str] = ("ndcg", "recall")) -> Path:
    """Metric@k curves, one subplot per curve x split, one colour per model, one shared legend;
    the format follows the extension of ``path`` (:func:`check_plot_path`)."""
    fmt = check_plot_path(path)
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
                                  markersize=4, linewidth=1.6, label=row_label(row))
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
    fig.suptitle(plot_title(table, curves), fontsize=10)
    fig.legend(list(handles.values()), [h.get_label() for h in handles.values()], loc="lower center",
               ncol=min(len(handles), 4), frameon=False, fontsize=9)
    legend_rows = math.ceil(len(handles) / 4)
    fig.tight_layout(rect=(0, 0.06 * legend_rows + 0.02, 1, 0.97))
    path = Path(path)
    with matplotlib.rc_context({"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none",
                                "svg.hashsalt": "gcl-bench"}), atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=200, metadata=_STABLE_METADATA[fmt])
    plt.close(fig)
    return path
