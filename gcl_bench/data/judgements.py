"""Judgement files: reading ``{query_key: {product_id: grade}}`` and resolving the keys to queries.

A key may be a query text, the text followed by ``_{!@#~}_`` (the key the reference script
builds), or a ``query_id`` of the CSV (or of a ``{id: text}`` queries file); they are tried in
that order. Every key must resolve: a metric over a silently shrunk query set would be a
wrong number, so the first unresolvable key is shown in the error.

A key repeated in a gt file (a query, or a product inside one query's judgements) follows
:mod:`~gcl_bench.data.repeats`: with the same value it is counted once and reported, with
another it is an error.

May import: :mod:`~gcl_bench.data.sampled` (the query suffix), :mod:`~gcl_bench.data.repeats`,
:mod:`~gcl_bench.data.beir` (the grade limit), :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcl_bench.data.beir import MAX_GRADE
from gcl_bench.data.repeats import RepeatedKeys, check_json_repeats, read_json_checked
from gcl_bench.data.sampled import QUERY_SUFFIX
from gcl_bench.errors import GclBenchError

KIND_TEXT = "text"
KIND_TEXT_SUFFIX = "text_suffix"
KIND_QUERY_ID = "query_id"


def _grade(value: Any, key: str, doc: str, path: Path) -> int:
    if type(value) is int and 0 <= value <= MAX_GRADE:
        return value
    if isinstance(value, float) and value >= 2.0**63:  # orjson reads integers past 64 bits as floats
        raise GclBenchError(f"query {key!r}, product {doc!r}: grade is larger than 2^63 - 1 (about {value:.6g})", path)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or value != int(value):
        raise GclBenchError(
            f"query {key!r}, product {doc!r}: grade {value!r} is not a non-negative integer", path
        )
    return int(value)


def read_gt(path: Path, repeats: list[RepeatedKeys] | None = None) -> dict[str, dict[str, int]]:
    """Read and validate a gt file; grades must be integers from 0 to 2^63 - 1.

    A key repeated with the same value is appended to ``repeats`` (None: refused, as one with
    another value always is).
    """
    data, repeated = read_json_checked(path)
    if not isinstance(data, dict):
        raise GclBenchError("malformed judgements: expected an object {query: {product_id: grade}}", path)
    if not data:
        raise GclBenchError("judgement file has no queries", path)
    qrels: dict[str, dict[str, int]] = {}
    for key, docs in data.items():
        if not isinstance(docs, dict):
            raise GclBenchError(f"malformed judgements: query {key!r} maps to {type(docs).__name__}, expected an object", path)
        qrels[key] = {doc: _grade(g, key, doc, path) for doc, g in docs.items()}
    check_json_repeats(path, repeated, "query", "product", repeats)
    return qrels


def read_queries_file(path: Path, repeats: list[RepeatedKeys] | None = None) -> tuple[list[str], dict[str, str]]:
    """The texts of a queries file and, for the ``{id: text}`` form, the id -> text map.

    An id repeated with the same text goes to ``repeats`` (None: refused, as one with another
    text always is).
    """
    data, repeated = read_json_checked(path)
    if isinstance(data, list):
        if not all(isinstance(t, str) for t in data):
            raise GclBenchError("malformed queries file: expected a list of strings or an object {id: text}", path)
        return data, {}
    if isinstance(data, dict):
        if not all(isinstance(t, str) for t in data.values()):
            raise GclBenchError("malformed queries file: every value of {id: text} must be a string", path)
        check_json_repeats(path, repeated, "query id", "field", repeats)
        return list(data.values()), {str(k): v for k, v in data.items()}
    raise GclBenchError("malformed queries file: expected a list of strings or an object {id: text}", path)


@dataclass
class QueryLookup:
    """Known query texts and query ids of a split, gathered from its queries file and CSV."""

    texts: set[str] = field(default_factory=set)
    ids: dict[str, str] = field(default_factory=dict)
    ambiguous_ids: set[str] = field(default_factory=set)

    def add(self, texts: Iterable[str], ids: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        self.texts.update(texts)
        pairs = ids.items() if isinstance(ids, Mapping) else ids
        for qid, text in pairs:
            known = self.ids.get(qid)
            if known is not None and known != text:
                self.ambiguous_ids.add(qid)
            else:
                self.ids[qid] = text

    def resolve(self, key: str) -> tuple[str, str] | None:
        """``(text, kind)`` for one gt key, or None."""
        if key in self.texts:
            return key, KIND_TEXT
        if key.endswith(QUERY_SUFFIX) and key[: -len(QUERY_SUFFIX)] in self.texts:
            return key[: -len(QUERY_SUFFIX)], KIND_TEXT_SUFFIX
        if key in self.ids and key not in self.ambiguous_ids:
            return self.ids[key], KIND_QUERY_ID
        return None


def resolve_keys(keys: list[str], lookup: QueryLookup) -> tuple[list[str | None], dict[str, int]]:
    """Texts for ``keys`` (None where unresolved) and counts per resolution kind."""
    texts: list[str | None] = []
    kinds: dict[str, int] = {}
    for key in keys:
        found = lookup.resolve(key)
        if found is None:
            texts.append(None)
        else:
            texts.append(found[0])
            kinds[found[1]] = kinds.get(found[1], 0) + 1
    return texts, kinds


def unresolved_error(keys: list[str], texts: list[str | None], gt_path: Path, sources: list[Path], lookup: QueryLookup) -> GclBenchError:
    """The error for judgement keys that match no query."""
    bad = [k for k, t in zip(keys, texts) if t is None]
    example = bad[0]
    where = ", ".join(p.name for p in sources) or "no queries file or CSV"
    hint = " (that query_id maps to several query texts)" if example in lookup.ambiguous_ids else ""
    if len(bad) == len(keys):
        msg = f"none of the {len(keys)} judgement keys matches a query of {where}"
    else:
        msg = f"{len(bad)} of {len(keys)} judgement keys match no query of {where}"
    return GclBenchError(
        f"{msg} (tried: query text, text + '{QUERY_SUFFIX}', query_id); first unresolvable key: {example!r}{hint}",
        gt_path,
    )
