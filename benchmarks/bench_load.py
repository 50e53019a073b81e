"""Time and peak memory of loading one Marqo-GS split: the reference path against gcl_bench.

The reference path is what the GCL evaluation script does: ``pandas.read_csv`` of the split CSV
and ``json.load`` of the corpus JSON. gcl_bench is measured cold (empty cache: parse, check,
write the columnar cache) and cached (memory-mapped), for a split with a gt file (the usual
case, the CSV is read only when a gt key needs it) and for one without (judgements sampled
from the CSV, which must then be read). "cached + columns" also converts the three document
columns to Python lists, the cost a consumer pays on first use.

Each variant runs in its own subprocess; time is the load call alone (imports excluded), peak
memory is the subprocess's ``ru_maxrss``. The generated split (full scale: 3.93M CSV rows, a
2M-product corpus) is written once into ``--work-dir`` and reused.

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
from pathlib import Path

SPLIT = "in_domain"
WORDS = ("red blue green black white navy olive beige cotton linen wool leather denim silk "
         "shirt dress jacket sneaker boot scarf hat lamp rug vase pillow basket mug chair "
         "vintage modern classic rustic slim oversized floral striped plain waterproof").split()


def written_files(folder: Path) -> dict[str, str] | None:
    """``{"csv": name, "corpus": name}`` of the split :func:`generate` wrote, None if not (yet)
    written. The reference variant opens its files by these names, so that it never imports
    gcl_bench (whose modules would count in its peak memory)."""
    try:
        done = json.loads((folder / "DONE").read_text())
    except (OSError, ValueError):
        return None
    return done.get("files")


def generate(folder: Path, rows: int, products: int, queries: int, judged: int, seed: int = 0) -> None:
    """Write corpus_1.json, the in_domain CSV, its gt/queries files, and a copy without gt."""
    import numpy as np
    import orjson
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from gcl_bench.data import QUERY_SUFFIX
    from gcl_bench.data.files import MarqoFiles

    files = MarqoFiles(folder, SPLIT)
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    words = np.array(WORDS)

    def phrases(n: int, k: int) -> pa.Array:
        cols = [pa.array(words[rng.integers(0, len(words), n)]) for _ in range(k)]
        return pc.binary_join_element_wise(*cols, " ")

    numbers = np.unique(rng.integers(0, 10**9, int(products * 1.01) + 100))[:products]
    rng.shuffle(numbers)
    ids = pc.utf8_lpad(pa.array(numbers.astype(str)), 10, "0")
    titles = pc.binary_join_element_wise(phrases(products, 6), pa.array(np.arange(products).astype(str)), " #")
    shard = pa.array((np.arange(products) % 1000).astype(str))
    images = pc.binary_join_element_wise("/home/ubuntu/marqo-gs/images", shard, pc.binary_join_element_wise(ids, ".jpg", ""), "/")
    t0 = time.time()
    corpus = {i: {"title": t, "image_local": p, "brand": "acme"}
              for i, t, p in zip(ids.to_pylist(), titles.to_pylist(), images.to_pylist())}
    files.corpus.write_bytes(orjson.dumps(corpus))
    del corpus
    print(f"  {files.corpus.name}: {products:,} products ({time.time() - t0:.0f} s)", file=sys.stderr)

    query_texts = pc.binary_join_element_wise(phrases(queries, 3), pa.array(np.arange(queries).astype(str)), " ")
    q_of_row = np.sort(rng.integers(0, queries, rows))
    doc_of_row = rng.integers(0, products, rows)
    position = np.ones(rows, dtype=np.int64)
    starts = np.r_[0, np.nonzero(np.diff(q_of_row))[0] + 1]
    position = np.arange(rows) - np.repeat(starts, np.diff(np.r_[starts, rows])) + 1
    score_linear = np.maximum(0.0, 100.0 - position) + rng.random(rows)
    table = pa.table({
        "query": pc.take(query_texts, pa.array(q_of_row)),
        "product_id": pc.take(ids, pa.array(doc_of_row)),
        "position": pa.array(position),
        "title": pc.take(titles, pa.array(doc_of_row)),
        "pair_id": pa.array(np.arange(rows).astype(str)),
        "score_linear": pa.array(score_linear),
        "score_reciprocal": pa.array(1.0 / position),
        "no_score": pa.array(np.ones(rows)),
        "query_id": pa.array(q_of_row.astype(str)),
        "image_local": pc.take(images, pa.array(doc_of_row)),
    })
    pacsv.write_csv(table, files.csv)
    print(f"  {files.csv.name}: {rows:,} rows", file=sys.stderr)
    chosen = set(rng.choice(queries, size=min(judged, queries), replace=False).tolist())
    mask = np.isin(q_of_row, list(chosen))
    gt: dict[str, dict[str, int]] = {}
    texts = query_texts.to_pylist()
    for q, doc, score in zip(q_of_row[mask].tolist(), pc.take(ids, pa.array(doc_of_row[mask])).to_pylist(),
                             score_linear[mask].tolist()):
        gt.setdefault(texts[q] + QUERY_SUFFIX, {})[doc] = int(score)
    files.gt("test").write_bytes(orjson.dumps(gt))
    files.queries.write_bytes(orjson.dumps(texts))
    nogt = folder / "no_gt"
    nogt.mkdir(exist_ok=True)
    for path in (files.corpus, files.csv):
        if not (nogt / path.name).exists():
            os.link(path, nogt / path.name)
    written = {"csv": files.csv.name, "corpus": files.corpus.name}
    (folder / "DONE").write_text(json.dumps({"rows": rows, "products": products, "files": written}))


def measure(variant: str, folder: Path) -> dict[str, float]:
    """Run one variant in this process; return seconds and peak RSS (MB)."""
    import resource

    if variant == "reference":
        import json as json_module

        import pandas as pd

        files = written_files(folder)
        assert files is not None
        start = time.perf_counter()
        frame = pd.read_csv(folder / files["csv"])
        with open(folder / files["corpus"]) as handle:
            corpus = json_module.load(handle)
        seconds = time.perf_counter() - start
        assert len(frame) and len(corpus)
    else:
        from gcl_bench.data import load_split

        target = folder / "no_gt" if variant.startswith("sampled") else folder
        start = time.perf_counter()
        split = load_split(target, SPLIT, use_cache=True)
        if variant.endswith("columns"):
            for column in (split.doc_ids, split.doc_titles, split.doc_images):
                column.tolist()
        seconds = time.perf_counter() - start
        assert split.num_docs and split.num_queries
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak, "worker_mb": child}


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
    rows, products, queries, judged = (200_000, 100_000, 5_000, 500) if args.quick else (3_930_000, 2_000_000, 98_000, 2_000)
    scale = "quick" if args.quick else "full"
    folder = (args.work_dir or Path(tempfile.gettempdir()) / "gcl_bench_bench_load") / scale
    if args.measure:
        print(json.dumps(measure(args.measure, folder)))
        return
    if written_files(folder) is None:
        print(f"generating {scale} split in {folder} (once) ...", file=sys.stderr)
        generate(folder, rows, products, queries, judged)
    print(f"split: {rows:,} CSV rows, {products:,} products; {args.repeat} runs per variant, median")
    results: dict[str, list[dict[str, float]]] = {}
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
    print("speed-up = reference seconds / variant seconds; memory = variant peak / reference peak;")
    print("worker MB = peak of the corpus worker process, if one ran (only when a core is idle)")
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
