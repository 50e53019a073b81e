"""BM25 index build and cache: serial against chunked tokenisation, build + save, load, memory.

Synthetic product titles (as ``bench_bm25.py``: Zipf-distributed words, 6-12 per title). Reports,
in this process:

- tokenise + index with one process against forked chunks (:mod:`gcl_bench.models.bm25_tokens`),
  median of ``--repeats`` runs each, and their ratio;
- the first search through the index cache (build, save, read back memory-mapped) and, in a fresh
  process, the second (checksums + memory-mapped load), with that process's resident memory
  split into its own (anonymous) pages and the mapped index files' pages.

    python benchmarks/bench_bm25_index.py             # 200,000 titles
    python benchmarks/bench_bm25_index.py --full      # 2,000,000 titles (the release's corpus size)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_bm25 import make_texts  # noqa: E402

LOAD_PROBE = """
import sys, time
sys.path.insert(0, {bench!r})
from bench_bm25 import make_texts
from gcl_bench.models.bm25 import BM25Retriever
titles, queries = make_texts({docs}, 2000)
def memory():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {{name: int(fields[name].split()[0]) // 1024 for name in ("VmRSS", "RssAnon", "RssFile")}}
before = memory()
start = time.perf_counter()
index = BM25Retriever().cached_index(titles)
seconds = time.perf_counter() - start
after = memory()
print(seconds, after["RssAnon"] - before["RssAnon"], after["RssFile"] - before["RssFile"])
"""


def build_seconds(titles: list[str], workers: int, repeats: int) -> float:
    from gcl_bench.models.bm25 import BM25Retriever

    retriever = BM25Retriever()
    retriever.tokenize_workers = workers
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        retriever.index(titles)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def tokenize_seconds(titles: list[str], workers: int, repeats: int) -> float:
    from gcl_bench.models.bm25_tokens import tokenize_corpus

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tokenize_corpus(titles, "en", "english", workers=workers)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="2,000,000 titles, one run each")
    args = parser.parse_args()
    docs, repeats = (2_000_000, 1) if args.full else (args.docs, args.repeats)
    from gcl_bench.models.bm25_tokens import default_workers

    titles, _ = make_texts(docs, 10)
    workers = max(2, default_workers(len(titles)))
    print(f"{docs:,} titles, {os.cpu_count()} cores, chunked with {workers} processes, median of {repeats}")
    serial_tok, chunked_tok = tokenize_seconds(titles, 1, repeats), tokenize_seconds(titles, workers, repeats)
    print(f"tokenise: serial {serial_tok:.1f} s, chunked {chunked_tok:.1f} s: {serial_tok / chunked_tok:.2f}x")
    serial, chunked = build_seconds(titles, 1, repeats), build_seconds(titles, workers, repeats)
    print(f"tokenise + index: serial {serial:.1f} s, chunked {chunked:.1f} s: {serial / chunked:.2f}x")
    del titles
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, GCL_BENCH_CACHE=cache)
        probe = LOAD_PROBE.format(bench=str(Path(__file__).resolve().parent), docs=docs)
        for what in ("build + save + map", "checks + map (cached)"):
            out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
            seconds, anon, mapped = out.stdout.split()
            print(f"{what}: {float(seconds):.2f} s; process memory after it: +{anon} MiB own, +{mapped} MiB mapped files")
        size = sum(f.stat().st_size for f in Path(cache, "bm25").rglob("*") if f.is_file())
        print(f"index on disk: {size / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
