"""The encode stage: a split's queries and documents -> embedding matrices, through the cache.

Two kinds of model are accepted:

- gcl_bench's own dense adapters, which encode one field at a time: ``query_fields`` /
  ``doc_fields`` (``{field: weight}``), ``fingerprint()``, ``field_cache_key(side, field)`` and
  ``encode_field(side, field, values, batch_size) -> (n, D)`` with L2-normalised rows. Fields are
  ``text`` on the query side and ``title`` / ``image`` on the document side. Each field is
  encoded (or read from the cache) on its own; a side's embedding is then the weighted average of
  the fields an item has (weights renormalised over them), L2-normalised. Weights are applied
  after the cache, so a sweep over fusion weights re-encodes nothing.
- plug-in encoders with BEIR's ``encode_queries(list[dict], batch_size)`` /
  ``encode_corpus(list[dict], batch_size)`` and optional ``similarity`` (``"cos"``: rows are
  L2-normalised here; ``"dot"``: used as returned) and ``fingerprint()`` (without it nothing is
  cached). Outputs are checked: numpy or torch, 2-D, floating point, one row per item, the same
  dimension on both sides, finite.

Documents: a title that is empty or only white space, an image path that is None or cannot be
stat'ed, and a value the adapter returns as an all-NaN row (e.g. an image that fails to decode)
count as missing fields. A document with none of the weighted fields gets no vector:
it is left out of ``doc_embeddings`` (never a zero vector) and reported by id in ``info``;
:attr:`EncodedSplit.doc_rows` maps embedding rows back to split rows. Query texts are always
encoded, even when empty.

Under torchrun (``WORLD_SIZE`` > 1) every rank encodes the cache shards ``i`` with
``i % world_size == rank``, writes them to the shared cache folder, meets the others at a barrier,
and rank 0 merges and returns the :class:`EncodedSplit`; the other ranks return ``None``. The
cache folder must therefore be shared by all ranks (``GCL_BENCH_CACHE`` on a shared file system
when ranks span machines). With ``cache=False`` the shards go to a temporary folder under the
cache root that rank 0 removes after merging.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench import distributed
from gcl_bench.encode.cache import (
    CacheEntry,
    EmbeddingCache,
    MemoryEntry,
    cache_key,
    hash_image_files,
    hash_texts,
    image_stamp,
)
from gcl_bench.errors import GclBenchError
from gcl_bench.fields import FieldEmbeddings, active_fields, fuse_fields, parse_fields

DEFAULT_SHARD_SIZE = 16_384
"""Items per cache shard: the unit of resumption after an interruption."""

ProgressCallback = Callable[[str, int, int], None]
"""``progress(label, items_done, items_total)``, called after each shard (label e.g. ``doc/image``)."""


@dataclass
class EncodedSplit:
    """The output of :func:`encode_split`.

    ``query_embeddings`` (Q, D) float32, one row per ``split.query_ids`` entry;
    ``doc_embeddings`` (N', D) float32 (float16 with ``dtype="float16"``), one row per document
    that has at least one usable field; ``doc_rows`` (N',) int64 maps each of those rows to its
    row in the split, or is None when every document has a row (then N' == N and row i is
    document i); ``info`` holds cache hits, timings, dims and the documents left out.
    """

    query_embeddings: np.ndarray
    doc_embeddings: np.ndarray
    info: dict[str, Any]
    doc_rows: np.ndarray | None = None

    def to_split_rows(self, indices: np.ndarray) -> np.ndarray:
        """Map search result indices (rows of ``doc_embeddings``, -1 padding) to split doc rows."""
        indices = np.asarray(indices, dtype=np.int64)
        if self.doc_rows is None:
            return indices
        return np.where(indices >= 0, self.doc_rows[np.maximum(indices, 0)], -1)


@dataclass
class _Job:
    """One (side, field) to encode: the values handed to the model and its cache entry."""

    side: str
    field: str
    values: list[Any]
    encode: Callable[[list[Any]], Any]
    entry: CacheEntry
    present: np.ndarray | None = None
    weight: float = 1.0
    missing_before: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.side}/{self.field}"


def model_name(model: Any) -> str:
    """A short name for messages: ``model.name`` when set, else the class name."""
    name = getattr(model, "name", None)
    return str(name) if isinstance(name, str) and name else type(model).__name__


def _is_field_adapter(model: Any) -> bool:
    return all(hasattr(model, attr) for attr in ("encode_field", "query_fields", "doc_fields"))


def _model_fields(model: Any, side: str) -> dict[str, float]:
    """The positively weighted fields of a field adapter's ``side``, checked by :func:`parse_fields`."""
    weights = model.query_fields if side == "query" else model.doc_fields
    try:
        return active_fields(parse_fields(weights, side))
    except GclBenchError as err:
        raise GclBenchError(f"model {model_name(model)}: {err.message}") from None


def as_embedding_matrix(
    output: Any, rows: int, model: str, what: str, allow_nan_rows: bool = False
) -> np.ndarray:
    """Check a model's output and return it as a float32 numpy matrix (rows, D).

    Accepts numpy arrays and torch tensors; raises GclBenchError naming the model when the output
    is not 2-D, not floating point, has the wrong number of rows, or holds NaN / inf
    (``allow_nan_rows``: a row that is entirely NaN is allowed; it marks an unusable value).
    """
    if hasattr(output, "detach") and hasattr(output, "cpu"):  # torch tensor
        output = output.detach().cpu()
        if output.is_floating_point():
            output = output.float()
        output = output.numpy()
    if isinstance(output, list) and output and hasattr(output[0], "detach"):
        return as_embedding_matrix(__import__("torch").stack(output), rows, model, what)
    array = np.asarray(output)
    if array.ndim != 2:
        raise GclBenchError(f"model {model}: {what} returned shape {array.shape}; expected 2-D ({rows}, dim)")
    if not np.issubdtype(array.dtype, np.floating):
        raise GclBenchError(f"model {model}: {what} returned dtype {array.dtype}; expected floating point")
    if array.shape[0] != rows:
        raise GclBenchError(f"model {model}: {what} returned {array.shape[0]} rows for {rows} items")
    if array.shape[1] == 0:
        raise GclBenchError(f"model {model}: {what} returned embeddings of dimension 0")
    array = np.ascontiguousarray(array, dtype=np.float32)
    finite = np.isfinite(array).all(axis=1)
    if allow_nan_rows:
        finite |= np.isnan(array).all(axis=1)
    if not finite.all():
        raise GclBenchError(
            f"model {model}: {what} returned NaN or infinite values ({int((~finite).sum())} of {rows} rows)"
        )
    return array


def _new_entry(store: EmbeddingCache | None, key: dict[str, Any], shard_size: int) -> CacheEntry:
    return store.entry(key, shard_size) if store is not None else MemoryEntry(key, shard_size)


def _field_jobs(
    model: Any, split: Any, store: EmbeddingCache | None, dtype: str, shard_size: int, batch_size: int,
    counts: dict[str, Any],
) -> list[_Job]:
    name = model_name(model)
    fingerprint = str(model.fingerprint())
    query_weights = _model_fields(model, "query")
    doc_weights = _model_fields(model, "doc")
    jobs: list[_Job] = []

    def add(side: str, field_name: str, weight: float, values: list[Any], items_hash: str,
            present: np.ndarray | None) -> None:
        if not values:
            return
        settings = model.field_cache_key(side, field_name)
        if not isinstance(settings, dict):
            raise GclBenchError(f"model {name}: field_cache_key({side!r}, {field_name!r}) must return a dict")
        key = cache_key(model=fingerprint, side=side, field=field_name, settings=settings, dtype=dtype,
                        count=len(values), items_hash=items_hash)

        def encode(chunk: list[Any], side: str = side, field_name: str = field_name) -> Any:
            return model.encode_field(side, field_name, chunk, batch_size)

        jobs.append(_Job(side, field_name, values, encode, _new_entry(store, key, shard_size), present, weight))

    for field_name, weight in query_weights.items():
        texts = list(split.query_texts)
        add("query", field_name, weight, texts, hash_texts(texts), None)
    for field_name, weight in doc_weights.items():
        if field_name == "title":
            present = np.fromiter((bool(t and t.strip()) for t in split.doc_titles), dtype=bool,
                                  count=split.num_docs)
            values = [t for t, ok in zip(split.doc_titles, present) if ok]
            counts["empty_titles"] = int((~present).sum())
            add("doc", "title", weight, values, hash_texts(values), present)
        else:
            stamps = [image_stamp(path) if path else None for path in split.doc_images]
            present = np.fromiter((s is not None for s in stamps), dtype=bool, count=split.num_docs)
            values = [p for p, ok in zip(split.doc_images, present) if ok]
            counts["missing_images"] = int((~present).sum())
            add("doc", "image", weight, values, hash_image_files([s for s in stamps if s]), present)
    for job in jobs:
        counts.setdefault("items_per_field", {})[job.label] = len(job.values)
    return jobs


def _plugin_jobs(
    model: Any, split: Any, store: EmbeddingCache | None, dtype: str, shard_size: int, batch_size: int,
    similarity: str,
) -> list[_Job]:
    fingerprint = str(model.fingerprint()) if callable(getattr(model, "fingerprint", None)) else ""
    queries = split.query_dicts()
    corpus = split.corpus_dicts()
    for doc in corpus:
        doc.setdefault("text", "")  # BEIR models read title + text
    doc_items = [
        f"{d.get('title') or ''}\0{(image_stamp(d['image']) or 'missing:' + str(d['image'])) if d.get('image') else ''}"
        for d in corpus
    ]
    settings = {"protocol": "beir", "similarity": similarity}
    jobs = []
    for side, field_name, items, items_hash, method in (
        ("query", "text", queries, hash_texts(split.query_texts), "encode_queries"),
        ("doc", "corpus", corpus, hash_texts(doc_items), "encode_corpus"),
    ):
        key = cache_key(model=fingerprint, side=side, field=field_name, settings={**settings, "method": method},
                        dtype=dtype, count=len(items), items_hash=items_hash)

        def encode(chunk: list[Any], method: str = method) -> Any:
            return getattr(model, method)(chunk, batch_size=batch_size)

        jobs.append(_Job(side, field_name, items, encode, _new_entry(store, key, shard_size)))
    return jobs


def encode_split(
    model: Any,
    split: Any,
    *,
    batch_size: int = 64,
    device: str | None = None,
    cache: bool = True,
    dtype: str = "float32",
    shard_size: int = DEFAULT_SHARD_SIZE,
    cache_root: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
) -> EncodedSplit | None:
    """Encode ``split``'s queries and documents with ``model``, reusing cached field embeddings.

    batch_size: passed to the model. device: only used to pick the torch.distributed backend under
    torchrun (``nccl`` for CUDA, else ``gloo``); the model already lives on its device.
    cache: read and write the embedding cache (plug-ins without ``fingerprint()`` are never cached).
    dtype: storage dtype of the cache, ``float32`` or ``float16``; queries are returned as float32,
    documents in this dtype. shard_size: items per cache shard (an existing entry keeps its own).
    cache_root: the cache folder (default ``cache_dir()/embeddings``).
    Returns the :class:`EncodedSplit`, or ``None`` on ranks other than 0 under torchrun.
    """
    started = time.perf_counter()
    if batch_size < 1 or shard_size < 1:
        raise GclBenchError(f"batch_size and shard_size must be positive (got {batch_size}, {shard_size})")
    if split.num_docs == 0:
        raise GclBenchError(f"split {split.name!r} has an empty corpus (0 documents)")
    name = model_name(model)
    world = distributed.world_size()
    rank = distributed.rank()
    if world > 1:
        distributed.init_process_group(device)

    field_mode = _is_field_adapter(model)
    if not field_mode and not (hasattr(model, "encode_queries") and hasattr(model, "encode_corpus")):
        raise GclBenchError(
            f"model {name} can encode neither fields (encode_field) nor BEIR-style "
            "(encode_queries / encode_corpus)"
        )
    similarity = "cos" if field_mode else str(getattr(model, "similarity", "cos") or "cos")
    if similarity in ("cos_sim", "cosine"):
        similarity = "cos"
    if similarity not in ("cos", "dot"):
        raise GclBenchError(f"model {name}: similarity must be 'cos' or 'dot', got {similarity!r}")
    persistent = cache and (field_mode or callable(getattr(model, "fingerprint", None)))
    temp_root: Path | None = None
    if persistent:
        store: EmbeddingCache | None = EmbeddingCache(cache_root)
    elif world > 1:
        from gcl_bench.config import cache_dir

        token = distributed.broadcast_object(uuid.uuid4().hex if rank == 0 else None)
        temp_root = Path(cache_root or cache_dir() / "embeddings").parent / "tmp" / f"encode-{token}"
        store = EmbeddingCache(temp_root)
    else:
        store = None

    counts: dict[str, Any] = {}
    if field_mode:
        jobs = _field_jobs(model, split, store, dtype, shard_size, batch_size, counts)
    else:
        jobs = _plugin_jobs(model, split, store, dtype, shard_size, batch_size, similarity)

    # 1. every rank verifies existing manifests (a mismatch raises everywhere); rank 0 creates new ones
    for job in jobs:
        exists = job.entry.read_manifest()
        if not exists and rank == 0:
            job.entry.create()
    distributed.barrier()
    for job in jobs:
        if rank != 0 and job.entry.persistent:
            job.entry.read_manifest()
        job.missing_before = job.entry.missing_shards()

    # 2. encode this rank's missing shards
    for job in jobs:
        job_started = time.perf_counter()
        mine = [shard for shard in job.missing_before if shard % world == rank]
        done = job.entry.count - sum(stop - start for start, stop in map(job.entry.shard_rows, job.missing_before))
        for shard in mine:
            start, stop = job.entry.shard_rows(shard)
            raw = job.encode(job.values[start:stop])
            what = f"{job.label} encoding" if field_mode else ("encode_queries" if job.side == "query" else "encode_corpus")
            vectors = as_embedding_matrix(raw, stop - start, name, what, allow_nan_rows=field_mode)
            job.entry.write_shard(shard, vectors)
            done += stop - start
            if progress is not None:
                progress(job.label, int(done), job.entry.count)
        job.seconds = time.perf_counter() - job_started
    distributed.barrier()
    if rank != 0:
        return None

    # 3. rank 0 merges
    try:
        return _merge(model, split, jobs, field_mode, similarity, dtype, started, counts,
                      store, persistent, world, batch_size)
    finally:
        if temp_root is not None:
            shutil.rmtree(temp_root, ignore_errors=True)


def _merge(
    model: Any, split: Any, jobs: list[_Job], field_mode: bool, similarity: str, dtype: str,
    started: float, counts: dict[str, Any], store: EmbeddingCache | None, persistent: bool,
    world: int, batch_size: int,
) -> EncodedSplit:
    name = model_name(model)
    merge_started = time.perf_counter()
    vectors = {job.label: job.entry.load() for job in jobs}
    dims = {label: int(array.shape[1]) for label, array in vectors.items()}
    if len(set(dims.values())) > 1:
        raise GclBenchError(
            f"model {name}: embedding dimensions differ between fields/sides: "
            + ", ".join(f"{label}={dim}" for label, dim in dims.items())
        )
    dim = next(iter(dims.values()))
    doc_dtype = np.float16 if dtype == "float16" else np.float32
    doc_rows = None
    without_ids: list[str] = []
    unusable: dict[str, int] = {}
    if field_mode:
        queries, query_has = _fuse(jobs, "query", vectors, split.num_queries, dim, np.float32,
                                   split.query_ids, unusable)
        if not query_has.all():
            bad = [split.query_ids[i] for i in np.flatnonzero(~query_has)[:5]]
            raise GclBenchError(
                f"model {name}: {int((~query_has).sum())} queries could not be encoded "
                f"(first ids: {', '.join(bad)})"
            )
        docs, has = _fuse(jobs, "doc", vectors, split.num_docs, dim, doc_dtype, split.doc_ids, unusable)
        if not has.all():
            doc_rows = np.flatnonzero(has).astype(np.int64)
            without_ids = [split.doc_ids[i] for i in np.flatnonzero(~has)]
            if doc_rows.size == 0:
                raise GclBenchError(
                    f"split {split.name!r}: no document has any of the fields {', '.join(model.doc_fields)}"
                )
    else:
        queries = vectors["query/text"]
        docs = vectors["doc/corpus"]
        if similarity == "cos":
            queries = _normalised(queries.astype(np.float32), split.query_ids, name, "query")
            docs = _normalised(docs, split.doc_ids, name, "document", out_dtype=doc_dtype)
        else:
            queries = queries.astype(np.float32, copy=False)
            docs = docs.astype(doc_dtype, copy=False)
        for doc_id, title, image in zip(split.doc_ids, split.doc_titles, split.doc_images):
            if not (title and title.strip()) and not (image and image_stamp(image)):
                without_ids.append(doc_id)
    side_seconds = {"query": 0.0, "doc": 0.0}
    for job in jobs:
        side_seconds[job.side] += job.seconds
    entries = {}
    for job in jobs:
        missing_rows = sum(stop - start for start, stop in map(job.entry.shard_rows, job.missing_before))
        entries[job.label] = {
            "key_hash": job.entry.hash if persistent else None,
            "items": job.entry.count,
            "shards": job.entry.num_shards,
            "shards_cached": job.entry.num_shards - len(job.missing_before),
            "shards_encoded": len(job.missing_before),
            "items_encoded": int(missing_rows),
            "hit": not job.missing_before,
        }
    info = {
        "model": name,
        "mode": "fields" if field_mode else "beir",
        "fingerprint": (str(model.fingerprint()) if callable(getattr(model, "fingerprint", None)) else None),
        "similarity": similarity,
        "dim": dim,
        "dtype": dtype,
        "batch_size": batch_size,
        "query_fields": dict(model.query_fields) if field_mode else None,
        "doc_fields": dict(model.doc_fields) if field_mode else None,
        "cache": {
            "enabled": persistent,
            "root": str(store.root) if persistent and store is not None else None,
            "hit": persistent and all(entry["hit"] for entry in entries.values()),
            "items_encoded": int(sum(entry["items_encoded"] for entry in entries.values())),
            "entries": entries,
        },
        "queries": {"total": split.num_queries},
        "documents": {
            "total": split.num_docs,
            "indexed": int(docs.shape[0]),
            "without_fields": len(without_ids),
            "without_fields_ids": without_ids[:20],
            "excluded": len(without_ids) if doc_rows is not None else 0,
            "missing_images": counts.get("missing_images", 0),
            "empty_titles": counts.get("empty_titles", 0),
        },
        "items_per_field": counts.get("items_per_field", {}),
        "unusable_per_field": unusable,
        "distributed": {"world_size": world},
        "timings": {
            "query": round(side_seconds["query"], 4),
            "doc": round(side_seconds["doc"], 4),
            "merge": round(time.perf_counter() - merge_started, 4),
            "total": round(time.perf_counter() - started, 4),
        },
    }
    return EncodedSplit(queries, docs, info, doc_rows)


def _normalised(array: np.ndarray, ids: list[str], model: str, what: str,
                out_dtype: Any = np.float32, block: int = 65_536) -> np.ndarray:
    out = np.empty(array.shape, dtype=out_dtype)
    for start in range(0, array.shape[0], block):
        chunk = np.asarray(array[start : start + block], dtype=np.float32)
        norms = np.linalg.norm(chunk, axis=1, keepdims=True)
        zero = np.flatnonzero(norms[:, 0] == 0)
        if zero.size:
            raise GclBenchError(
                f"model {model}: {what} {ids[start + int(zero[0])]!r} has a zero embedding "
                f"({zero.size} in rows {start}..{start + len(chunk) - 1}); cannot normalise"
            )
        out[start : start + block] = chunk / norms
    return out


def _fuse(
    jobs: list[_Job], side: str, vectors: dict[str, np.ndarray], n: int, dim: int, out_dtype: Any,
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
