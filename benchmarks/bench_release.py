"""The whole Marqo-GS-10M release on one machine: ``gcl-bench run`` on all four splits, end to end.

A synthetic ``marqo_gs_full_10m`` folder at the release sizes (``_release_data.py``: two corpora
of 2M products with titles and image paths, CSVs of 3.93M / 3.92M / 981k / 981k rows, gt_test
and gt_dev files of 2,000 queries per split) is generated once, seeded, into ``--work-dir``
(default: a temporary folder; reused while its marker matches). Nothing is stored in the
repository. ``--quick`` is the same at 1/20 scale (500 judged queries per file).

Then, per model (``bm25``, and a randomly initialised tiny open_clip text tower over titles,
``open_clip:gcl-tiny --doc-fields title:1``), with a fresh ``GCL_BENCH_CACHE`` of its own under
the work dir: ``gcl-bench run --quiet`` on each split, one child process per run, a first pass
(cold caches; the second split on a corpus finds that corpus' index and embeddings cached) and
a second pass (everything cached). Per run: wall time, the run process's own peak RSS (VmHWM,
read as it exits), the largest ``ru_maxrss`` of its process tree (the corpus worker included),
and the per-stage ``timings`` of its results.json. A run that fails prints its stderr tail and
the table goes on.

Reference paths, on the same files: loading the in-domain split with ``pandas.read_csv`` +
``json.load`` (as the GCL evaluation script) against ``load_split`` on an empty cache, with the
gt file and without it (judgements sampled from the CSV), medians of ``--repeat`` runs in
child processes (``bench_load.measure``); and ERR / RBP of the in-domain bm25 run by the
per-query loops written as in the reference script (``bench_metrics``) against gcl_bench's
metrics on the same run.json and gt file.

Each target is printed with met / missed:
in-domain whole-run peak <= 1.5 GB (bm25) and <= 2 GB (dense); cold load >= 3x the reference,
with and without gt; bm25 on all four splits < 2 min in total (first pass); a warm rerun of any
split: load + score < 10 s. Memory is in decimal units (1 MB = 10^6 bytes, as the targets).

    python benchmarks/bench_release.py --quick
    python benchmarks/bench_release.py [--work-dir DIR] [--models bm25,dense] [--repeat N]
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _release_data

HERE = Path(__file__).resolve().parent
SPLITS = ("in_domain", "novel_query", "novel_document", "zero_shot")
MODELS = {
    "bm25": ["--model", "bm25"],
    "dense": ["--model", "open_clip:gcl-tiny", "--doc-fields", "title:1"],
}
"""The model specs timed, by label: ``--dense`` replaces the dense one."""
TARGETS_MB = {"bm25": 1500, "dense": 2000}
"""Whole-run peak allowed for an in-domain run, per model label (decimal MB)."""
BM25_TOTAL_S = 120.0
WARM_LOAD_SCORE_S = 10.0
LOAD_SPEEDUP = 3.0
ERR_RBP = ["err", "rbp@0.7", "rbp@0.8", "rbp@0.9"]
RUN_WRAPPER = """\
import atexit, sys
peak_file = sys.argv.pop(1)

def write_peak():
    with open("/proc/self/status") as status, open(peak_file, "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])

atexit.register(write_peak)
from gcl_bench.cli import main
main()
"""
"""Runs the gcl-bench CLI (its console-script entry point) and writes the process's VmHWM (kB)
as it exits: ``ru_maxrss`` alone would carry over the memory of whatever started it."""


def sizes(quick: bool) -> _release_data.Sizes:
    return _release_data.scaled(_release_data.RELEASE, 1 / 20, judged=500) if quick else _release_data.RELEASE


def run_child(command: list[str], env: dict[str, str], log: Path) -> tuple[int, float, float]:
    """Exit code, wall seconds and ``ru_maxrss`` (MB) of one child, its stdout+stderr in ``log``."""
    start = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, time.perf_counter() - start, usage.ru_maxrss * 1024 / 1e6


def tail(log: Path, lines: int = 12) -> str:
    text = log.read_text(errors="replace").rstrip().splitlines() if log.exists() else []
    return "\n".join("      | " + line for line in text[-lines:])


def gcl_bench_run(label: str, spec: list[str], split: str, data: Path, cache: Path, out: Path) -> dict:
    """One ``gcl-bench run`` in its own process: wall, peaks, timings, or the failure."""
    out.mkdir(parents=True, exist_ok=True)
    peak_file, log = out / "vmhwm_kb", out / "console.log"
    peak_file.unlink(missing_ok=True)
    command = [sys.executable, "-c", RUN_WRAPPER, str(peak_file), "run", *spec, "--split", split,
               "--data-dir", str(data), "--quiet", "--output-dir", str(out / "results")]
    env = dict(os.environ, GCL_BENCH_CACHE=str(cache))
    code, wall, tree_mb = run_child(command, env, log)
    row = {"model": label, "split": split, "code": code, "wall": wall, "tree_mb": tree_mb,
           "peak_mb": int(peak_file.read_text()) * 1024 / 1e6 if peak_file.exists() else float("nan")}
    results_file = out / "results" / "results.json"
    if code == 0 and not results_file.exists():
        code = row["code"] = -1
    if code != 0:
        print(f"    {label} {split}: exit {code}{'' if code != -1 else ' (no results.json)'}; "
              f"console tail:\n{tail(log)}", flush=True)
        return row
    results = json.loads(results_file.read_text())
    row["timings"] = results.get("timings", {})
    row["run_json"] = str(out / "results" / "run.json")
    return row


def measure_load(variant: str, data: Path, cache: Path, repeat: int) -> dict | None:
    """Median seconds and peak (VmHWM) of ``bench_load.measure(variant)``, each in a fresh child
    on an empty dataset cache; None (and the stderr tail) if a child fails."""
    runs = []
    for _ in range(repeat):
        shutil.rmtree(cache, ignore_errors=True)
        log = cache.parent / f"load_{variant}.log"
        code, _, _ = run_child([sys.executable, __file__, "--measure-load", variant, "--data", str(data)],
                               dict(os.environ, GCL_BENCH_CACHE=str(cache)), log)
        if code != 0:
            print(f"    load {variant}: exit {code}; console tail:\n{tail(log)}", flush=True)
            return None
        runs.append(json.loads(log.read_text().strip().splitlines()[-1]))
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": statistics.median(r["peak_mb"] for r in runs) * 2**20 / 1e6,
            "steps": runs[0]["steps"]}


def measure_err_rbp(run_json: Path, gt_json: Path) -> dict:
    """Seconds and values of ERR / RBP@p: the reference's per-query loops against gcl_bench."""
    import bench_metrics
    import orjson

    import gcl_bench

    run = orjson.loads(run_json.read_bytes())
    qrels = orjson.loads(gt_json.read_bytes())
    out: dict = {"queries": len(qrels)}
    start = time.perf_counter()
    reference = {"err": statistics.fmean(bench_metrics.reference_err(g, run.get(q, {})) for q, g in qrels.items())}
    for p in bench_metrics.RBP_PS:
        reference[f"rbp@{p}"] = statistics.fmean(bench_metrics.reference_rbp(g, run.get(q, {}), p)
                                                 for q, g in qrels.items())
    out["reference"] = (time.perf_counter() - start, reference)
    gcl_bench.evaluate(qrels, run, ERR_RBP)  # compilation outside the timing
    for protocol in ("default", "reference"):
        start = time.perf_counter()
        values = gcl_bench.evaluate(qrels, run, ERR_RBP, protocol=protocol)
        out[f"gcl_bench {protocol}"] = (time.perf_counter() - start, {k: float(values[k]) for k in ERR_RBP})
    return out


def print_runs(rows: list[dict]) -> None:
    stages = []
    for row in rows:
        stages += [s for s in row.get("timings", {}) if s not in stages]
    head = f"{'model':<7}{'pass':<8}{'split':<16}{'wall s':>8}{'peak MB':>9}{'tree MB':>9}"
    print(head + "".join(f"{s:>9}" for s in stages) + f"{'other':>9}")
    for row in rows:
        line = f"{row['model']:<7}{row['pass']:<8}{row['split']:<16}{row['wall']:>8.1f}{row['peak_mb']:>9.0f}" \
               f"{row['tree_mb']:>9.0f}"
        if row["code"] != 0:
            print(line + f"   FAILED (exit {row['code']})")
            continue
        other = row["wall"] - sum(row["timings"].values())
        print(line + "".join(f"{row['timings'].get(s, float('nan')):>9.2f}" for s in stages) + f"{other:>9.2f}")
    print("peak MB = the run process's own VmHWM; tree MB = largest ru_maxrss in its process tree (the corpus")
    print("worker included; a child's may include what its parent held when starting it); stages in seconds;")
    print("other = wall - the stages: interpreter start, imports, model creation, writing the output set")


def verdict(name: str, met: bool | None, detail: str) -> None:
    mark = "n/a   " if met is None else ("met   " if met else "MISSED")
    print(f"  [{mark}] {name}: {detail}")


def print_targets(rows: list[dict], loads: dict, models: list[str]) -> None:
    print("\ntargets")

    def ok(row: dict) -> bool:
        return row["code"] == 0

    for label in models:
        in_domain = [r for r in rows if r["model"] == label and r["split"] == "in_domain"]
        if not in_domain or not all(map(ok, in_domain)):
            verdict(f"in-domain whole-run peak {label} <= {TARGETS_MB[label] / 1000:g} GB", None, "a run failed")
            continue
        peak = max(r["peak_mb"] for r in in_domain)
        tree = max(r["tree_mb"] for r in in_domain)
        verdict(f"in-domain whole-run peak {label} <= {TARGETS_MB[label] / 1000:g} GB", peak <= TARGETS_MB[label],
                f"{peak:.0f} MB (process tree max {tree:.0f} MB)")
    reference = loads.get("reference")
    for kind, name in (("gt", "with gt"), ("sampled", "without gt")):
        ours = loads.get(kind)
        if reference is None or ours is None:
            verdict(f"cold load {name} >= {LOAD_SPEEDUP:g}x pandas+json", None, "a load failed")
            continue
        speedup = reference["seconds"] / ours["seconds"]
        verdict(f"cold load {name} >= {LOAD_SPEEDUP:g}x pandas+json", speedup >= LOAD_SPEEDUP,
                f"{speedup:.1f}x ({ours['seconds']:.2f} s against {reference['seconds']:.2f} s)")
    if "bm25" in models:
        first = [r for r in rows if r["model"] == "bm25" and r["pass"] == "first"]
        if len(first) == len(SPLITS) and all(map(ok, first)):
            total = sum(r["wall"] for r in first)
            verdict(f"bm25 on all four splits < {BM25_TOTAL_S / 60:g} min", total < BM25_TOTAL_S,
                    f"{total:.0f} s (first pass, fresh cache; second pass "
                    f"{sum(r['wall'] for r in rows if r['model'] == 'bm25' and r['pass'] == 'second'):.0f} s)")
        else:
            verdict(f"bm25 on all four splits < {BM25_TOTAL_S / 60:g} min", None, "a run failed or was not run")
    warm = [r for r in rows if r["pass"] == "second" and ok(r)]
    if warm:
        worst = max(warm, key=lambda r: r["timings"].get("load", 0) + r["timings"].get("score", 0))
        seconds = worst["timings"].get("load", 0) + worst["timings"].get("score", 0)
        verdict(f"warm rerun load + score < {WARM_LOAD_SCORE_S:g} s", seconds < WARM_LOAD_SCORE_S,
                f"slowest {seconds:.2f} s ({worst['model']} {worst['split']}; of {len(warm)} warm runs)")
    else:
        verdict(f"warm rerun load + score < {WARM_LOAD_SCORE_S:g} s", None, "no warm run succeeded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1/20 of the release sizes")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "gcl_bench_bench_release")
    parser.add_argument("--models", default="bm25,dense", help="comma list of: bm25, dense")
    parser.add_argument("--dense", default=None, help="the dense model's run options, e.g. "
                        "'--model open_clip:gcl-tiny --doc-fields title:1' (the default)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each load measurement (median)")
    parser.add_argument("--measure-load", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--err-rbp", nargs=2, type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    scale = "quick" if args.quick else "full"
    data = args.work_dir / scale / "marqo_gs_full_10m"
    if args.measure_load:
        import bench_load

        print(json.dumps(bench_load.measure(args.measure_load, args.data)))
        return
    if args.generate:
        seconds = _release_data.ensure(data, sizes(args.quick))
        print(f"generated in {seconds:.0f} s" if seconds else "reused", file=sys.stderr)
        return
    if args.err_rbp:
        print(json.dumps(measure_err_rbp(*args.err_rbp)))
        return
    if args.dense:
        MODELS["dense"] = shlex.split(args.dense)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"--models: unknown {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    size = sizes(args.quick)
    print(f"release layout ({scale}): corpora of {size.products:,} products; CSV rows "
          + ", ".join(f"{s} {n:,}" for s, n in size.rows.items())
          + f"; {size.judged:,} judged queries per gt file; in {data}", flush=True)
    start = time.perf_counter()
    code = subprocess.run([sys.executable, __file__, "--generate", "--work-dir", str(args.work_dir),
                           *(["--quick"] if args.quick else [])]).returncode
    if code != 0:
        sys.exit(f"generating the dataset failed (exit {code})")
    print(f"dataset ready ({time.perf_counter() - start:.0f} s, "
          f"{sum(p.stat().st_size for p in data.glob('*') if p.is_file()) / 1e9:.2f} GB)", flush=True)
    rows: list[dict] = []
    for label in models:
        cache = args.work_dir / scale / f"cache_{label}"
        shutil.rmtree(cache, ignore_errors=True)
        for pass_name in ("first", "second"):
            for split in SPLITS:
                print(f"  {label} {pass_name} pass: {split} ...", flush=True)
                out = args.work_dir / scale / "runs" / label / pass_name / split
                shutil.rmtree(out, ignore_errors=True)
                row = gcl_bench_run(label, MODELS[label], split, data, cache, out)
                rows.append({"pass": pass_name, **row})
    print()
    print_runs(rows)

    print("\nload of the in-domain split (child processes, empty cache, median of "
          f"{args.repeat}): reference pandas.read_csv + json.load against gcl_bench load_split")
    loads = {}
    for variant in ("reference", "gt", "sampled"):
        loads[variant] = measure_load(variant, data, args.work_dir / scale / f"cache_load_{variant}", args.repeat)
        if loads[variant] is not None:
            detail = ", ".join(f"{s['step']} {s['seconds']:.2f} s / {s['peak_mb'] * 2**20 / 1e6:.0f} MB"
                               for s in loads[variant]["steps"])
            print(f"  {variant:<10}{loads[variant]['seconds']:>8.2f} s{loads[variant]['peak_mb']:>8.0f} MB  ({detail})")
    print("  gt = with the gt file; sampled = without it (judgements sampled from the CSV)")

    bm25_in_domain = next((r for r in rows if r["model"] == "bm25" and r["pass"] == "first"
                           and r["split"] == "in_domain" and r["code"] == 0), None)
    if bm25_in_domain is not None:
        from gcl_bench.data.files import MarqoFiles

        gt = MarqoFiles(data, "in_domain").gt("test")
        log = args.work_dir / scale / "err_rbp.log"
        code, _, _ = run_child([sys.executable, __file__, "--err-rbp", bm25_in_domain["run_json"], str(gt)],
                               dict(os.environ), log)
        if code != 0:
            print(f"\nERR/RBP comparison failed (exit {code}):\n{tail(log)}")
        else:
            compared = json.loads(log.read_text().strip().splitlines()[-1])
            ref_seconds = compared["reference"][0]
            print(f"\nERR and RBP@0.7/0.8/0.9 of the in-domain bm25 run ({compared['queries']:,} queries x top-1000)")
            for name in ("reference", "gcl_bench default", "gcl_bench reference"):
                seconds, values = compared[name]
                shown = "  ".join(f"{k} {v:.6g}" for k, v in values.items())
                print(f"  {name + (' loops' if name == 'reference' else ' protocol'):<30}{seconds:>8.3f} s "
                      f"{ref_seconds / seconds:>7.1f}x  {shown}")
            print(f"  (gcl_bench's whole score stage in that run, every default metric: "
                  f"{bm25_in_domain['timings'].get('score', float('nan')):.2f} s; the default protocol breaks "
                  "score ties by document id, the reference loops and protocol keep search order)")
    print_targets(rows, loads, models)
    if hasattr(os, "getloadavg"):
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
