"""Encoding under torchrun: N processes against one, on a synthetic corpus, same run.json.

Writes a BEIR-format folder (``--docs`` product-like titles, ``--queries`` queries with graded
judgements; deterministic, in a temporary folder), then runs the same ``gcl-bench run`` (default
``open_clip:gcl-tiny`` on titles, randomly initialised: the point is the pipeline, not the
model) as one process with torch's default threads (one per core), as one process with
``cores / N`` threads, and under ``torchrun --standalone --nproc-per-node N`` (``cores / N``
threads per rank), each with its own empty cache (dataset and embeddings), rotating the order
over ``--repeats`` rounds. Prints the wall time of each whole command and of its encode stage
(from results.json), medians and ratios, and whether run.json and the metrics are identical.

What N processes gain is the work one process does on one core (tokenising, batching, writing
cache shards) and, on a machine busy with other work, freedom from OpenMP oversubscription: a
process whose threads outnumber the free cores slows down far more than its share (the second
configuration shows how much of the gain is that alone).

    python benchmarks/bench_torchrun.py                  # 200k documents, 2 processes, 3 rounds
    python benchmarks/bench_torchrun.py --docs 20000 --repeats 1
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _release_data import WORDS


def write_corpus(folder: Path, n_docs: int, n_queries: int, seed: int = 0) -> None:
    """A BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv (5 judged documents per query)."""
    import numpy as np
    import orjson

    rng = np.random.default_rng(seed)
    (folder / "qrels").mkdir(parents=True)
    words = np.array(WORDS)
    lengths = rng.integers(6, 14, n_docs)
    picks = rng.integers(0, len(words), (n_docs, 14))
    with open(folder / "corpus.jsonl", "wb") as handle:
        for i in range(n_docs):
            title = " ".join(words[picks[i, : lengths[i]]])
            handle.write(orjson.dumps({"_id": f"{i:07d}", "title": title, "text": ""}) + b"\n")
    with open(folder / "queries.jsonl", "wb") as handle:
        for q in range(n_queries):
            text = " ".join(words[rng.integers(0, len(words), int(rng.integers(2, 5)))])
            handle.write(orjson.dumps({"_id": f"q{q}", "text": text}) + b"\n")
    lines = ["query-id\tcorpus-id\tscore"]
    for q in range(n_queries):
        for doc in rng.choice(n_docs, size=5, replace=False):
            lines.append(f"q{q}\t{doc:07d}\t{int(rng.integers(1, 4))}")
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")


def run_once(command: list[str], cache: Path, env_extra: dict[str, str]) -> float:
    """Wall seconds of ``command`` with a fresh cache folder; the command must succeed."""
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "GCL_BENCH_CACHE": str(cache), **env_extra}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--nproc", type=int, default=2, help="torchrun processes")
    parser.add_argument("--model", default="open_clip:gcl-tiny")
    parser.add_argument("--doc-fields", default="title:1")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="gcl_bench_torchrun_"))
    data = work / "data"
    started = time.perf_counter()
    write_corpus(data, args.docs, args.queries)
    print(f"# bench_torchrun: {args.docs:,} documents, {args.queries:,} queries, {args.model} "
          f"({args.doc_fields}), {args.nproc} processes vs 1, {cores} CPUs, median of {args.repeats}; "
          f"corpus written in {time.perf_counter() - started:.1f} s")
    common = ["run", "--model", args.model, "--doc-fields", args.doc_fields, "--data-dir", str(data),
              "--split", "zero_shot", "--device", "cpu", "--batch-size", str(args.batch_size), "-q"]
    single_cmd = [sys.executable, "-m", "gcl_bench", *common, "--output-dir", str(work / "single")]
    multi_cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                 "--nproc-per-node", str(args.nproc), "-m", "gcl_bench", *common,
                 "--output-dir", str(work / "torchrun")]
    threads = str(max(1, cores // args.nproc))
    configs = {  # name: (command, output folder, extra environment)
        "single": (single_cmd, "single", {}),
        "single_few": (single_cmd, "single", {"OMP_NUM_THREADS": threads}),
        "torchrun": (multi_cmd, "torchrun", {"OMP_NUM_THREADS": threads}),
    }
    walls: dict[str, list[float]] = {name: [] for name in configs}
    encodes: dict[str, list[float]] = {name: [] for name in configs}
    names = list(configs)
    for round_ in range(args.repeats):
        for name in names[round_ % 3:] + names[: round_ % 3]:
            command, folder, extra = configs[name]
            walls[name].append(run_once(command, work / f"cache_{name}", extra))
            results = json.loads((work / folder / "results.json").read_text())
            encodes[name].append(results["timings"]["encode"])
            print(f"  round {round_ + 1} {name:<10} wall {walls[name][-1]:7.1f} s  encode "
                  f"{encodes[name][-1]:7.1f} s  load average {os.getloadavg()[0]:.2f}", flush=True)

    single_results = json.loads((work / "single" / "results.json").read_text())
    torchrun_results = json.loads((work / "torchrun" / "results.json").read_text())
    same_run = json.loads((work / "single" / "run.json").read_text()) == json.loads(
        (work / "torchrun" / "run.json").read_text())
    print(f"{'median':<20}{f'1 process, {cores} thr':>18}{f'1 process, {threads} thr':>18}"
          f"{f'torchrun x{args.nproc}':>14}{'speed-up':>10}{'vs fewer thr':>14}")
    for label, table in (("whole run, wall s", walls), ("encode stage, s", encodes)):
        one, few, many = (statistics.median(table[name]) for name in names)
        print(f"{label:<20}{one:>18.1f}{few:>18.1f}{many:>14.1f}{one / many:>9.2f}x{few / many:>13.2f}x")
    world = torchrun_results["retrieval"]["encode"]["distributed"]["world_size"]
    same_metrics = single_results["metrics"] == torchrun_results["metrics"]
    print(f"world size recorded: {world}; run.json identical: {same_run}; metrics identical: {same_metrics}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
