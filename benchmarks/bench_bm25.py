"""BM25 speed: gcl_bench's BM25 (bm25s, numba backend) against rank_bm25 on the same inputs.

Synthetic product titles (Zipf-distributed words, 6-12 per title) and 2-4 word queries. Reports:

- gcl_bench: time to tokenise + index the titles, and to search all queries (top-k 1000), in
  queries per second, in this process after a warm-up (compilation excluded);
- rank_bm25 (``BM25Okapi.get_scores`` + argsort per query), timed on ``--rank-queries`` queries
  and extrapolated;
- the numba compilation cache: the same tiny search in two fresh processes sharing an empty
  ``NUMBA_CACHE_DIR``: the first compiles and stores, the second loads.

    python benchmarks/bench_bm25.py              # 200,000 titles, 2,000 queries
    python benchmarks/bench_bm25.py --quick      # 20,000 titles, 500 queries

rank_bm25 is not a dependency of gcl_bench: ``pip install rank_bm25`` to include it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

TINY = (
    "from gcl_bench.models.bm25 import BM25Retriever;"
    "import time; t=time.perf_counter();"
    "BM25Retriever().search_arrays(['red dress', 'blue jacket', 'red scarf'], ['red'], top_k=2);"
    "print(time.perf_counter()-t)"
)


def make_texts(docs: int, queries: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i:05d}" for i in range(20_000)])
    ranks = np.arange(1, len(vocab) + 1)
    weights = 1.0 / ranks
    weights /= weights.sum()
    lengths = rng.integers(6, 13, size=docs)
    words = rng.choice(vocab, size=int(lengths.sum()), p=weights)
    titles, start = [], 0
    for length in lengths:
        titles.append(" ".join(words[start:start + length]))
        start += length
    query_lengths = rng.integers(2, 5, size=queries)
    query_words = rng.choice(vocab[:5_000], size=int(query_lengths.sum()), p=weights[:5_000] / weights[:5_000].sum())
    texts, start = [], 0
    for length in query_lengths:
        texts.append(" ".join(query_words[start:start + length]))
        start += length
    return titles, texts


def compile_cache_times() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, GCL_BENCH_CACHE=cache)
        runs = [
            float(subprocess.run([sys.executable, "-c", TINY], env=env, capture_output=True, text=True, check=True).stdout)
            for _ in range(2)
        ]
    return runs[0], runs[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--top-k", type=int, default=1_000)
    parser.add_argument("--rank-queries", type=int, default=20, help="queries timed for rank_bm25")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.queries = 20_000, 500
    from gcl_bench.models.bm25 import BM25Retriever

    titles, queries = make_texts(args.docs, args.queries)
    retriever = BM25Retriever()
    retriever.search_arrays(titles[:100], queries[:5], top_k=10)  # compile (or load) the kernels

    start = time.perf_counter()
    index = retriever.index(titles)
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    retriever.retrieve(index, queries, top_k=args.top_k)
    search_s = time.perf_counter() - start
    ours_qps = len(queries) / search_s
    print(f"== {args.docs:,} titles, {args.queries:,} queries, top-{args.top_k} ==")
    print(f"gcl_bench BM25: tokenise + index {index_s:.2f} s; search {search_s:.2f} s = {ours_qps:,.0f} queries/s")

    try:
        from rank_bm25 import BM25Okapi
    except ImportError:
        print("rank_bm25 not installed (pip install rank_bm25): skipped")
    else:
        start = time.perf_counter()
        okapi = BM25Okapi([title.split() for title in titles])
        rank_index_s = time.perf_counter() - start
        sample = queries[: args.rank_queries]
        start = time.perf_counter()
        for query in sample:
            scores = okapi.get_scores(query.split())
            np.argsort(-scores)[: args.top_k]
        rank_qps = len(sample) / (time.perf_counter() - start)
        print(f"rank_bm25:      index {rank_index_s:.2f} s; search {rank_qps:,.1f} queries/s "
              f"(timed on {len(sample)} queries)")
        print(f"ratio (queries/s): gcl_bench / rank_bm25 = {ours_qps / rank_qps:,.0f}x")

    first, second = compile_cache_times()
    print(f"numba kernels, fresh process: first {first:.2f} s (compiles), second {second:.2f} s "
          f"(cached): {first / second:.1f}x")


if __name__ == "__main__":
    main()
