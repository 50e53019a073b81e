"""Display names in tables and plots: splits, metrics and rows.

May import: gcl_bench.data.splits.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from gcl_bench.data.splits import SPLIT_LABELS

if TYPE_CHECKING:  # pragma: no cover
    from gcl_bench.leaderboard.tables import Row

_METRIC_LABELS = {
    "ndcg": "nDCG",
    "err": "ERR",
    "rbp": "RBP",
    "map": "MAP",
    "mrr": "MRR",
    "recall": "R",
    "precision": "P",
    "err_chapelle": "ERR-C",
    "err_gdeval": "ERR-gdeval",
    "rbp_binary": "RBP-bin",
    "accuracy": "Acc",
    "hole": "Hole",
}


def metric_label(metric: str) -> str:
    """Display name of a metric: ``ndcg@10`` -> ``nDCG@10``, ``rbp@0.9`` -> ``RBP@0.9``."""
    base, sep, cutoff = metric.partition("@")
    return _METRIC_LABELS.get(base, base) + sep + cutoff


def split_label(split: str) -> str:
    """Display name of a split: ``in_domain`` -> ``In-domain`` (unknown names as they are)."""
    return SPLIT_LABELS.get(split, split)


def row_label(row: Row) -> str:
    """A row's model name, marked when it is the baseline."""
    return row.model + (" (baseline)" if row.baseline else "")


DAGGER = "\u2020"
"""The mark of a row whose model saw, in training, the queries or documents of a split it is scored on."""


def seen_splits(row: Row) -> list[str]:
    """The splits of ``row`` whose model saw the split's queries or documents in training."""
    return [split for split, entry in row.entries.items() if (entry.training or {}).get("status") == "seen"]


def training_mark(row: Row, fmt: str = "markdown", split: str | None = None) -> str:
    """The mark after a row label: a dagger when its model is not zero-shot on a split of the table
    (on ``split`` when given: a layout with one block of rows per split marks each block alone)."""
    seen = seen_splits(row)
    if not seen or (split is not None and split not in seen):
        return ""
    return "$^\\dagger$" if fmt == "latex" else " " + DAGGER
