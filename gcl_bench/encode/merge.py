"""The merge: finished cache entries -> one :class:`EncodedSplit` and its report (``info``).

Field adapters: each side's embedding is the fusion of its field entries
(:func:`gcl_bench.fields.fuse_fields`: weighted average over the fields an item has, weights
renormalised, L2-normalised); a document with no usable field gets no row and is reported by id;
a query that cannot be encoded is an error. Plug-ins: the two entries are used as returned
(``similarity == "dot"``) or L2-normalised (``"cos"``). A plug-in's all-zero row (a hashing or
TF-IDF encoder on an empty title returns one) has no direction to rank by: a zero document is
left out of the index like a document with no usable field, a zero query retrieves nothing (its
metrics are 0); both are counted and reported by id, whatever the similarity. Dimensions must
agree across all entries.

Imports: numpy, :mod:`gcl_bench.errors`, :mod:`gcl_bench.fields`, :mod:`gcl_bench.encode.plan`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from gcl_bench.encode.plan import Job, Plan, model_name
from gcl_bench.errors import GclBenchError
from gcl_bench.fields import FieldEmbeddings, fuse_fields


@dataclass
class EncodedSplit:
    """The output of :func:`~gcl_bench.encode.encode_split`.

    ``query_embeddings`` (Q, D) float32, one row per ``split.query_ids`` entry;
    ``doc_embeddings`` (N', D) float32 (float16 with ``dtype="float16"``), one row per document
    that has at least one usable field; ``doc_rows`` (N',) int64 maps each of those rows to its
    row in the split, or is None when every document has a row (then N' == N and row i is
    document i); ``zero_queries`` (Q,) bool marks the queries whose embedding is all zero (None:
    none is); ``info`` holds cache hits, timings, dims and the documents and queries left out.
    """

    query_embeddings: np.ndarray
    doc_embeddings: np.ndarray
    info: dict[str, Any]
    doc_rows: np.ndarray | None = None
    zero_queries: np.ndarray | None = None

    def to_split_rows(self, indices: np.ndarray) -> np.ndarray:
        """Map search result indices (rows of ``doc_embeddings``, -1 padding) to split doc rows."""
        indices = np.asarray(indices, dtype=np.int64)
        if self.doc_rows is None:
            return indices
        return np.where(indices >= 0, self.doc_rows[np.maximum(indices, 0)], -1)

    def ranked(self, scores: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Search output as split rows: :meth:`to_split_rows`, and nothing retrieved for a zero query."""
        indices = self.to_split_rows(indices)
        if self.zero_queries is not None and self.zero_queries.any():
            indices = indices.copy()
            indices[self.zero_queries] = -1
            scores = np.where(self.zero_queries[:, None], np.float32(0), scores)
        return scores, indices


def merge(
    model: Any, split: Any, plan: Plan, *, dtype: str, batch_size: int, cache_root: str | None,
    world_size: int, started: float,
) -> EncodedSplit:
    """Load every job's entry and build the :class:`EncodedSplit` (run on rank 0 only).

    ``cache_root``: the persistent cache folder, or None when nothing was cached; ``started``:
    the ``time.perf_counter()`` of the start of the stage (for the total time).
    """
    name = model_name(model)
    merge_started = time.perf_counter()
    vectors = {job.label: job.load() for job in plan.jobs}
    dims = {label: int(array.shape[1]) for label, array in vectors.items()}
    if len(set(dims.values())) > 1:
        raise GclBenchError(
            f"model {name}: embedding dimensions differ between fields/sides: "
            + ", ".join(f"{label}={dim}" for label, dim in dims.items())
        )
    dim = next(iter(dims.values()))
    doc_dtype = np.float16 if dtype == "float16" else np.float32
    doc_rows = None
    zero_queries: np.ndarray | None = None
    zero_doc_ids: list[str] = []
    unusable: dict[str, int] = {}
    if plan.mode == "fields":
        queries, query_has = _fuse(plan.jobs, "query", vectors, split.num_queries, dim, np.float32,
                                   split.query_ids, unusable)
        if not query_has.all():
            bad = [split.query_ids[i] for i in np.flatnonzero(~query_has)[:5]]
            raise GclBenchError(
                f"model {name}: {int((~query_has).sum())} queries could not be encoded "
                f"(first ids: {', '.join(bad)})"
            )
        docs, has = _fuse(plan.jobs, "doc", vectors, split.num_docs, dim, doc_dtype, split.doc_ids, unusable)
        without_ids = [split.doc_ids[i] for i in np.flatnonzero(~has)]
        if not has.all():
            doc_rows = np.flatnonzero(has).astype(np.int64)
            if doc_rows.size == 0:
                raise GclBenchError(
                    f"split {split.name!r}: no document has any of the fields {', '.join(model.doc_fields)}"
                )
    else:
        cos = plan.similarity == "cos"
        queries, query_zero = _checked_rows(vectors["query/text"], np.float32, cos)
        docs, doc_zero = _checked_rows(vectors["doc/corpus"], doc_dtype, cos)
        if doc_zero.all():
            raise GclBenchError(f"model {name}: every document has a zero embedding (all-zero rows); nothing can be retrieved")
        if doc_zero.any():
            doc_rows = np.flatnonzero(~doc_zero).astype(np.int64)
            docs = docs[doc_rows]
            zero_doc_ids = [split.doc_ids[i] for i in np.flatnonzero(doc_zero)]
        zero_queries = query_zero if query_zero.any() else None
        without_ids = list(plan.docs_without_fields or [])
    info = _report(model, split, plan, dim=dim, dtype=dtype, batch_size=batch_size, cache_root=cache_root,
                   world_size=world_size, indexed=int(docs.shape[0]), without_ids=without_ids,
                   excluded=doc_rows is not None and plan.mode == "fields", unusable=unusable)
    zero_query_ids = [split.query_ids[i] for i in np.flatnonzero(zero_queries)] if zero_queries is not None else []
    info["queries"].update(zero_vectors=len(zero_query_ids), zero_vector_ids=zero_query_ids[:20])
    info["documents"].update(zero_vectors=len(zero_doc_ids), zero_vector_ids=zero_doc_ids[:20])
    info["timings"]["merge"] = round(time.perf_counter() - merge_started, 4)
    info["timings"]["total"] = round(time.perf_counter() - started, 4)
    return EncodedSplit(queries, docs, info, doc_rows, zero_queries)


def _report(
    model: Any, split: Any, plan: Plan, *, dim: int, dtype: str, batch_size: int, cache_root: str | None,
    world_size: int, indexed: int, without_ids: list[str], excluded: bool, unusable: dict[str, int],
) -> dict[str, Any]:
    """The ``info`` dict of an :class:`EncodedSplit` (``timings`` without ``merge`` / ``total``)."""
    field_mode = plan.mode == "fields"
    side_seconds = {"query": 0.0, "doc": 0.0}
    for job in plan.jobs:
        side_seconds[job.side] += job.seconds
    entries = {
        job.label: {
            "key_hash": job.entry.hash if cache_root is not None else None,
            "items": job.entry.count,
            "shards": job.entry.num_shards,
            "shards_cached": job.entry.num_shards - len(job.missing_before) - len(job.entry.repaired),
            "shards_encoded": len(job.missing_before) + len(job.entry.repaired),
            "shards_repaired": len(job.entry.repaired) + len(job.entry.damaged),  # damaged: encoded again
            "items_encoded": int(job.items_to_encode) + _items_in(job, job.entry.repaired),
            "hit": not job.missing_before and not job.entry.repaired,
        }
        for job in plan.jobs
    }
    return {
        "model": model_name(model),
        "mode": plan.mode,
        "fingerprint": plan.fingerprint,
        "similarity": plan.similarity,
        "dim": dim,
        "dtype": dtype,
        "batch_size": batch_size,
        "query_fields": dict(model.query_fields) if field_mode else None,
        "doc_fields": dict(model.doc_fields) if field_mode else None,
        "cache": {
            "enabled": cache_root is not None,
            "root": cache_root,
            "hit": cache_root is not None and all(entry["hit"] for entry in entries.values()),
            "items_encoded": int(sum(entry["items_encoded"] for entry in entries.values())),
            "shards_repaired": int(sum(entry["shards_repaired"] for entry in entries.values())),
            "entries": entries,
        },
        "queries": {"total": split.num_queries},
        "documents": {
            "total": split.num_docs,
            "indexed": indexed,
            "without_fields": len(without_ids),
            "without_fields_ids": without_ids[:20],
            "excluded": len(without_ids) if excluded else 0,
            "missing_images": plan.missing_images,
            "empty_titles": plan.empty_titles,
            "empty_texts": plan.empty_texts,
            **({"reference_texts": plan.reference_texts} if plan.reference_texts else {}),
        },
        "items_per_field": {job.label: len(job.values) for job in plan.jobs} if field_mode else {},
        "unusable_per_field": unusable,
        "distributed": {"world_size": world_size},
        "timings": {"query": round(side_seconds["query"], 4), "doc": round(side_seconds["doc"], 4)},
    }


def _items_in(job: Job, shards: list[int]) -> int:
    return sum(stop - start for start, stop in map(job.entry.shard_rows, shards))


def _checked_rows(array: np.ndarray, out_dtype: Any, normalise: bool, block: int = 65_536) -> tuple[np.ndarray, np.ndarray]:
    """``array`` as ``out_dtype`` (L2-normalised rows when ``normalise``) and the mask of its all-zero
    rows, ``block`` rows at a time; zero rows stay zero."""
    zero = np.zeros(array.shape[0], dtype=bool)
    if not normalise:
        for start in range(0, array.shape[0], block):
            zero[start : start + block] = ~np.asarray(array[start : start + block]).any(axis=1)
        return array.astype(out_dtype, copy=False), zero
    out = np.empty(array.shape, dtype=out_dtype)
    for start in range(0, array.shape[0], block):
        chunk = np.asarray(array[start : start + block], dtype=np.float32)
        norms = np.linalg.norm(chunk, axis=1, keepdims=True)
        zero[start : start + block] = norms[:, 0] == 0
        out[start : start + block] = chunk / np.where(norms == 0, np.float32(1), norms)
    return out, zero


def _fuse(
    jobs: list[Job], side: str, vectors: dict[str, np.ndarray], n: int, dim: int, out_dtype: Any,
    ids: Any, unusable: dict[str, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Fuse ``side``'s field embeddings (:func:`gcl_bench.fields.fuse_fields`); count all-NaN rows.

    A side without any job (no item has any of its fields) has no row at all.
    """
    side_jobs = [job for job in jobs if job.side == side]
    if not side_jobs:
        return np.empty((0, dim), dtype=out_dtype), np.zeros(n, dtype=bool)
    fused = fuse_fields(
        [FieldEmbeddings(job.label, vectors[job.label], job.weight, job.present) for job in side_jobs],
        n, dtype=out_dtype, ids=ids,
    )
    unusable.update(fused.unusable)
    return fused.embeddings, fused.has_field
