"""Time and peak memory of loading one Marqo-GS split: the reference path against gcl_bench.

The reference path is what the GCL evaluation script does: ``pandas.read_csv`` of the split CSV
and ``json.load`` of the corpus JSON. gcl_bench is measured cold (empty cache: parse, check,
write the columnar cache) and cached (memory-mapped), for a split with a gt file (the usual
case, the CSV is read only when a gt key needs it) and for one without (judgements sampled
from the CSV, which must then be read). "cached + columns" also converts the three document
columns to Python lists, the cost a consumer pays on first use.

Each variant runs in its own subprocess; time is the load call alone (imports excluded), peak
memory is the subprocess's own high-water mark (VmHWM, reset before each step, reported per
step where a variant has several), never ``ru_maxrss``, which on Linux carries over the memory
of the process that started it (the generator, on a first run). The generated split (full
scale: 3.93M CSV rows, a 2M-product corpus; ``_release_data.py``) is written once into
``--work-dir`` and reused.

A cached load checks the checksum of every cache file it reads (docs.arrow over its memory map,
the JSON files as read); the run ends with the cold / cached ratio (it must stay >= 20x) and the
share of a cached load that checking takes, with xxh3 (used) against crc32, SHA-256 and BLAKE2b
over the same bytes.

The corpus reader checks every slice for product ids the JSON parser merged (see
``gcl_bench.data.corpus``); the last table measures that check on its own: its time inside
the corpus parse (one process), for the split's corpus and for the same products each holding
a nested object (the check's slower path).

    python benchmarks/bench_load.py [--quick] [--work-dir DIR] [--repeat N]
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
from collections.abc import Callable
from pathlib import Path

import _release_data

SPLIT = "in_domain"


def written_files(folder: Path) -> dict[str, str] | None:
    """``{"csv": name, "corpus": name}`` of the split :func:`_release_data.generate` wrote, None if
    not (yet) written. The reference variant opens its files by these names, so that it never
    imports gcl_bench (whose modules would count in its peak memory)."""
    marker = _release_data.written(folder)
    return None if marker is None else marker.get("files")


def sizes(quick: bool) -> _release_data.Sizes:
    """The in-domain split alone: the release's 3.93M rows and 2M products, or 1/20 of them."""
    if quick:
        return _release_data.Sizes(products=100_000, rows={SPLIT: 200_000}, judged=500,
                                   eval_sets=("test",), queries={0: 5_000})
    return _release_data.Sizes(products=2_000_000, rows={SPLIT: 3_930_000}, judged=2_000,
                               eval_sets=("test",), queries={0: 98_000})


def status_bytes(field: str) -> int:
    """A field of /proc/self/status (VmHWM, VmRSS) in bytes; 0 where there is no /proc."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_high_water_mark() -> None:
    """Start a new VmHWM reading for this process (writing 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


class Steps:
    """Seconds and VmHWM (MB) of each step of one variant, read in this process.

    VmHWM is this process's own high-water mark: unlike ``ru_maxrss`` it does not inherit the
    memory of the process that started this one (the generator, on a first run). It is reset
    before each step, so a step's peak includes what the earlier steps still hold."""

    def __init__(self) -> None:
        self.steps: list[dict[str, float | str]] = []

    def run(self, name: str, fn: Callable[[], object]) -> object:
        reset_high_water_mark()
        start = time.perf_counter()
        result = fn()
        self.steps.append({"step": name, "seconds": time.perf_counter() - start,
                           "peak_mb": status_bytes("VmHWM") / 2**20})
        return result


def measure(variant: str, folder: Path) -> dict:
    """Run one variant in this process: its seconds, its peak (VmHWM, MB), and the same per step."""
    import resource

    steps = Steps()
    if variant == "reference":
        import json as json_module

        import pandas as pd

        files = written_files(folder)
        assert files is not None

        def read_corpus() -> dict:
            with open(folder / files["corpus"]) as handle:
                return json_module.load(handle)

        frame = steps.run("pandas.read_csv", lambda: pd.read_csv(folder / files["csv"]))
        corpus = steps.run("json.load", read_corpus)
        assert len(frame) and len(corpus)
    else:
        from gcl_bench.data import load_split

        target = folder / "no_gt" if variant.startswith("sampled") else folder
        split = steps.run("load_split", lambda: load_split(target, SPLIT, use_cache=True))
        if variant.endswith("columns"):
            steps.run("columns to lists", lambda: [c.tolist() for c in (split.doc_ids, split.doc_titles,
                                                                         split.doc_images)])
        assert split.num_docs and split.num_queries
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": sum(s["seconds"] for s in steps.steps), "peak_mb": max(s["peak_mb"] for s in steps.steps),
            "worker_mb": child, "steps": steps.steps}


def checksum_share(cache: Path, cached_seconds: float, repeat: int) -> None:
    """Time checking every file of the cache (as a cached load does), and other checksums of it."""
    import hashlib
    import zlib

    import xxhash

    from gcl_bench.io import checksum_matches

    files = sorted(p for p in (cache / "data").rglob("*") if p.is_file() and not p.name.endswith(".xxh3"))
    size = sum(p.stat().st_size for p in files)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        assert all(checksum_matches(p) for p in files)
        times.append(time.perf_counter() - start)
    verify = statistics.median(times)
    print(f"checking {len(files)} cache files ({size / 1e6:.0f} MB, page cache): {verify * 1000:.1f} ms, "
          f"{100 * verify / cached_seconds:.0f}% of a cached load")
    data = max(files, key=lambda p: p.stat().st_size).read_bytes()
    for name, digest in (("xxh3_64", xxhash.xxh3_64_hexdigest), ("crc32", zlib.crc32),
                         ("sha256", lambda b: hashlib.sha256(b).hexdigest()),
                         ("blake2b", lambda b: hashlib.blake2b(b).hexdigest())):
        rates = []
        for _ in range(repeat):
            start = time.perf_counter()
            digest(data)
            rates.append(len(data) / (time.perf_counter() - start) / 1e9)
        print(f"  {name:<8} {statistics.median(rates):6.2f} GB/s")


def measure_id_check(folder: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """Median seconds of the corpus parse and of the repeated-id check inside it, per corpus shape.

    The check's own time is summed over its calls (one per slice) in each parse: on a busy machine
    that is steadier than the difference of two parse times.
    """
    import orjson

    from gcl_bench.data import corpus as corpus_reader

    files = written_files(folder)
    assert files is not None
    flat = folder / files["corpus"]
    nested = folder / "corpus_nested.json"
    if not nested.exists():
        entries = orjson.loads(flat.read_bytes())
        for entry in entries.values():
            entry["attributes"] = {"brand": entry.get("brand")}
        nested.write_bytes(orjson.dumps(entries))
        del entries
    check = corpus_reader._merged_id
    spent = [0.0]

    def timed_check(piece: bytes, entries: dict) -> str | None:
        start = time.perf_counter()
        try:
            return check(piece, entries)
        finally:
            spent[0] += time.perf_counter() - start

    out: dict[str, tuple[float, float]] = {}
    corpus_reader._merged_id = timed_check
    try:
        for label, path in (("flat products", flat), ("nested products", nested)):
            parse, checking = [], []
            for _ in range(repeat):
                spent[0] = 0.0
                start = time.perf_counter()
                corpus_reader.read_corpus_json(path, workers=1)
                parse.append(time.perf_counter() - start)
                checking.append(spent[0])
            out[label] = (statistics.median(parse), statistics.median(checking))
    finally:
        corpus_reader._merged_id = check
    return out


def run_variant(variant: str, folder: Path, cache: Path) -> dict[str, float]:
    env = dict(os.environ, GCL_BENCH_CACHE=str(cache))
    scale = ["--quick"] if folder.name == "quick" else []
    out = subprocess.run([sys.executable, __file__, "--measure", variant, "--work-dir", str(folder.parent), *scale],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"variant {variant} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200k rows, 100k products")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = sizes(args.quick)
    scale = "quick" if args.quick else "full"
    folder = (args.work_dir or Path(tempfile.gettempdir()) / "gcl_bench_bench_load") / scale
    if args.measure:
        print(json.dumps(measure(args.measure, folder)))
        return
    if _release_data.written(folder) is None:
        print(f"generating {scale} split in {folder} (once) ...", file=sys.stderr)
    _release_data.ensure(folder, size)
    print(f"split: {size.rows[SPLIT]:,} CSV rows, {size.products:,} products; {args.repeat} runs per variant, "
          "median")
    results: dict[str, list[dict]] = {}
    variants = [("reference", None), ("gt", "cold"), ("gt", "cached"), ("gt", "cached+columns"),
                ("sampled", "cold"), ("sampled", "cached")]
    for _ in range(args.repeat):
        for kind, mode in variants:
            if kind == "reference":
                results.setdefault("reference", []).append(run_variant("reference", folder, Path(tempfile.gettempdir())))
                continue
            name = f"{kind} {mode}"
            cache = folder.parent / f"cache_{scale}_{kind}"
            if mode == "cold":
                shutil.rmtree(cache, ignore_errors=True)
            variant = kind + ("_columns" if mode.endswith("columns") else "")
            results.setdefault(name, []).append(run_variant(variant, folder, cache))
    ref_s = statistics.median(r["seconds"] for r in results["reference"])
    ref_mb = statistics.median(r["peak_mb"] for r in results["reference"])
    print(f"{'variant':<24}{'seconds':>10}{'peak MB':>10}{'worker MB':>10}{'speed-up':>10}{'memory':>9}")
    for name, runs in results.items():
        s = statistics.median(r["seconds"] for r in runs)
        mb = statistics.median(r["peak_mb"] for r in runs)
        worker = statistics.median(r["worker_mb"] for r in runs)
        print(f"{name:<24}{s:>10.3f}{mb:>10.0f}{worker:>10.0f}{ref_s / s:>9.1f}x{mb / ref_mb:>8.2f}x")
        if len(runs[0]["steps"]) > 1:
            for n, step in enumerate(runs[0]["steps"]):
                step_s = statistics.median(r["steps"][n]["seconds"] for r in runs)
                step_mb = statistics.median(r["steps"][n]["peak_mb"] for r in runs)
                print(f"  {step['step']:<22}{step_s:>10.3f}{step_mb:>10.0f}")
    print("speed-up = reference seconds / variant seconds; memory = variant peak / reference peak;")
    print("peak MB = the measuring process's own VmHWM (reset before each step: a step's peak includes what")
    print("the earlier steps still hold); worker MB = ru_maxrss of the corpus worker process, if one ran")
    print("(only when a core is idle; it may include what the measuring process held when starting it)")
    for kind in ("gt", "sampled"):
        cold = statistics.median(r["seconds"] for r in results[f"{kind} cold"])
        cached = statistics.median(r["seconds"] for r in results[f"{kind} cached"])
        print(f"{kind}: cold / cached = {cold / cached:.1f}x (must stay >= 20x)")
    checksum_share(folder.parent / f"cache_{scale}_gt", statistics.median(r["seconds"] for r in results["gt cached"]),
                   args.repeat)
    print(f"\n{'repeated-id check':<24}{'parse s':>10}{'check s':>10}{'share':>9}")
    for label, (parse, checking) in measure_id_check(folder, args.repeat).items():
        print(f"{label:<24}{parse:>10.3f}{checking:>10.4f}{checking / parse:>8.1%}")
    print("the corpus parse alone (one process) and the check's time inside it, medians; share = check / parse")
    if hasattr(os, "getloadavg"):
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
