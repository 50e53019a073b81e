"""Judgements sampled from a split CSV: the GCL reference evaluation's query set and grades.

Used when a split has no ``_gt_{dev,test}.json`` file. The steps (and their quirks) follow the
reference script ``evals/eval_gs_v1.py`` of marqo-ai/GCL so that its query set and grades are
reproduced:

1. grade = ``int(((s - min) / (max - min)) * 99 + 1)`` of the weight column over the whole file
   (truncation, grades 1..100); when the column is absent or constant every grade is 1;
2. the query key is the query text followed by ``_{!@#~}_``; rows whose query text is null or
   one pandas would read as missing (``""``, ``"NA"``, ``"null"``...) belong to no query, as in
   pandas' groupby;
3. grades are summed per key (keys sorted, as ``groupby``), and ``top_q`` keys are drawn as
   ``DataFrame.sample(n=top_q, weights=sums, random_state=seed, replace=False)`` draws them
   (see :func:`draw_queries`) and ordered by their sums, descending (pandas' default sort);
   the reference evaluation of Hugging Face datasets (``evals/eval_hf_datasets_v1.py``) draws
   them uniformly instead, ``DataFrame.sample(n=top_q, random_state=seed)`` (``weighted=False``);
4. each drawn query keeps its first ``top_k`` rows after pandas' descending sort of its rows (in
   file order) by grade; a product that appears twice keeps the grade of the later row.

Two differences from the reference, on purpose (the reference protocol reproduces both, see
:mod:`gcl_bench.protocol`): product ids are kept as written (the reference's ``read_csv`` turns
``"00123"`` into ``"123"``, which then matches no corpus id; the caller passes such ids as
``doc_ids`` under the reference protocol, :mod:`~gcl_bench.data.pandas_ids`), and ``top_k`` is a
fixed judgement depth (the reference cuts at its retrieval ``--top-k``; the caller passes that).
When the file has fewer than ``top_q`` queries all of them are used, as the reference does.

May import: pyarrow and numpy only.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

QUERY_SUFFIX = "_{!@#~}_"
"""What the reference script appends to the query text to build a query key."""

SEED = 1
"""``random_state`` of the reference script's query draw."""

PANDAS_NA_STRINGS = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)
"""Strings ``pandas.read_csv`` reads as missing by default (its ``na_values``)."""


@dataclass
class SampledJudgements:
    query_keys: list[str]
    query_texts: list[str]
    qrels: dict[str, dict[str, int]]
    info: dict[str, Any] = field(default_factory=dict)


def query_set_hash(keys: list[str]) -> str:
    """SHA-256 of the sorted query keys, one per line: identifies a sampled query set."""
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()


def reference_grades(scores: np.ndarray | None) -> np.ndarray | None:
    """Grades 1..100 as the reference computes them, or None when the column is absent or constant."""
    if scores is None or len(np.unique(scores)) <= 1:
        return None
    lo, hi = scores.min(), scores.max()
    return (((scores - lo) / (hi - lo)) * 99 + 1).astype(np.int64)


def draw_queries(group_sums: np.ndarray, n: int, seed: int = SEED, weighted: bool = True) -> np.ndarray:
    """Positions of the ``n`` groups drawn as ``DataFrame.sample(n, weights=group_sums,
    random_state=seed, replace=False)`` draws them with pandas < 3 (the reference's pandas):
    ``RandomState(seed).choice`` with the weights normalised to sum to one. pandas 3 refuses
    such a draw when ``n * max(p) > 1``; the reference never checked, so neither does this.
    ``weighted=False``: ``DataFrame.sample(n, random_state=seed)``, every group equally likely.
    """
    state = np.random.RandomState(seed)
    if not weighted:
        return state.choice(len(group_sums), size=n, replace=False).astype(np.intp, copy=False)
    weights = np.asarray(group_sums, dtype=np.float64)
    weights = weights / weights.sum()
    return state.choice(len(weights), size=n, replace=False, p=weights).astype(np.intp, copy=False)


def _descending_order(values: np.ndarray) -> np.ndarray:
    """pandas' ``sort_values(ascending=False)`` order (``nargsort`` with its default quicksort)."""
    idx = np.arange(len(values))[::-1]
    order = idx[values[::-1].argsort(kind="quicksort")]
    return order[::-1]


def sample_judgements(
    queries: pa.Array | pa.ChunkedArray,
    doc_ids: pa.Array | pa.ChunkedArray,
    scores: np.ndarray | None,
    weight_column: str,
    top_q: int = 2000,
    top_k: int = 1000,
    seed: int = SEED,
    weighted_draw: bool = True,
    rewritten: np.ndarray | None = None,
) -> SampledJudgements:
    """Draw ``top_q`` queries and their top ``top_k`` judgements from CSV columns (see module doc);
    ``weighted_draw=False`` draws the queries uniformly, as the reference evaluation of Hugging
    Face datasets does. ``rewritten`` (one bool per row) marks the rows whose id in ``doc_ids``
    differs from the file's; ``info["ids_rewritten"]`` then counts the judgements that have one."""
    n_rows = len(queries)
    grades = reference_grades(scores)
    used_column = weight_column
    if grades is None:
        grades = np.ones(n_rows, dtype=np.int64)
        used_column = None
    # Group by the text (a bijection with text + suffix), then order the groups by the key.
    sums = pa.table({"text": queries, "grade": pa.array(grades)}).group_by("text").aggregate([("grade", "sum")])
    missing = pc.fill_null(pc.is_in(sums["text"], value_set=pa.array(PANDAS_NA_STRINGS)), False)
    sums = sums.filter(pc.invert(pc.or_(missing, pc.is_null(sums["text"]))))
    keys = pc.binary_join_element_wise(sums["text"], pa.scalar(QUERY_SUFFIX), "")
    by_key = pc.sort_indices(keys)
    texts = pc.take(sums["text"], by_key)
    group_sums = pc.take(sums["grade_sum"], by_key).to_numpy().astype(np.int64)
    n_queries = len(group_sums)
    wanted = n_queries if top_q == -1 else top_q
    used_q = min(wanted, n_queries)
    if used_q == 0:
        return SampledJudgements([], [], {}, _info(seed, top_q, used_q, top_k, used_column, [], weighted_draw))
    drawn = draw_queries(group_sums, used_q, seed, weighted=weighted_draw)
    drawn = drawn[_descending_order(group_sums[drawn])]
    drawn_texts = pc.take(texts, pa.array(drawn))
    query_texts = drawn_texts.to_pylist()
    query_keys = [t + QUERY_SUFFIX for t in query_texts]

    position = pc.index_in(queries, value_set=drawn_texts)
    position = pc.fill_null(position, -1).to_numpy(zero_copy_only=False)
    rows = np.nonzero(position >= 0)[0]
    rows = rows[np.argsort(position[rows], kind="stable")]
    counts = np.bincount(position[rows], minlength=len(query_keys))
    row_docs = pc.take(doc_ids, pa.array(rows)).to_pylist()
    row_grades = grades[rows]
    row_rewritten = None if rewritten is None else np.asarray(rewritten, dtype=bool)[rows]
    qrels: dict[str, dict[str, int]] = {}
    rewritten_pairs = 0
    start = 0
    for key, count in zip(query_keys, counts.tolist()):
        stop = start + count
        local = _descending_order(row_grades[start:stop])[:top_k] + start
        qrels[key] = {row_docs[i]: int(row_grades[i]) for i in local.tolist()}
        if row_rewritten is not None:  # the row each kept pair came from: the later of a repeat
            kept_rows = {row_docs[i]: i for i in local.tolist()}
            rewritten_pairs += int(row_rewritten[list(kept_rows.values())].sum())
        start = stop
    info = _info(seed, top_q, used_q, top_k, used_column, query_keys, weighted_draw)
    if rewritten is not None:
        info["ids_rewritten"] = rewritten_pairs
    return SampledJudgements(query_keys, query_texts, qrels, info)


def _info(seed: int, top_q: int, used_q: int, top_k: int, column: str | None, keys: list[str],
          weighted_draw: bool) -> dict[str, Any]:
    return {
        "sampled": True,
        "query_draw": "weighted by summed grades" if weighted_draw else "uniform",
        "seed": seed,
        "top_q": top_q,
        "top_q_used": used_q,
        "top_k": top_k,
        "weight_column": column,
        "query_hash": query_set_hash(keys),
    }
