"""Exact top-k search: gcl_bench's flat index against a matrix-product floor and peer tools.

Same inputs for every method, in one process: ``--queries`` query embeddings and ``--docs``
document embeddings (clustered, L2-normalised, float32), top ``--top-k``. Methods:

- floor: the queries x corpus matrix product alone (torch/MKL, document blocks of 65,536 into one
  reused output buffer, scores thrown away) -- no exact search can be faster than this;
- gcl_bench flat: ``build_index(docs)`` + ``search``, float32, and with a float16 corpus
  (its top-k overlap with float32 is reported); and its torch block path (the one GPUs run,
  :mod:`gcl_bench.index.gpu`) on this CPU, whose lists must equal the CPU path's;
- faiss IndexFlatIP (``add`` + ``search``; note the copy of the corpus ``add`` makes);
- ``faiss.knn``: faiss's brute force over the caller's array, no copy;
- BEIR ``DenseRetrievalExactSearch`` (score function ``dot``) fed the same embeddings;
- the GCL reference loop (one query at a time: torch CosineSimilarity over the whole corpus +
  topk), timed on ``--gcl-queries`` queries and extrapolated to all of them.

Memory: "peak extra" is the process's peak resident memory during a method (VmHWM, reset before
each method through /proc/self/clear_refs) minus the resident memory before it, i.e. what the
method needs on top of the corpus and queries already in memory.

Every method runs ``--repeats`` times (default 3) and the median is reported with the fastest
and slowest run beside it: single readings of the same method ranged 0.87x-1.42x on a busy
machine, so a ratio is read against that spread.

    python benchmarks/bench_search.py --quick
    python benchmarks/bench_search.py --docs 100000 1000000
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

CPU_TIMES: list[float] = []
"""CPU seconds (all threads) of each measurement, in order: steadier than wall time on a busy machine."""
WALL_RANGES: list[tuple[float, float]] = []
"""(fastest, slowest) wall seconds of each measurement's repeats, in order: the spread of the median."""


def _status(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def measure(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, float, Any]:
    """(median wall seconds, peak extra bytes, last result) of ``fn``; CPU seconds in CPU_TIMES."""
    times, cpu, peaks, result = [], [], [], None
    for _ in range(repeats):
        result = None
        gc.collect()
        before = _status("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            pass
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        peaks.append(max(0, _status("VmHWM") - before))
    CPU_TIMES.append(statistics.median(cpu))
    WALL_RANGES.append((min(times), max(times)))
    return statistics.median(times), max(peaks), result


def make_data(n_docs: int, n_queries: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((1000, dim), dtype=np.float32)
    docs = np.empty((n_docs, dim), dtype=np.float32)
    for start in range(0, n_docs, 100_000):
        stop = min(n_docs, start + 100_000)
        block = centres[rng.integers(0, 1000, stop - start)]
        block += 0.8 * rng.standard_normal(block.shape, dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        docs[start:stop] = block
    queries = centres[rng.integers(0, 1000, n_queries)] + rng.standard_normal((n_queries, dim), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return docs, queries


def floor(docs: np.ndarray, queries: np.ndarray, block: int = 65_536) -> None:
    import torch

    q = torch.from_numpy(queries)
    buffer = torch.empty(len(queries) * min(block, len(docs)))
    for start in range(0, docs.shape[0], block):
        chunk = torch.from_numpy(docs[start : start + block])
        torch.mm(q, chunk.T, out=buffer[: len(queries) * len(chunk)].view(len(queries), len(chunk)))


def gcl_bench_flat(docs: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    from gcl_bench.index import build_index, search

    return search(build_index(docs, device="cpu"), queries, k)[1]


def gcl_bench_torch_blocks(docs: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The GPU path's torch block search, run on the CPU (one shard)."""
    from gcl_bench.index import gpu

    scores = np.empty((len(queries), k), np.float32)
    rows = np.empty((len(queries), k), np.int64)
    gpu.search_shards([gpu.Shard("cpu", 0, len(docs))], docs, queries, k, scores, rows)
    return rows


def faiss_knn(docs: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    import faiss

    return faiss.knn(queries, docs, k, metric=faiss.METRIC_INNER_PRODUCT)[1]


def faiss_flat(docs: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    import faiss

    index = faiss.IndexFlatIP(docs.shape[1])
    index.add(docs)
    return index.search(queries, k)[1]


def beir_exact(docs: np.ndarray, queries: np.ndarray, k: int, corpus: dict, query_dict: dict) -> dict:
    import torch
    from beir.retrieval.search.dense import DenseRetrievalExactSearch

    class Precomputed:
        def encode_queries(self, texts: list, batch_size: int, **kw: Any) -> Any:
            return torch.from_numpy(queries)

        def encode_corpus(self, chunk: list, batch_size: int, **kw: Any) -> Any:
            return torch.from_numpy(docs[np.fromiter((d["row"] for d in chunk), dtype=np.int64)])

    searcher = DenseRetrievalExactSearch(Precomputed(), batch_size=512, corpus_chunk_size=50_000,
                                         show_progress_bar=False)
    return searcher.search(corpus, query_dict, k, "dot")


def gcl_reference_loop(docs: np.ndarray, queries: np.ndarray, k: int) -> list:
    """The reference evaluation's search: per query, CosineSimilarity against the corpus, topk."""
    import torch

    cos = torch.nn.CosineSimilarity(dim=1, eps=1e-6)
    corpus = torch.from_numpy(docs)
    results = []
    for query in torch.from_numpy(queries):
        similarity = cos(query.unsqueeze(0), corpus)
        top_scores, top_inds = torch.topk(similarity, k)
        results.append(top_inds.numpy())
    return results


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(np.intersect1d(x, y)) / len(x) for x, y in zip(a, b)]))


def bench(n_docs: int, args: argparse.Namespace) -> None:
    import torch

    k = args.top_k
    docs, queries = make_data(n_docs, args.queries, args.dim)
    corpus_gb = docs.nbytes / 1e9
    print(f"\n== {n_docs:,} documents x {args.queries:,} queries, dim {args.dim}, top-{k}; "
          f"corpus {corpus_gb:.2f} GB float32; torch threads {torch.get_num_threads()}; median of "
          f"{args.repeats} runs; load average {os.getloadavg()[0]:.2f} ==", flush=True)
    rows: list[tuple[str, float, float, str]] = []

    def report(name: str, seconds: float, peak: float, note: str = "", cpu: float | None = None,
               scale: float = 1.0) -> None:
        """One row; ``scale`` multiplies the last measurement's CPU time and range (extrapolations)."""
        cpu = CPU_TIMES[-1] * scale if cpu is None else cpu
        fastest, slowest = (t * scale for t in WALL_RANGES[-1])
        rows.append((name, seconds, peak, note))
        ratio = f"{seconds / rows[0][1]:6.2f}x" if rows else ""
        cpu_ratio = f"{cpu / floor_cpu[0]:6.2f}x" if floor_cpu else ""
        print(f"  {name:<34} wall {seconds:8.2f} s {ratio} [{fastest:.2f}-{slowest:.2f}]  cpu {cpu:8.2f} s "
              f"{cpu_ratio}  peak extra {peak / 1e9:5.2f} GB  {note}", flush=True)

    floor_cpu: list[float] = []
    print(f"  {'method':<34} wall time (median), x floor [fastest-slowest run]   cpu time (all threads), x floor")

    gcl_bench_flat(docs[:2048], queries[:8], 10)  # compile the top-k kernels outside the timing
    t_floor, p_floor, _ = measure(lambda: floor(docs, queries), args.repeats)
    floor_cpu.append(CPU_TIMES[-1])
    report("floor (matrix product only)", t_floor, p_floor)
    t_flat, p_flat, ours = measure(lambda: gcl_bench_flat(docs, queries, k), args.repeats)
    flat_cpu = CPU_TIMES[-1]
    report("gcl_bench flat float32", t_flat, p_flat)
    if "float16" not in args.skip:
        half = docs.astype(np.float16)
        t_half, p_half, ours_half = measure(lambda: gcl_bench_flat(half, queries, k), args.repeats)
        report("gcl_bench flat float16 corpus", t_half, p_half,
               f"corpus {half.nbytes / 1e9:.2f} GB; "
               f"top-{k} overlap with float32 {overlap(ours, ours_half):.4f}")
        del half, ours_half
    if "torch" not in args.skip:
        t_blocks, p_blocks, blocks = measure(lambda: gcl_bench_torch_blocks(docs, queries, k), args.repeats)
        report("gcl_bench torch blocks (GPU path)", t_blocks, p_blocks,
               f"lists equal to flat: {np.array_equal(blocks, ours)}")
        del blocks
    if "faiss" not in args.skip:
        t_faiss, p_faiss, theirs = measure(lambda: faiss_flat(docs, queries, k), args.repeats)
        report("faiss IndexFlatIP", t_faiss, p_faiss,
               f"overlap with gcl_bench {overlap(ours, theirs):.4f}")
        t_knn, p_knn, theirs = measure(lambda: faiss_knn(docs, queries, k), args.repeats)
        report("faiss.knn (no copy)", t_knn, p_knn,
               f"overlap with gcl_bench {overlap(ours, theirs):.4f}")
        del theirs
    if "beir" not in args.skip:
        corpus = {str(i): {"title": "", "text": "", "row": i} for i in range(n_docs)}
        query_dict = {f"q{j}": "" for j in range(args.queries)}
        t_beir, p_beir, result = measure(lambda: beir_exact(docs, queries, k, corpus, query_dict), args.repeats)
        beir_rows = np.array([[int(d) for d in result[f"q{j}"]] for j in range(args.queries)])
        report("BEIR DenseRetrievalExactSearch", t_beir, p_beir,
               f"overlap with gcl_bench {overlap(ours, beir_rows):.4f}")
        del corpus, result
    if "gcl" not in args.skip:
        subset = min(args.queries, args.gcl_queries)
        t_sub, p_gcl, result = measure(lambda: gcl_reference_loop(docs, queries[:subset], k), args.repeats)
        t_gcl = t_sub * args.queries / subset
        report("GCL reference loop (extrapolated)", t_gcl, p_gcl,
               f"timed {subset} queries ({t_sub:.1f} s) x {args.queries / subset:.0f}; "
               f"overlap with gcl_bench {overlap(ours[:subset], np.array(result)):.4f}",
               scale=args.queries / subset)
    print(f"  target: gcl_bench flat <= 1.25x floor (wall {t_flat / t_floor:.2f}x, cpu "
          f"{flat_cpu / floor_cpu[0]:.2f}x) and peak <= corpus + 1 GB (extra {p_flat / 1e9:.2f} GB)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--top-k", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3, help="runs of every method; the median is reported")
    parser.add_argument("--gcl-queries", type=int, default=50, help="queries timed for the GCL loop")
    parser.add_argument("--skip", nargs="*", default=[], choices=["float16", "torch", "faiss", "beir", "gcl"])
    parser.add_argument("--quick", action="store_true", help="20k documents, 500 queries")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.queries, args.gcl_queries = [20_000], 500, 20
    for n_docs in args.docs:
        bench(n_docs, args)


if __name__ == "__main__":
    main()
