"""Speed of scoring one run: the paper's evaluation, ranx, and gcl_bench, on the same inputs.

A synthetic run of Q queries x 1,000 retrieved documents (float32 cosine-like scores, a few
duplicate scores as from duplicate products) over a 100,000-document corpus, with graded
judgements (grades 1..100, as Marqo-GS). One metric set for every tool: nDCG, MAP, recall,
precision and MRR at the cutoffs of the GCL evaluation script, plus ERR and RBP at p = 0.7, 0.8,
0.9. Timed, in one process, medians over repeats:

(a) the paper's evaluation: BEIR ``EvaluateRetrieval.evaluate`` + ``evaluate_custom(mrr)``
    plus ERR and RBP loops written as in the GCL reference script (dict in, loop per document);
(b) ranx: cold (a fresh interpreter with an empty numba cache: import + compilation + first
    call) and warm (``ranx.evaluate`` on the dicts after compilation); ranx has no GCL ERR and its
    RBP uses raw grades, so it computes its own RBP and no ERR;
(c) gcl_bench: cold (``gcl_bench.evaluate`` from the dicts in a fresh interpreter with an empty
    numba cache, as ranx cold), ``gcl_bench.evaluate`` from the dicts, and
    ``JudgedRun.from_arrays(...).compute`` from the (indices, scores) arrays a search returns,
    with the qrels dict (converted inside the timing) and with ``Judgements`` prepared once
    beforehand (timed separately); then both again under ``protocol="reference"`` (ERR, RBP and
    MRR from a second ranking of the run in search order, as the paper's evaluation ranks it:
    its ERR and RBP then equal the paper's, ties included).

Usage: ``python benchmarks/bench_metrics.py [--full | --quick] [--cold] [--queries N ...] [--repeats R]``.
By default one size, 1,000 queries with 3 repeats and no cold runs, in under a minute on two
cores (the cold runs compile ranx and gcl_bench from an empty numba cache: ranx's alone took
three minutes on a busy two-core machine); ``--cold`` adds them. ``--full`` runs 2,000 and
20,000 queries with 5 repeats, cold runs included (about 15 minutes); ``--quick`` is a smoke run
(500 queries, 2 repeats). A first run on a machine also compiles ranx and gcl_bench before
timing them (into their numba caches, reused by later runs).
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

# the cutoffs of the GCL evaluation script (evals/eval_gs_v1.py)
KS = [1, 2, 3, 4, 5, 6, 8, 10, 12, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 500, 1000]
RBP_PS = (0.7, 0.8, 0.9)
N_DOCS = 100_000
DEPTH = 1000


def make_data(n_queries: int, seed: int = 0) -> dict:
    """Judgements, run dicts and the equivalent search arrays."""
    rng = np.random.default_rng(seed)
    doc_ids = np.char.add("B0", rng.choice(10**8, size=N_DOCS, replace=False).astype(str)).tolist()
    indices = np.empty((n_queries, DEPTH), dtype=np.int64)
    for row in range(n_queries):
        drawn = np.unique(rng.integers(0, N_DOCS, size=DEPTH + 200))
        indices[row] = rng.permutation(drawn)[:DEPTH]
    scores = np.sort(rng.uniform(0.1, 0.9, size=(n_queries, DEPTH)).astype(np.float32), axis=1)[:, ::-1]
    duplicates = rng.random((n_queries, DEPTH - 1)) < 0.01  # duplicate products score alike
    scores[:, 1:][duplicates] = scores[:, :-1][duplicates]
    scores = np.ascontiguousarray(scores)
    query_ids = [f"query {q} text_{{!@#~}}_" for q in range(n_queries)]
    qrels: dict[str, dict[str, int]] = {}
    for row, qid in enumerate(query_ids):
        n_judged = int(rng.integers(20, 200))
        retrieved = rng.choice(indices[row, :300], size=n_judged // 2, replace=False)
        others = rng.integers(0, N_DOCS, size=n_judged - n_judged // 2)
        judged = np.unique(np.concatenate([retrieved, others]))
        grades = rng.integers(1, 101, size=judged.size)
        qrels[qid] = {doc_ids[d]: int(g) for d, g in zip(judged.tolist(), grades.tolist())}
    run = {
        qid: dict(zip(map(doc_ids.__getitem__, indices[row].tolist()), scores[row].tolist()))
        for row, qid in enumerate(query_ids)
    }
    return {"qrels": qrels, "run": run, "query_ids": query_ids, "doc_ids": doc_ids,
            "indices": indices, "scores": scores}


# ----------------------------------------------------------------- (a) the paper's evaluation
def reference_err(grades: dict, docs: dict) -> float:
    total, reach = 0.0, 1.0
    top = max(grades.values())
    for rank, (doc, _) in enumerate(sorted(docs.items(), key=lambda x: x[1], reverse=True), start=1):
        stop = (2 ** grades.get(doc, 0) - 1) / (2**top)
        total += reach * stop / rank
        reach *= 1 - stop
    return total


def reference_rbp(grades: dict, docs: dict, p: float) -> float:
    total = 0.0
    top = max(grades.values())
    for rank, (doc, _) in enumerate(sorted(docs.items(), key=lambda x: x[1], reverse=True), start=1):
        total += grades.get(doc, 0) / top * p ** (rank - 1)
    return total * (1 - p)


def paper_evaluation(qrels: dict, run: dict) -> dict:
    from beir.retrieval.evaluation import EvaluateRetrieval

    ndcg, _map, recall, precision = EvaluateRetrieval.evaluate(qrels, run, KS, ignore_identical_ids=False)
    mrr = EvaluateRetrieval.evaluate_custom(qrels, run, KS, metric="mrr")
    out = {**ndcg, **_map, **recall, **precision, **mrr}
    out["ERR"] = sum(reference_err(g, run.get(q, {})) for q, g in qrels.items()) / len(qrels)
    for p in RBP_PS:
        out[f"RBP{p}"] = sum(reference_rbp(g, run.get(q, {}), p) for q, g in qrels.items()) / len(qrels)
    return out


# ----------------------------------------------------------------- (b) ranx
def ranx_metrics() -> list[str]:
    names = [f"{m}@{k}" for m in ("ndcg", "map", "recall", "precision", "mrr") for k in KS]
    return names + [f"rbp.{int(p * 10)}" for p in RBP_PS]


def ranx_evaluation(qrels: dict, run: dict) -> dict:
    import ranx

    return ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), ranx_metrics())


def cold_seconds(function: str, n_queries: int) -> float:
    """Seconds for import + compilation + first call of ``function(qrels, run)`` of this module
    in a fresh interpreter with an empty numba cache."""
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); import bench_metrics as b; "
        "d = b.make_data(int(sys.argv[2])); t = time.perf_counter(); "
        f"b.{function}(d['qrels'], d['run']); print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = subprocess.run(
            [sys.executable, "-c", code, os.path.dirname(os.path.abspath(__file__)), str(n_queries)],
            env=env, check=True, capture_output=True, text=True,
        )
    return float(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- (c) gcl_bench
def gcl_metrics() -> list[str]:
    names = [f"{m}@{k}" for m in ("ndcg", "map", "recall", "precision", "mrr") for k in KS]
    return names + ["err"] + [f"rbp@{p}" for p in RBP_PS]


def gcl_from_dicts(qrels: dict, run: dict, protocol: str = "default") -> dict:
    import gcl_bench

    return gcl_bench.evaluate(qrels, run, gcl_metrics(), protocol=protocol)


def gcl_from_arrays(data: dict, qrels: object = None, protocol: str = "default") -> dict:
    from gcl_bench.metrics import JudgedRun

    judged = JudgedRun.from_arrays(data["qrels"] if qrels is None else qrels, data["query_ids"],
                                   data["doc_ids"], data["indices"], data["scores"], protocol=protocol)
    return judged.compute(gcl_metrics()).means


def gcl_prepare(data: dict) -> object:
    from gcl_bench.metrics import Judgements

    return Judgements.from_dict(data["qrels"], data["doc_ids"])


# ----------------------------------------------------------------- harness
def median_time(fn: Callable[[], object], repeats: int, results: list | None = None) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    if results is not None:
        results.append(result)
    return statistics.median(times)


def check_agreement(data: dict, paper: dict) -> None:
    """Where the definitions agree the figures agree; ERR/RBP differ only where scores tie
    (the reference keeps retrieval order on ties, gcl_bench's default protocol breaks them by
    document id; its reference protocol keeps them as the reference does)."""
    ours = gcl_from_dicts(data["qrels"], data["run"])
    arrays = gcl_from_arrays(data)
    reference = gcl_from_dicts(data["qrels"], data["run"], protocol="reference")
    for k in (10, 100, 1000):
        print(f"  ndcg@{k}: paper {paper[f'NDCG@{k}']:.5f}  gcl_bench {ours[f'ndcg@{k}']:.5f}  "
              f"(arrays {arrays[f'ndcg@{k}']:.5f})")
    print(f"  err: paper {paper['ERR']:.5f}  gcl_bench {ours['err']:.5f} (reference protocol "
          f"{reference['err']:.5f});  rbp@0.8: paper {paper['RBP0.8']:.5f}  gcl_bench "
          f"{ours['rbp@0.8']:.5f} (reference protocol {reference['rbp@0.8']:.5f})")


def run_size(n_queries: int, repeats: int, cold: bool) -> None:
    print(f"\n== {n_queries} queries x {DEPTH} documents, {len(gcl_metrics())} metrics ==")
    data = make_data(n_queries)
    qrels, run = data["qrels"], data["run"]
    slow_repeats = max(1, repeats // 2) if n_queries > 5000 else repeats
    rows = {}
    paper_results: list = []
    rows["(a) paper: BEIR + mrr + ERR/RBP loops"] = median_time(
        lambda: paper_evaluation(qrels, run), slow_repeats, paper_results
    )
    check_agreement(data, paper_results[0])  # also gcl_bench's first calls: warm timings follow
    if cold:
        rows["(b) ranx cold (compile + first call)"] = cold_seconds("ranx_evaluation", n_queries)
    ranx_evaluation(qrels, run)  # compile (or load the numba cache) before timing warm calls
    rows["(b) ranx warm"] = median_time(lambda: ranx_evaluation(qrels, run), slow_repeats)
    if cold:
        rows["(c) gcl_bench cold (compile + first call)"] = cold_seconds("gcl_from_dicts", n_queries)
    rows["(c) gcl_bench.evaluate (dicts)"] = median_time(lambda: gcl_from_dicts(qrels, run), repeats)
    rows["(c) gcl_bench JudgedRun.from_arrays"] = median_time(lambda: gcl_from_arrays(data), repeats)
    prepared = gcl_prepare(data)
    rows["(c) ... with Judgements prepared once"] = median_time(lambda: gcl_from_arrays(data, prepared), repeats)
    rows["(c) gcl_bench.evaluate, reference protocol"] = median_time(
        lambda: gcl_from_dicts(qrels, run, "reference"), repeats)
    rows["(c) from_arrays, reference protocol"] = median_time(lambda: gcl_from_arrays(data, None, "reference"), repeats)
    preparing = median_time(lambda: gcl_prepare(data), repeats)
    paper = rows["(a) paper: BEIR + mrr + ERR/RBP loops"]
    print(f"{'':42s} {'median s':>10s} {'paper / this':>13s}")
    for name, seconds in rows.items():
        print(f"{name:42s} {seconds:10.3f} {paper / seconds:12.1f}x")
    print(f"(preparing the Judgements, done once per judgements file and corpus: {preparing:.3f} s)")
    warm = rows["(b) ranx warm"]
    print(f"gcl_bench dicts vs ranx warm: {warm / rows['(c) gcl_bench.evaluate (dicts)']:.1f}x faster; "
          f"arrays vs ranx warm: {warm / rows['(c) gcl_bench JudgedRun.from_arrays']:.1f}x faster")
    if cold:
        ranx_cold, gcl_cold = rows["(b) ranx cold (compile + first call)"], rows["(c) gcl_bench cold (compile + first call)"]
        print(f"gcl_bench cold vs ranx cold: {ranx_cold / gcl_cold:.1f}x faster")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="2000 and 20000 queries, 5 repeats, cold runs (~15 min)")
    size.add_argument("--quick", action="store_true", help="smoke run: 500 queries, 2 repeats, no cold runs")
    parser.add_argument("--queries", type=int, nargs="+", default=None,
                        help="numbers of queries (default: 1000; 2000 and 20000 with --full)")
    parser.add_argument("--repeats", type=int, default=None, help="default: 3; 5 with --full; 2 with --quick")
    parser.add_argument("--cold", action="store_true", help="also time import + compilation + first call "
                        "from an empty numba cache (always with --full)")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # BEIR logs every metric
    if args.full:
        sizes, repeats = [2000, 20000], 5
    elif args.quick:
        sizes, repeats = [500], 2
    else:
        sizes, repeats = [1000], 3
    for n_queries in args.queries or sizes:
        run_size(n_queries, args.repeats or repeats, cold=args.full or args.cold)


if __name__ == "__main__":
    main()
