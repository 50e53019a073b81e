"""Exact flat search on GPUs: the corpus sharded over the devices, torch block products, one merge.

Each device holds one contiguous shard of the document rows (uploaded once when it fits in half
of the device's free memory, else streamed block by block from host memory) and returns its best
``k`` per query; :func:`merge_keys` merges the shards. Selection is exact and total, the order of
the CPU path: a higher score wins, equal scores go to the lower document row. Every candidate is
one int64 key, ``(orderable float32 bits) * 2**32 + (2**32 - 1 - row)``, so "larger key" is that
order and ``torch.topk`` over keys is exact whatever the device's tie handling. Scores are
computed in float32 (TF32 off) so they agree with the CPU path to float32 rounding.

When the faiss GPU build is installed and the corpus is float32, each GPU's shard is searched by
``faiss.knn_gpu`` (faiss's brute-force kNN, no index copy) instead, for ``k`` plus a few
candidates; faiss orders equal scores arbitrarily, so :func:`exact_candidates` re-sorts them and
sends any query whose k-th score is tied with a candidate left out back to the torch path.

Nothing here needs CUDA: with ``"cpu"`` devices the same code runs on the CPU (that is how it is
tested). May import numpy, torch and faiss (inside functions).
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

LOW_BITS = (1 << 32) - 1
DEVICE_BLOCK_BYTES = 1 << 30
"""Upper bound on one block's score + key buffers per GPU (queries x documents)."""
RESIDENT_SHARE = 0.5
"""A shard is kept on its GPU when it needs at most this share of the free memory."""
FAISS_EXTRA = 16
"""Candidates beyond k asked of faiss, so that ties at the k-th score rarely need the torch path."""
FAISS_MAX_K = 2048
"""faiss's GPU k-selection limit."""


@dataclass
class Shard:
    """Rows ``start:stop`` of the corpus on ``device``; ``docs`` is their copy there, or None (streamed)."""

    device: str
    start: int
    stop: int
    docs: Any = None


def shard_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous row ranges covering ``0..n`` (sizes differ by at most one; none empty)."""
    parts = max(1, min(parts, n))
    edges = [n * i // parts for i in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:]))


def make_shards(docs: np.ndarray, devices: Sequence[str], upload: bool = True) -> list[Shard]:
    """One shard per device; with ``upload`` a CUDA shard is copied there now when it fits
    (see RESIDENT_SHARE), else it is streamed from ``docs`` at search time."""
    import torch

    shards = []
    for device, (start, stop) in zip(devices, shard_bounds(docs.shape[0], len(devices))):
        shard = Shard(device, start, stop)
        if upload and device.startswith("cuda"):
            free, _ = torch.cuda.mem_get_info(torch.device(device))
            block = docs[start:stop]
            if block.nbytes <= RESIDENT_SHARE * free:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # read-only memmaps are only read
                    shard.docs = torch.from_numpy(np.ascontiguousarray(block)).to(device)
        shards.append(shard)
    return shards


# -- keys -----------------------------------------------------------------------------------------
def pack_keys(scores: Any, rows: Any) -> Any:
    """int64 keys of float32 ``scores`` (Q, B) for document ``rows`` (broadcastable int64)."""
    import torch

    bits = (scores + 0.0).view(torch.int32)  # + 0.0 turns -0.0 into 0.0: the two tie
    order = torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits).to(torch.int64)  # int order == float order
    return order * (1 << 32) + (LOW_BITS - rows)


def unpack_keys(keys: Any) -> tuple[Any, Any]:
    """``(scores float32, rows int64)`` of keys made by :func:`pack_keys`."""
    import torch

    order = keys >> 32
    bits = torch.where(order < 0, order ^ 0x7FFFFFFF, order).to(torch.int32)
    return bits.view(torch.float32), LOW_BITS - (keys & LOW_BITS)


def merge_keys(parts: Sequence[np.ndarray], k: int) -> np.ndarray:
    """The best ``k`` keys per query (best first) of per-shard key arrays (Q, k_i); fewer if fewer."""
    joined = np.concatenate([np.asarray(part, dtype=np.int64) for part in parts], axis=1)
    take = min(k, joined.shape[1])
    best = np.partition(joined, joined.shape[1] - take, axis=1)[:, joined.shape[1] - take:]
    return -np.sort(-best, axis=1) if take else best


def keys_to_results(keys: np.ndarray, out_scores: np.ndarray, out_indices: np.ndarray) -> None:
    """Write keys (Q, m) into best-first results (Q, K >= m), padding with -inf / -1."""
    import torch

    scores, rows = unpack_keys(torch.from_numpy(np.ascontiguousarray(keys)))
    m = keys.shape[1]
    out_scores[:, :m] = scores.numpy()
    out_indices[:, :m] = rows.numpy()
    out_scores[:, m:] = -np.inf
    out_indices[:, m:] = -1


# -- one device -----------------------------------------------------------------------------------
@contextlib.contextmanager
def full_float32() -> Iterator[None]:
    """float32 matrix products in full precision (no TF32), whatever the caller set."""
    import torch

    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


def shard_keys(shard: Shard, host_docs: np.ndarray, queries: np.ndarray, k: int,
               block_bytes: int = DEVICE_BLOCK_BYTES) -> np.ndarray:
    """The best ``min(k, shard rows)`` keys per query within one shard, best first (host int64)."""
    import torch

    device = torch.device(shard.device)
    n = shard.stop - shard.start
    nq = queries.shape[0]
    k = min(k, n)
    block = int(max(1, min(n, block_bytes // (20 * max(1, nq)))))
    q = torch.from_numpy(queries).to(device)
    candidates = torch.empty((nq, k + block), dtype=torch.int64, device=device)
    scores = torch.empty(nq * block, dtype=torch.float32, device=device)
    filled = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # read-only memmaps are only read here
        for start in range(0, n, block):
            stop = min(n, start + block)
            if shard.docs is not None:
                chunk = shard.docs[start:stop]
            else:
                chunk = torch.from_numpy(np.asarray(host_docs[shard.start + start : shard.start + stop])).to(device)
            chunk = chunk.to(torch.float32)
            block_scores = scores[: nq * (stop - start)].view(nq, stop - start)
            torch.mm(q, chunk.T, out=block_scores)
            rows = torch.arange(shard.start + start, shard.start + stop, device=device)
            candidates[:, filled : filled + stop - start] = pack_keys(block_scores, rows)
            filled += stop - start
            take = min(k, filled)
            best = torch.topk(candidates[:, :filled], take, dim=1, largest=True, sorted=True).values
            candidates[:, :take] = best
            filled = take
    return candidates[:, :k].cpu().numpy()


def search_shards(shards: Sequence[Shard], host_docs: np.ndarray, queries: np.ndarray, k: int,
                  out_scores: np.ndarray, out_indices: np.ndarray,
                  shard_search: Callable[..., np.ndarray] = shard_keys) -> None:
    """Search every shard (one thread per device: torch releases the GIL) and merge into the outputs."""
    with full_float32():  # a process-wide setting: set once here, not per thread
        if len(shards) == 1:
            parts = [shard_search(shards[0], host_docs, queries, k)]
        else:
            with ThreadPoolExecutor(max_workers=len(shards)) as pool:
                parts = list(pool.map(lambda shard: shard_search(shard, host_docs, queries, k), shards))
    keys_to_results(merge_keys(parts, k), out_scores, out_indices)


# -- faiss GPU ------------------------------------------------------------------------------------
def faiss_gpu_available() -> bool:
    """True when faiss is the GPU build and sees a GPU."""
    try:
        import faiss
    except ImportError:
        return False
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def exact_candidates(scores: np.ndarray, rows: np.ndarray, complete: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact best-``k`` keys from one search's candidates whose equal scores come in any order.

    scores / rows (Q, m): a shard's best ``m`` candidates by score (global rows). ``complete`` is
    True when the shard has no other rows (m covers it). Returns ``(keys (Q, min(k, m)), exact)``:
    ``exact[q]`` is False when a candidate left out could tie with the k-th kept one, i.e. the
    shard was cut at a score equal to the k-th best (then the query needs an exhaustive search).
    """
    import torch

    keys = pack_keys(torch.from_numpy(np.ascontiguousarray(scores, dtype=np.float32)),
                     torch.from_numpy(np.ascontiguousarray(rows, dtype=np.int64))).numpy()
    best = merge_keys([keys], k)
    if complete:
        return best, np.ones(scores.shape[0], dtype=bool)
    kth_score = unpack_keys(torch.from_numpy(best[:, -1].copy()))[0].numpy()
    return best, scores.min(axis=1) < kth_score


def faiss_shard_keys(shard: Shard, host_docs: np.ndarray, queries: np.ndarray, k: int,
                     knn: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """A shard's best keys through faiss's GPU brute force; tied cut-offs redone by :func:`shard_keys`."""
    n = shard.stop - shard.start
    take = min(n, k + FAISS_EXTRA)
    if knn is None:
        knn = _faiss_knn(shard.device)
    distances, labels = knn(queries, np.asarray(host_docs[shard.start : shard.stop]), take)
    keys, exact = exact_candidates(distances, labels + shard.start, take == n, k)
    if not exact.all():
        redo = np.flatnonzero(~exact)
        keys[redo] = shard_keys(shard, host_docs, np.ascontiguousarray(queries[redo]), k)
    return keys


def _faiss_knn(device: str) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    import faiss

    gpu = int(device.split(":")[1]) if ":" in device else 0
    resources = faiss.StandardGpuResources()

    def knn(queries: np.ndarray, docs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return faiss.knn_gpu(resources, queries, docs, k, metric=faiss.METRIC_INNER_PRODUCT, device=gpu)

    return knn


def uses_faiss(docs: np.ndarray, devices: Sequence[str], k: int) -> bool:
    """Whether :func:`faiss_shard_keys` serves this search (faiss GPU build, float32, k in range)."""
    return (docs.dtype == np.float32 and all(d.startswith("cuda") for d in devices)
            and k + FAISS_EXTRA <= FAISS_MAX_K and faiss_gpu_available())
