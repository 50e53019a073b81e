"""What every leaderboard format states the same way: the text of a cell and the notes under a table.

A cell is its metric mean to 3 decimals, bold when best in its column, with an arrow (up/down)
when it differs significantly from the baseline. :func:`describe` says in one sentence what the
numbers are (metrics, dataset, judgements, retrieval depth); the notes (:func:`notes`) say how
bold is chosen, which test at which alpha (or that none was run) -- these two are
:func:`key_notes`, which a LaTeX caption carries -- then the number of queries per split, which
rows are not zero-shot (a dagger on the row: the model saw a split's queries or documents in
training), data notes and the sources of published rows.

May import: gcl_bench.leaderboard (tables, labels), gcl_bench.stats.
"""
from __future__ import annotations

from gcl_bench.leaderboard.labels import DAGGER, metric_label, seen_splits, split_label
from gcl_bench.leaderboard.tables import Cell, Table, sampled_judgements

UP, DOWN = "\u2191", "\u2193"


def _queries_text(table: Table) -> str:
    parts = []
    for split in table.splits:
        counts = table.num_queries.get(split) or []
        if counts:
            parts.append(f"{split_label(split)} {'/'.join(str(c) for c in counts)}")
    return "Queries per split: " + ", ".join(parts) + "." if parts else ""


def _spoken_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe(table: Table) -> str:
    """One sentence for a reader: which metrics, on which data, judged and retrieved how."""
    setting = table.setting
    metrics = _spoken_list([metric_label(m) for m in table.metrics])
    dataset = str(setting.get("dataset"))
    if setting.get("reported_only"):
        return f"{metrics} per split as published for {dataset}."
    judged = f"{setting['eval_set']} judgements" if setting.get("eval_set") else "judgements"
    if setting.get("sampled"):
        judged = f"{setting.get('eval_set') or ''} {sampled_judgements(setting)}".strip()
    parts = [judged]
    if setting.get("top_k") is not None:
        parts.append(f"top {setting['top_k']} documents retrieved per query")
    if setting.get("protocol") == "reference":
        parts.append("the GCL reference evaluation's protocol")
    return f"{metrics} per split on {dataset} ({'; '.join(parts)})."


def key_notes(table: Table, fmt: str = "markdown") -> list[str]:
    """The notes a reader needs to read the cells: how bold is chosen, the test and its alpha."""
    from gcl_bench.stats import TEST_NAMES

    alpha_symbol = "$\\alpha$" if fmt == "latex" else "\u03b1"
    up, down = ("$\\uparrow$", "$\\downarrow$") if fmt == "latex" else (UP, DOWN)
    has_reported = any(r.reported for r in table.rows)
    lines = ["Best measured value per column in bold." if has_reported and not table.setting.get("reported_only")
             else "Best value per column in bold."]
    if table.baseline is not None and not any(table.tested_models.values()):
        lines.append(f"No significance test: no other model to compare with the baseline {table.baseline}.")
    elif table.baseline is not None:
        test = TEST_NAMES[table.options.test] + " on per-query values"
        if table.options.test == "randomization":
            test += f" ({table.options.permutations} random sign flips with seed {table.options.seed}, or all when 2^n is fewer)"
        counts = sorted(set(table.tested_models.values()))
        family = "/".join(str(c) for c in counts)
        plural = "" if counts == [1] else "s"
        lines.append(
            f"{up}/{down}: significantly higher/lower than the baseline {table.baseline}: {test}, "
            f"Holm correction over the {family} model{plural} compared per split and metric, "
            f"{alpha_symbol} = {table.options.alpha:g}."
        )
    elif not table.setting.get("reported_only"):
        lines.append("No significance test (no baseline chosen).")
    return lines


def notes(table: Table, fmt: str = "markdown") -> list[str]:
    """Plain-text notes stated under a table: :func:`key_notes`, then queries, data notes, sources."""
    lines = key_notes(table, fmt)
    queries = _queries_text(table)
    if queries:
        lines.append(queries)
    lines.extend(_training_notes(table, fmt))
    lines.extend(table.data_notes)
    if table.reported_sources:
        sources = "; ".join(
            f"{s.get('title', '')}, {s.get('section', '')}" + (f" ({s['url']})" if s.get("url") else "")
            for s in table.reported_sources
        )
        lines.append(f"Rows marked (reported) are published numbers, not re-computed and not tested: {sources}.")
        if table.setting.get("protocol") == "default":
            lines.append("Published numbers come from the GCL reference evaluation; the measured rows use gcl-bench's "
                         "default protocol, which differs from it where the data has missing titles, tied scores or "
                         "leading-zero ids (gcl-bench run --protocol reference reproduces it).")
        lines.extend(table.reported_notes)
    return lines


def _training_notes(table: Table, fmt: str) -> list[str]:
    """The dagger's meaning (which splits each marked row saw in training) and the rows whose
    training data is not declared."""
    dagger = "$^\\dagger$" if fmt == "latex" else DAGGER
    groups: dict[tuple[str, ...], list[str]] = {}
    for row in table.rows:
        seen = tuple(s for s in table.splits if s in seen_splits(row))
        if seen:
            groups.setdefault(seen, []).append(row.model)
    lines = []
    if groups:
        parts = "; ".join(f"{', '.join(split_label(s) for s in seen)} ({', '.join(models)})"
                          for seen, models in groups.items())
        lines.append(f"{dagger}: not zero-shot: the model saw the queries or documents of these splits in "
                     f"training: {parts}.")
    undeclared = [row.model for row in table.rows
                  if any(e.training is not None and not e.training.get("declared", True) for e in row.entries.values())]
    if undeclared:
        lines.append(f"Training data not declared (whether they saw these queries or documents is not known): "
                     f"{', '.join(undeclared)}.")
    return lines


def format_value(cell: Cell, fmt: str) -> str:
    """The text of one cell in ``fmt`` ("markdown" or "latex")."""
    if cell.value is None:
        return "\u2013" if fmt == "markdown" else "--"
    text = f"{cell.value:.3f}"
    if cell.bold:
        text = f"**{text}**" if fmt == "markdown" else f"\\textbf{{{text}}}"
    if cell.significant:
        arrow = UP if cell.direction > 0 else DOWN
        if fmt == "latex":  # in a box of no width, so the numbers of a column stay aligned
            arrow = "\\rlap{$^{\\uparrow}$}" if cell.direction > 0 else "\\rlap{$^{\\downarrow}$}"
        text += arrow
    return text
