"""Same-data checks: results that share a column must be scored on the same judgements.

Compared, per split of one table: the recorded query-set hash, the number of scored queries,
the number of judgements, and the query ids of the per-query files; any difference is refused.
The dataset fingerprint identifies the input *files* (path, size, mtime), so two copies of the
same data differ in it: that is reported as a note under the table, not refused.

May import: gcl_bench.leaderboard.entries, gcl_bench.leaderboard.labels, gcl_bench.errors.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gcl_bench.errors import GclBenchError
from gcl_bench.leaderboard.entries import Entry
from gcl_bench.leaderboard.labels import split_label

_RECORDED: dict[str, Callable[[Entry], Any]] = {
    "the query-set hash": lambda e: e.dataset.get("query_hash"),
    "the number of queries": lambda e: e.num_queries,
    "the number of judgements": lambda e: e.dataset.get("num_judgements"),
}


def check_same_data(split: str, entries: list[Entry]) -> list[str]:
    """Refuse when ``entries`` (one split, one table) differ in judgements; return the notes."""
    for what, get in _RECORDED.items():
        first: tuple[Any, Entry] | None = None
        for entry in entries:
            value = get(entry)
            if value is None:
                continue
            if first is None:
                first = (value, entry)
            elif value != first[0]:
                raise GclBenchError(
                    f"{split}: results disagree on {what} ({value!r} here, {first[0]!r} in {first[1].path}); "
                    "they were scored on different judgements and cannot share a column",
                    entry.path,
                )
    _check_same_query_ids(split, entries)
    fingerprints = {e.dataset.get("fingerprint") for e in entries} - {None}
    if len(fingerprints) > 1:
        return [
            f"{split_label(split)}: the results come from {len(fingerprints)} copies of the dataset files "
            "(different path, size or modification time); their query sets and judgement counts agree."
        ]
    return []


def _check_same_query_ids(split: str, entries: list[Entry]) -> None:
    first_ids: tuple[set[str], Entry] | None = None
    for entry in entries:
        table = entry.per_query_table
        if table is None:
            continue
        ids = set(table.query_ids)
        if first_ids is None:
            first_ids = (ids, entry)
        elif ids != first_ids[0]:
            only_here = sorted(ids - first_ids[0])
            only_there = sorted(first_ids[0] - ids)
            raise GclBenchError(
                f"{split}: per-query values cover different queries than {first_ids[1].per_query_path} "
                f"({len(only_here)} only here, {len(only_there)} only there, e.g. "
                f"{(only_here or only_there)[0]!r}); they were scored on different judgements and "
                "cannot share a column",
                entry.per_query_path,
            )
