"""Build a search index over document embeddings and retrieve the top-k documents per query.

``flat`` (the default, the paper's protocol) is exact inner-product search done in place on the
caller's array: queries x document blocks through one matrix product (torch, MKL on CPU) and a
streaming top-k (:mod:`gcl_bench.index._topk`), so peak memory is the corpus plus one score block,
never a second copy of the corpus. A float16 corpus is searched block by block in float32. On
CUDA the corpus is sharded over the GPUs (``cuda``: every visible GPU; ``cuda:N``: that one) and
searched there (:mod:`gcl_bench.index.gpu`), with the same ranked lists up to float32 rounding.
``ivf``, ``hnsw`` and ``ivfpq`` are FAISS approximate indexes for corpora that outgrow memory or
time; :func:`index_recall` measures them against exact search.

Every search returns ``(scores, indices)``: float32 and int64 arrays of shape (Q, K), rows in query
order, columns best first; a higher score wins and equal scores go to the lower document row; when
fewer than K documents exist the tail is padded with index -1 and score -inf.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gcl_bench.devices import resolve_device
from gcl_bench.errors import GclBenchError

KINDS = ("flat", "ivf", "hnsw", "ivfpq")
"""Index kinds accepted by :func:`build_index`."""

_SCORE_BLOCK_BYTES = 256 << 20
"""Upper bound on one block of the (queries x documents) score matrix."""


@dataclass
class Index:
    """A built index. ``doc_embeddings`` is the caller's array itself (flat only, never copied)."""

    kind: str
    dim: int
    ntotal: int
    device: str
    dtype: str
    params: dict[str, Any] = field(default_factory=dict)
    doc_embeddings: np.ndarray | None = None
    shards: list[Any] | None = None
    faiss_index: Any = None
    build_seconds: float = 0.0

    def describe(self) -> dict[str, Any]:
        """The ``settings.index`` section of results.json."""
        return {
            "kind": self.kind,
            "device": self.device,
            "dtype": self.dtype,
            "documents": self.ntotal,
            "dim": self.dim,
            "build_seconds": round(self.build_seconds, 3),
            **self.params,
        }


def _faiss_gpus() -> int:
    import faiss

    return faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0


def _check_matrix(array: Any, what: str) -> np.ndarray:
    """A 2-D float32/float16 numpy view of ``array`` (copied only if it must be), finite."""
    if hasattr(array, "detach"):  # torch tensor
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.ndim != 2:
        raise GclBenchError(f"{what} must be a 2-D array (rows x dim), got shape {array.shape}")
    if array.shape[1] == 0:
        raise GclBenchError(f"{what} have dimension 0")
    if array.dtype not in (np.float32, np.float16):
        if not np.issubdtype(array.dtype, np.floating):
            raise GclBenchError(f"{what} must be floating point, got dtype {array.dtype}")
        array = array.astype(np.float32)
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    step = max(1, (64 << 20) // max(1, array.shape[1] * array.itemsize))
    for start in range(0, array.shape[0], step):
        block = array[start : start + step]
        if not np.isfinite(block).all():
            bad = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise GclBenchError(f"{what} contain NaN or infinite values (first at row {bad})")
    return array


def _default_nlist(n: int) -> int:
    return int(max(1, min(n, round(4 * math.sqrt(n)))))


def _train_sample(docs: np.ndarray, size: int, seed: int) -> np.ndarray:
    n = docs.shape[0]
    if size >= n:
        return np.ascontiguousarray(docs, dtype=np.float32)
    rows = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    return np.ascontiguousarray(docs[rows], dtype=np.float32)


def build_index(
    doc_embeddings: Any,
    kind: str = "flat",
    device: str = "auto",
    **params: Any,
) -> Index:
    """Build an inner-product index over ``doc_embeddings`` (N, D), float32 or float16.

    kind: ``flat`` exact search on the array itself (no copy: keep the array alive and unchanged
    while the index is used; pass C-contiguous float32 or float16 to avoid a conversion copy).
    ``ivf`` IVF-Flat: ``nlist`` (default ~4*sqrt(N)), ``nprobe`` (default max(16, nlist/8)).
    ``hnsw`` HNSW-Flat: ``M`` (32), ``ef_construction`` (80), ``ef_search`` (max(128, top_k)).
    ``ivfpq`` IVF-PQ: ``nlist``, ``nprobe``, ``m`` sub-quantizers (largest divisor of D <= D/4),
    ``nbits`` (8, fewer for tiny corpora). Approximate indexes train on a sample of
    ``train_size`` rows (default min(N, 256*nlist, 64 * 2**nbits) as applicable), seed ``seed`` (0).
    device: ``auto`` (CUDA when torch sees one), ``cpu``, ``cuda`` or ``cuda:N``. Flat search on
    ``cuda`` shards the corpus over every visible GPU (``cuda:N``: that GPU only): faiss's GPU
    brute force with the faiss GPU build and a float32 corpus, else torch block products; the
    shards are copied to the GPUs now when they fit. Approximate indexes move to one GPU only
    with a FAISS GPU build.
    """
    if kind not in KINDS:
        raise GclBenchError(f"unknown index kind {kind!r}: choose one of {', '.join(KINDS)}")
    started = time.perf_counter()
    docs = _check_matrix(doc_embeddings, "document embeddings")
    n, dim = docs.shape
    if n == 0:
        raise GclBenchError("cannot build an index over an empty corpus (0 documents)")
    device = resolve_device(device)
    dtype = str(docs.dtype)
    if kind == "flat":
        unknown = set(params) - {"query_batch"}
        if unknown:
            raise GclBenchError(f"unknown parameter(s) for a flat index: {', '.join(sorted(unknown))}")
        flat = Index(kind, dim, n, device, dtype, dict(params), doc_embeddings=docs)
        if device.startswith("cuda"):
            from gcl_bench.index import gpu

            devices = _cuda_devices(device)
            faiss_first = docs.dtype == np.float32 and gpu.faiss_gpu_available()
            flat.shards = gpu.make_shards(docs, devices, upload=not faiss_first)
            flat.params.update(gpus=devices, backend="faiss_gpu" if faiss_first else "torch")
        flat.build_seconds = time.perf_counter() - started
        return flat

    import faiss

    seed = int(params.pop("seed", 0))
    if kind == "hnsw":
        m = int(params.pop("M", 32))
        ef_construction = int(params.pop("ef_construction", 80))
        ef_search = params.pop("ef_search", None)
        _no_more(params, kind)
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        used = {"M": m, "ef_construction": ef_construction, "ef_search": ef_search}
        _add_chunks(index, docs)
        device_used = "cpu"  # FAISS has no GPU HNSW
    else:
        nlist = int(params.pop("nlist", _default_nlist(n)))
        nlist = max(1, min(nlist, n))
        nprobe = int(params.pop("nprobe", min(nlist, max(16, nlist // 8))))
        quantizer = faiss.IndexFlatIP(dim)
        if kind == "ivf":
            train_size = int(params.pop("train_size", min(n, max(256 * nlist, 10_000))))
            _no_more(params, kind)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            used = {"nlist": nlist, "nprobe": nprobe}
        else:
            m = int(params.pop("m", _default_pq_m(dim)))
            if dim % m:
                raise GclBenchError(f"ivfpq: m={m} must divide the embedding dimension {dim}")
            default_bits = int(min(8, max(1, math.floor(math.log2(max(2, n / 39))))))
            nbits = int(params.pop("nbits", default_bits))
            train_size = int(params.pop("train_size", min(n, max(256 * nlist, 64 * 2**nbits, 10_000))))
            _no_more(params, kind)
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, nbits, faiss.METRIC_INNER_PRODUCT)
            used = {"nlist": nlist, "nprobe": nprobe, "m": m, "nbits": nbits}
        sample = _train_sample(docs, train_size, seed)
        used["train_size"] = int(sample.shape[0])
        index.cp.seed = seed
        index.train(sample)
        del sample
        _add_chunks(index, docs)
        index.nprobe = nprobe
        device_used = "cpu"
        if device.startswith("cuda") and _faiss_gpus() > 0:
            resources = faiss.StandardGpuResources()
            gpu_id = int(device.split(":")[1]) if ":" in device else 0
            index = faiss.index_cpu_to_gpu(resources, gpu_id, index)
            index.nprobe = nprobe
            used["_gpu_resources"] = resources  # keep alive with the index
            device_used = device
    used["seed"] = seed
    kept = {key: value for key, value in used.items() if not key.startswith("_")}
    built = Index(kind, dim, n, device_used, dtype, kept, faiss_index=index)
    built._keepalive = used.get("_gpu_resources")  # type: ignore[attr-defined]
    built.build_seconds = time.perf_counter() - started
    return built


def _cuda_devices(device: str) -> list[str]:
    """``cuda`` -> every visible GPU; ``cuda:N`` -> that one."""
    import torch

    if ":" in device:
        return [device]
    return [f"cuda:{i}" for i in range(max(1, torch.cuda.device_count()))]


def _default_pq_m(dim: int) -> int:
    limit = max(1, dim // 4)
    return max(m for m in range(1, limit + 1) if dim % m == 0)


def _no_more(params: dict[str, Any], kind: str) -> None:
    if params:
        raise GclBenchError(f"unknown parameter(s) for a {kind} index: {', '.join(sorted(params))}")


def _add_chunks(index: Any, docs: np.ndarray, chunk: int = 65_536) -> None:
    for start in range(0, docs.shape[0], chunk):
        index.add(np.ascontiguousarray(docs[start : start + chunk], dtype=np.float32))


def search(
    index: Index,
    query_embeddings: Any,
    top_k: int = 1000,
    *,
    query_batch: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``top_k`` documents per query: ``(scores float32 (Q,K), indices int64 (Q,K))``.

    Queries are processed in batches (``query_batch``, default 2048 for flat, 1024 otherwise) so
    memory stays bounded whatever the number of queries. Padding (K > N): index -1, score -inf.
    ``progress(queries_done, queries_total)`` is called after each query batch (flat search: after
    each block of documents too, with the share of the batch scanned so far).
    """
    if top_k < 1:
        raise GclBenchError(f"top_k must be at least 1, got {top_k}")
    queries = _check_matrix(query_embeddings, "query embeddings")
    if queries.shape[1] != index.dim:
        raise GclBenchError(
            f"query embeddings have dimension {queries.shape[1]} but the documents have {index.dim}"
        )
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    nq = queries.shape[0]
    scores = np.full((nq, top_k), -np.inf, dtype=np.float32)
    indices = np.full((nq, top_k), -1, dtype=np.int64)
    if nq == 0:
        return scores, indices
    if index.kind == "flat":
        batch = int(query_batch or index.params.get("query_batch") or 2048)
        for start in range(0, nq, batch):
            stop = min(nq, start + batch)
            scanned = None if progress is None else (
                lambda fraction, start=start, stop=stop: progress(start + int((stop - start) * fraction), nq)
            )
            _flat_search(index, queries[start:stop], top_k, scores[start:stop], indices[start:stop], scanned=scanned)
        return scores, indices

    faiss_index = index.faiss_index
    k = min(top_k, index.ntotal)
    if index.kind == "hnsw":
        ef = index.params.get("ef_search")
        faiss_index.hnsw.efSearch = int(max(k, 128) if ef is None else max(int(ef), k))
    batch = int(query_batch or 1024)
    for start in range(0, nq, batch):
        stop = min(nq, start + batch)
        dist, labels = faiss_index.search(queries[start:stop], k)
        labels = labels.astype(np.int64, copy=False)
        dist = np.where(labels >= 0, dist, -np.inf).astype(np.float32, copy=False)
        _order_ties(dist, labels)
        scores[start:stop, :k] = dist
        indices[start:stop, :k] = labels
        if progress is not None:
            progress(stop, nq)
    return scores, indices


def _order_ties(scores: np.ndarray, labels: np.ndarray) -> None:
    """Sort each row in place by (score descending, row ascending); -1 labels stay last."""
    key_rows = np.where(labels < 0, np.iinfo(np.int64).max, labels)
    for row in range(scores.shape[0]):
        order = np.lexsort((key_rows[row], -scores[row].astype(np.float64)))
        scores[row] = scores[row][order]
        labels[row] = labels[row][order]


def _flat_search(
    index: Index, queries: np.ndarray, top_k: int, out_scores: np.ndarray, out_indices: np.ndarray,
    selector: str | None = None, scanned: Callable[[float], None] | None = None,
) -> None:
    """Exact top-k into the outputs: ``stream`` (numba, the CPU path) or ``keys`` (torch blocks
    over the index's shards, the GPU path; on the CPU when the index has none); ``stream`` calls
    ``scanned(fraction)`` after each block of documents."""
    docs = index.doc_embeddings
    assert docs is not None
    selector = selector or ("stream" if index.shards is None else "keys")
    if selector == "keys":
        from gcl_bench.index import gpu

        shards = index.shards or [gpu.Shard(index.device, 0, docs.shape[0])]
        devices = [shard.device for shard in shards]
        search_shard = gpu.faiss_shard_keys if gpu.uses_faiss(docs, devices, top_k) else gpu.shard_keys
        gpu.search_shards(shards, docs, queries, top_k, out_scores, out_indices, search_shard)
        return
    import torch

    from gcl_bench.index import _topk
    from gcl_bench.kernels import note_if_compiling

    note_if_compiling(_topk.push_block, _topk.finish)
    nq, n = queries.shape[0], docs.shape[0]
    k = min(top_k, n)
    block = int(max(1, min(n, _SCORE_BLOCK_BYTES // (4 * nq))))
    q = torch.from_numpy(queries)
    keys = np.empty((nq, _topk.buffer_size(k)), dtype=np.uint64)
    counts = np.zeros(nq, dtype=np.int64)
    thresholds = np.full(nq, -np.inf, dtype=np.float32)
    # one score buffer reused for every block: no page faults from a fresh allocation per block
    scores_buffer = torch.empty(nq * min(block, n), dtype=torch.float32)
    convert_buffer = None
    if docs.dtype != np.float32:  # float16 corpus: each block is widened into one reused buffer
        convert_buffer = torch.empty(min(block, n) * docs.shape[1], dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # read-only memmaps are only read here
        for start in range(0, n, block):
            chunk = torch.from_numpy(np.asarray(docs[start : start + block]))
            if convert_buffer is not None:
                chunk = convert_buffer[: chunk.numel()].view(chunk.shape).copy_(chunk)
            block_scores = scores_buffer[: nq * chunk.shape[0]].view(nq, chunk.shape[0])
            torch.mm(q, chunk.T, out=block_scores)
            _topk.push_block(block_scores.numpy(), start, k, keys, counts, thresholds)
            if scanned is not None:
                scanned((start + chunk.shape[0]) / n)
    _topk.finish(keys, counts, out_scores[:, :k], out_indices[:, :k])


def index_recall(
    index: Index,
    doc_embeddings: Any,
    query_embeddings: Any,
    top_k: int = 1000,
    sample: int | None = 1000,
    seed: int = 0,
) -> float:
    """Mean recall@top_k of ``index`` against exact flat search over ``doc_embeddings``.

    Measured on ``sample`` queries drawn without replacement (seed ``seed``; all when None or
    when there are fewer): for each, |approximate top-k ∩ exact top-k| / |exact top-k|.
    """
    queries = _check_matrix(query_embeddings, "query embeddings")
    nq = queries.shape[0]
    if nq == 0:
        raise GclBenchError("index recall needs at least one query")
    if sample is not None and sample < nq:
        rows = np.sort(np.random.default_rng(seed).choice(nq, size=sample, replace=False))
        queries = queries[rows]
    exact_index = build_index(doc_embeddings, "flat", device=index.device if index.kind == "flat" else "cpu")
    _, exact = search(exact_index, queries, top_k)
    _, approx = search(index, queries, top_k)
    recalls = []
    for exact_row, approx_row in zip(exact, approx):
        truth = exact_row[exact_row >= 0]
        found = np.intersect1d(truth, approx_row[approx_row >= 0], assume_unique=True)
        recalls.append(len(found) / len(truth))
    return float(np.mean(recalls))
