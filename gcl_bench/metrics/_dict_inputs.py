"""Shape checks of BEIR-style dict inputs, shared by the judgements reader and the dict join.

Imports only :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gcl_bench.errors import GclBenchError


def as_dict(value: Any, what: str, key: str) -> dict:
    """``value`` as a plain dict, or GclBenchError naming ``what`` and the query ``key``."""
    if type(value) is dict:
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise GclBenchError(f"{what} of query {key!r} must be a mapping doc_id -> value, got {type(value).__name__}")


def check_keys(query_ids: list, dicts: list[dict], what: str) -> None:
    """Query ids, and the first doc id of every list, must be strings (catches int ids)."""
    if not set(map(type, query_ids)) <= {str}:
        bad = next(q for q in query_ids if not isinstance(q, str))
        raise GclBenchError(f"{what}: query ids must be strings, got {bad!r}")
    firsts = list(map(next, map(iter, filter(None, dicts))))
    if not set(map(type, firsts)) <= {str}:
        for query_id, docs in zip(query_ids, dicts):
            doc_id = next(iter(docs), "")
            if not isinstance(doc_id, str):
                raise GclBenchError(
                    f"{what}: document ids must be strings, got {doc_id!r} for query {query_id!r}"
                )
