"""The encode stage: :func:`encode_split` runs the planned jobs through the cache, shard by shard.

Protocol, the same in one process and under torchrun (``WORLD_SIZE`` > 1):

1. every rank reads and verifies the manifests that exist (a manifest for another key raises
   everywhere); rank 0 writes the missing ones; all meet at a barrier;
2. each rank notes the shards that are missing and encodes those with
   ``shard % world_size == rank``, writing each to the cache as soon as it is done (so an
   interrupted encode resumes from the last finished shard); all meet at a barrier;
3. rank 0 merges (:func:`gcl_bench.encode.merge.merge`) and returns the
   :class:`~gcl_bench.encode.merge.EncodedSplit`; the other ranks return ``None``.

The cache folder must therefore be shared by all ranks (``GCL_BENCH_CACHE`` on a shared file
system when ranks span machines). Without a persistent cache (``cache=False``, or a plug-in
without ``fingerprint()``) one process keeps its shards in memory; several ranks write them to a
temporary folder under the cache root that rank 0 removes after merging.

Imports: :mod:`gcl_bench.distributed`, :mod:`gcl_bench.errors`, :mod:`gcl_bench.config` (the
default cache root) and the other modules of this package.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gcl_bench import distributed
from gcl_bench.encode.cache import CacheEntry, EmbeddingCache, MemoryEntry
from gcl_bench.encode.merge import EncodedSplit, merge
from gcl_bench.encode.plan import Job, plan_jobs
from gcl_bench.errors import GclBenchError

DEFAULT_SHARD_SIZE = 16_384
"""Items per cache shard: the unit of resumption after an interruption."""

ProgressCallback = Callable[[str, int, int], None]
"""``progress(label, items_done, items_total)``, called after each model batch (label e.g. ``doc/image``).

The cache shard stays the unit of resumption; progress is finer: a shard is reported batch by batch."""


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
    similarity: str | None = None,
    protocol: str = "default",
) -> EncodedSplit | None:
    """Encode ``split``'s queries and documents with ``model``, reusing cached field embeddings.

    batch_size: passed to the model. device: only used to pick the torch.distributed backend under
    torchrun (``nccl`` for CUDA, else ``gloo``); the model already lives on its device.
    cache: read and write the embedding cache (plug-ins without ``fingerprint()`` are never cached).
    dtype: storage dtype of the cache, ``float32`` or ``float16``; queries are returned as float32,
    documents in this dtype. shard_size: items per cache shard (an existing entry keeps its own).
    cache_root: the cache folder (default ``cache_dir()/embeddings``).
    similarity: ``"cos"`` or ``"dot"`` for a plug-in, instead of its ``similarity`` attribute.
    protocol: ``"reference"`` encodes document text fields as the GCL reference evaluation does
    (see :func:`~gcl_bench.encode.plan.plan_jobs`).
    Returns the :class:`EncodedSplit`, or ``None`` on ranks other than 0 under torchrun.
    """
    started = time.perf_counter()
    if batch_size < 1 or shard_size < 1:
        raise GclBenchError(f"batch_size and shard_size must be positive (got {batch_size}, {shard_size})")
    if split.num_docs == 0:
        raise GclBenchError(f"split {split.name!r} has an empty corpus (0 documents)")
    world = distributed.world_size()
    rank = distributed.rank()
    if world > 1:
        distributed.init_process_group(device)

    plan = plan_jobs(model, split, dtype=dtype, batch_size=batch_size, similarity=similarity, protocol=protocol)
    persistent = cache and plan.fingerprint is not None
    store = EmbeddingCache(cache_root) if persistent else None
    temp_root: Path | None = None
    if not persistent and world > 1:
        from gcl_bench.config import cache_dir

        token = distributed.broadcast_object(uuid.uuid4().hex if rank == 0 else None)
        temp_root = Path(cache_root or cache_dir() / "embeddings").parent / "tmp" / f"encode-{token}"
        store = EmbeddingCache(temp_root)
    for job in plan.jobs:
        job.entry = _entry(store, job.key, shard_size)

    _open_entries(plan.jobs, rank)
    for job in plan.jobs:
        _encode_missing_shards(job, rank, world, progress)
    distributed.barrier()
    if rank != 0:
        return None
    try:
        return merge(model, split, plan, dtype=dtype, batch_size=batch_size,
                     cache_root=str(store.root) if persistent and store is not None else None,
                     world_size=world, started=started)
    finally:
        if temp_root is not None:
            shutil.rmtree(temp_root, ignore_errors=True)


def _entry(store: EmbeddingCache | None, key: dict[str, Any], shard_size: int) -> CacheEntry:
    """The entry of ``key`` in ``store``, or one held in memory when there is no store."""
    return store.entry(key, shard_size) if store is not None else MemoryEntry(key, shard_size)


def _open_entries(jobs: list[Job], rank: int) -> None:
    """Step 1: verify existing manifests on every rank, create new ones on rank 0; note missing shards."""
    for job in jobs:
        exists = job.entry.read_manifest()
        if not exists and rank == 0:
            job.entry.create()
    distributed.barrier()
    for job in jobs:
        if rank != 0 and job.entry.persistent:
            job.entry.read_manifest()
        job.missing_before = job.entry.missing_shards()


def _encode_missing_shards(job: Job, rank: int, world: int, progress: ProgressCallback | None) -> None:
    """Step 2: encode and write this rank's share of ``job``'s missing shards, reporting progress."""
    job_started = time.perf_counter()
    done = job.entry.count - job.items_to_encode
    total = job.entry.count

    def advance(items: int) -> None:
        nonlocal done
        done += items
        if progress is not None:
            progress(job.label, int(min(done, total)), total)

    for shard in job.missing_before:
        if shard % world != rank:
            continue
        start, stop = job.entry.shard_rows(shard)
        shard_start = done
        job.entry.write_shard(shard, job.encode(job.values[start:stop], advance))
        done = shard_start + stop - start  # whatever the model reported, the shard is complete
        if progress is not None:
            progress(job.label, int(done), total)
    job.seconds = time.perf_counter() - job_started
