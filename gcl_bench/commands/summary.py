"""The stage summary that stays on the screen after a run: time per stage, items/s, cache hits.

:func:`stage_table` (one row per split) and :func:`index_recall_line` read only results dicts
(``timings``, ``cache``, ``retrieval``), so they work as well on runs read back from results.json. The notes about the numbers
themselves (ties, missing queries, sampled judgements) are the run command's ``_remarks``.
"""
from __future__ import annotations

from typing import Any

from gcl_bench.progress import format_rate

STAGE_ORDER = ("load", "encode", "index", "search", "index_recall", "score", "write")


def _seconds(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 600 else f"{value / 60:.1f} min"


def stage_cells(results: dict[str, Any]) -> dict[str, str]:
    """The cells of one split's row in :func:`stage_table`: seconds per stage that ran, the items
    encoded and their rate (``"2,190 at 156/s"``), and the cache hits (``"split, corpus, 2/3 fields"``)."""
    timings: dict[str, float] = results.get("timings", {})
    cells = {stage: _seconds(timings[stage]) for stage in
             [s for s in STAGE_ORDER if s in timings] + [s for s in timings if s not in STAGE_ORDER]}
    cache = results.get("cache", {})
    entries = results.get("retrieval", {}).get("encode", {}).get("cache", {}).get("entries", {})
    if "encode" in timings:
        encoded = int((cache.get("embeddings") or {}).get("items_encoded") or 0)
        seconds = timings["encode"]
        cells["encoded"] = f"{encoded:,}" + (f" at {format_rate(encoded / seconds)}/s" if encoded and seconds > 0 else "")
    dataset = cache.get("dataset") or {}
    words = [part for part in ("split", "corpus") if dataset.get(part) == "hit"]
    if (cache.get("bm25_index") or {}).get("status") in ("loaded", "reused"):
        words.append("bm25 index")
    hits = sum(1 for entry in entries.values() if entry.get("hit"))
    if hits:
        words.append(f"{hits}/{len(entries)} fields")
    cells["cache hits"] = ", ".join(words) or "none"
    return cells


def stage_table(runs: dict[str, dict[str, Any]]) -> Any:
    """A rich table: one row per split (``runs``: split -> results), one column per stage."""
    from rich.table import Table

    cells = {split: stage_cells(results) for split, results in runs.items()}
    columns = [s for s in (*STAGE_ORDER[:2], "encoded", *STAGE_ORDER[2:]) if any(s in row for row in cells.values())]
    columns += [s for row in cells.values() for s in row if s not in columns and s != "cache hits"]
    columns.append("cache hits")
    table = Table(title="stages (seconds)", title_justify="left", box=None, padding=(0, 1), header_style="bold")
    table.add_column("split")
    for column in columns:
        table.add_column(column, justify="left" if column == "cache hits" else "right")
    for split, row in cells.items():
        table.add_row(split, *(row.get(column, "-") for column in columns))
    return table


def index_recall_line(results: dict[str, Any]) -> str | None:
    """``"index ivf: recall@1000 against exact search 0.9871"`` when it was measured."""
    retrieval = results.get("retrieval", {})
    recall = retrieval.get("index_recall")
    if not recall:
        return None
    kind = retrieval.get("index", {}).get("kind", "approximate")
    return f"index {kind}: recall@{recall['k']} against exact search {float(recall['recall']):.4f}"
