"""Memory and time of scoring a run file: ``gcl-bench evaluate`` against its peers, same files.

A synthetic run of Q queries x 1,000 retrieved documents over a corpus of 2,000,000 product ids
(the size of a Marqo-GS corpus; ids like ``B012345678``, scores float32 values written at full
precision, best first, 1 % repeated scores as from duplicate products), written once as BEIR
JSON and once as a TREC run file, with gt judgements (20 to 200 documents per query, half of
them among the top 300 retrieved, grades 1..100). Each variant reads the judgements and the
run from disk and computes one metric set (nDCG@10, MAP@1000, MRR@10, recall@100, recall@1000,
P@10), in its own subprocess: imports and a warm-up on a tiny file first (numba compiled from
its cache), then ``VmHWM`` of ``/proc/self/status`` is the baseline; the peak after scoring
minus the baseline, divided by the run's entries, is the bytes per entry. Variants:

- ``gcl-bench evaluate``: the command itself (``--output`` to a temporary file);
- ``gcl_bench read_run + from_dicts``: the dict path evaluate took before (the run as
  ``{qid: {doc: score}}``, then :meth:`JudgedRun.from_dicts`), still in the library;
- ``pytrec_eval``: ``orjson.loads`` (JSON) or ``pytrec_eval.parse_run`` (TREC), then
  ``RelevanceEvaluator.evaluate``;
- ``ranx``: ``Qrels.from_file`` + ``Run.from_file`` + ``ranx.evaluate``.

Ratios are against ``gcl-bench evaluate`` on the same file. The means must agree with
gcl-bench's to 1e-12 (the old path and pytrec_eval, which rank ties as trec_eval does); ranx breaks
ties its own way, so its largest difference is printed instead.

Usage: ``python benchmarks/bench_evaluate.py [--quick | --full] [--queries N] [--skip ranx,...]``.
``--quick`` (the default): 1,000 queries (1M entries), a minute or two; ``--full``: 10,000
queries (10M entries), some minutes and about 4 GB of free memory for the peers.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_DOCS = 2_000_000
DEPTH = 1000
METRICS = ["ndcg@10", "map@1000", "mrr@10", "recall@100", "recall@1000", "precision@10"]
TREC_MEASURES = {"ndcg@10": "ndcg_cut_10", "map@1000": "map_cut_1000", "recall@100": "recall_100",
                 "recall@1000": "recall_1000", "precision@10": "P_10"}
VARIANTS = ["gcl-bench evaluate", "gcl_bench read_run + from_dicts", "pytrec_eval", "ranx"]


# ----------------------------------------------------------------- the inputs
def write_inputs(folder: Path, n_queries: int, seed: int = 0) -> int:
    """Write gt.json, run.json and run.trec for ``n_queries`` queries; return the run's entries."""
    import orjson

    rng = np.random.default_rng(seed)
    qrels: dict[str, dict[str, int]] = {}
    entries = 0
    with open(folder / "run.json", "wb") as as_json, open(folder / "run.trec", "w") as as_trec:
        as_json.write(b"{")
        for q in range(n_queries):
            qid = f"q{q:06d}"
            drawn = np.unique(rng.integers(0, N_DOCS, size=DEPTH + 50))
            docs = rng.permutation(drawn)[:DEPTH]
            scores = np.sort(rng.uniform(0.1, 0.9, size=docs.size).astype(np.float32))[::-1]
            repeated = rng.random(docs.size - 1) < 0.01
            scores[1:][repeated] = scores[:-1][repeated]
            names = [f"B{d:09d}" for d in docs.tolist()]
            values = scores.tolist()
            as_json.write(b"," if q else b"")
            as_json.write(orjson.dumps(qid) + b":" + orjson.dumps(dict(zip(names, values))))
            as_trec.write("".join(f"{qid} Q0 {name} {rank} {value!r} bench\n"
                                  for rank, (name, value) in enumerate(zip(names, values), start=1)))
            n_judged = int(rng.integers(20, 200))
            judged = set(rng.choice(names[:300], size=n_judged // 2, replace=False).tolist())
            judged |= {f"B{d:09d}" for d in rng.integers(0, N_DOCS, size=n_judged - n_judged // 2).tolist()}
            qrels[qid] = {name: int(g) for name, g in zip(sorted(judged), rng.integers(1, 101, size=len(judged)).tolist())}
            entries += docs.size
        as_json.write(b"}")
    (folder / "gt.json").write_bytes(orjson.dumps(qrels))
    return entries


# ----------------------------------------------------------------- one variant (in its own process)
def _peak_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _score(variant: str, gt: Path, run: Path) -> dict[str, float]:
    kind = "json" if run.suffix == ".json" else "trec"
    if variant == "gcl-bench evaluate":
        from gcl_bench.commands.evaluate import command

        with tempfile.TemporaryDirectory() as out:
            target = Path(out) / "summary.json"
            command.main(["--qrels", str(gt), "--run", str(run), "--metrics", ",".join(METRICS), "-q",
                          "--output", str(target)], standalone_mode=False)
            return json.loads(target.read_text())["metrics"]
    if variant == "gcl_bench read_run + from_dicts":
        from gcl_bench.metrics import JudgedRun
        from gcl_bench.results import read_qrels, read_run

        return JudgedRun.from_dicts(read_qrels(gt, []), read_run(run, [])).compute(METRICS).means
    if variant == "pytrec_eval":
        import orjson
        import pytrec_eval

        qrels = orjson.loads(gt.read_bytes())
        if kind == "json":
            parsed = orjson.loads(run.read_bytes())
        else:
            with open(run) as handle:
                parsed = pytrec_eval.parse_run(handle)
        per_query = pytrec_eval.RelevanceEvaluator(qrels, set(TREC_MEASURES.values())).evaluate(parsed)
        return {ours: float(np.mean([values[theirs] for values in per_query.values()]))
                for ours, theirs in TREC_MEASURES.items()}
    if variant == "ranx":
        import ranx

        qrels = ranx.Qrels.from_file(str(gt), kind="json")
        parsed = ranx.Run.from_file(str(run), kind=kind)
        return {k: float(v) for k, v in ranx.evaluate(qrels, parsed, METRICS).items()}
    raise SystemExit(f"unknown variant {variant!r}")


def run_variant(variant: str, folder: Path, name: str) -> None:
    _score(variant, folder / "tiny_gt.json", folder / f"tiny_{name}")  # imports, numba from its cache
    baseline = _peak_bytes()
    start = time.perf_counter()
    means = _score(variant, folder / "gt.json", folder / name)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak": _peak_bytes(), "baseline": baseline, "means": means}))


def measure(variant: str, folder: Path, name: str) -> dict:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--variant", variant, "--folder", str(folder),
                          "--file", name], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- the table
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="1,000 queries x 1,000 (the default)")
    size.add_argument("--full", action="store_true", help="10,000 queries x 1,000")
    parser.add_argument("--queries", type=int, default=None, help="queries of the run (overrides the size)")
    parser.add_argument("--skip", default="", help="comma-separated peers to leave out, e.g. ranx,read_run")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        run_variant(args.variant, Path(args.folder), args.file)
        return
    n_queries = args.queries or (10_000 if args.full else 1_000)
    skipped = {name.strip() for name in args.skip.split(",") if name.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        entries = write_inputs(folder, n_queries)
        write_tiny(folder)
        print(f"{n_queries:,} queries x {DEPTH} = {entries:,} entries over {N_DOCS:,} product ids; "
              f"run.json {os.path.getsize(folder / 'run.json') / 1e6:.0f} MB, run.trec "
              f"{os.path.getsize(folder / 'run.trec') / 1e6:.0f} MB (written in {time.perf_counter() - started:.0f} s)")
        for name in ("run.json", "run.trec"):
            rows = {v: measure(v, folder, name) for v in VARIANTS
                    if v == VARIANTS[0] or not any(token in v for token in skipped)}
            ours = rows["gcl-bench evaluate"]
            for variant, row in rows.items():
                gaps = {m: abs(v - ours["means"][m]) for m, v in row["means"].items() if m in ours["means"]}
                if variant == "ranx":  # ties in ranx's own order, not trec_eval's: close, not equal
                    print(f"ranx vs gcl-bench, largest difference of a mean: {max(gaps.values()):.2g}")
                elif max(gaps.values()) > 1e-12:
                    raise SystemExit(f"{variant} disagrees with gcl-bench evaluate: {gaps}")
            print(f"\n{name}: peak memory above the baseline after imports, per run entry; wall time")
            print(f"{'variant':34} {'bytes/entry':>11} {'peak MB':>8} {'x mem':>6} {'seconds':>8} {'x time':>7}")
            for variant, row in rows.items():
                extra = row["peak"] - row["baseline"]
                print(f"{variant:34} {extra / entries:11.1f} {extra / 1e6:8.0f} "
                      f"{extra / (ours['peak'] - ours['baseline']):6.2f} {row['seconds']:8.2f} "
                      f"{row['seconds'] / ours['seconds']:7.2f}")
        per_entry = (ours["peak"] - ours["baseline"]) / entries
        print(f"\nAt this rate a run of 100,000 queries x 1,000 would need {per_entry * 1e8 / 1e9:.1f} GB above the "
              "baseline for gcl-bench evaluate: an upper bound, since the distinct ids of the 2M-product corpus "
              "are paid once and weigh less per entry as the run grows (compare --quick with --full).")


def write_tiny(folder: Path) -> None:
    """Two-query inputs for the warm-up of each variant."""
    qrels = {"q1": {"d1": 2, "d2": 1}, "q2": {"d3": 1}}
    run = {"q1": {"d1": 0.5, "d4": 0.4}, "q2": {"d3": 0.9, "d1": 0.1}}
    (folder / "tiny_gt.json").write_text(json.dumps(qrels))
    (folder / "tiny_run.json").write_text(json.dumps(run))
    (folder / "tiny_run.trec").write_text("".join(
        f"{q} Q0 {d} {r} {s} t\n" for q, docs in run.items() for r, (d, s) in enumerate(docs.items(), start=1)))


if __name__ == "__main__":
    main()
