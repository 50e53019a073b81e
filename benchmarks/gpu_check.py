"""The steps of ``benchmarks/gpu_check.sh``: the GPU paths checked against the CPU paths, and timed.

    python benchmarks/gpu_check.py sample|synthetic|encode|search|torchrun [--cpu]

- ``sample``: ``gcl-bench run --model sample-gcl --split all`` on the CPU, then on CUDA reading the
  CPU run's embeddings from the cache (fp32 both), so search and scoring are what differ:
  metrics and ranked lists must agree; then a fresh CUDA encode with AMP, for information.
- ``synthetic``: flat search of 200k documents x 2,000 queries (dim 512, top-1000) on CUDA
  against the CPU path: a float corpus (lists may differ only where two scores are within float32
  rounding of each other, "near ties"), an exact-arithmetic corpus (small multiples of 1/4: every
  inner product is exact on both devices, so lists must be identical, ties included), the corpus
  split into two shards on the same GPU, and the metrics of random graded judgements.
- ``encode``: ViT-B-32 (random init, AMP) image encoding from JPEG files through the adapter's
  pipeline (``--decode cpu`` with N workers, ``--decode gpu``) against the model alone on ready
  tensors, images/s; and how far the gpu decoder's pixels and embeddings are from the cpu one's.
- ``search``: flat search queries/s on 2M x 512 float16 (top-1000) against a plain matrix-product
  floor over the same corpus on the GPU (float32 arithmetic, as the search) and an fp16 one.
- ``torchrun``: ``torchrun --nproc-per-node 2`` on one GPU equals one process (run.json, metrics),
  on 40k synthetic titles (three cache shards, so both ranks encode).

``--cpu`` runs every step on the CPU at tiny sizes (the script's own test); a step prints PASS or
FAIL lines and exits 1 when a check fails.
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
from typing import Any

import numpy as np

NEAR_TIE = 1e-5
"""Two scores of unit vectors this close may swap between devices (float32 sums in another order)."""

FAILED: list[str] = []


def verdict(ok: bool, what: str) -> None:
    print(f"  {'PASS' if ok else 'FAIL'}: {what}", flush=True)
    if not ok:
        FAILED.append(what)


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn: Any, repeats: int, device: str) -> float:
    """Median wall seconds of ``fn()`` (device synchronised)."""
    times = []
    for _ in range(repeats):
        sync(device)
        started = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def compare_lists(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> dict[str, int]:
    """How two searches' ranked lists differ: identical, only near ties swapped, or otherwise."""
    (scores_a, rows_a), (scores_b, rows_b) = a, b
    differs = (rows_a != rows_b).any(axis=1)
    close = (np.abs(np.nan_to_num(scores_a - scores_b, nan=0.0)) <= NEAR_TIE).all(axis=1)
    equal_scores = (scores_a == scores_b) | (np.isneginf(scores_a) & np.isneginf(scores_b))
    return {
        "lists": int(len(rows_a)),
        "identical": int((~differs & equal_scores.all(axis=1)).sum()),
        "same order, scores within float32 rounding": int((~differs & ~equal_scores.all(axis=1)).sum()),
        "near ties swapped": int((differs & close).sum()),
        "other differences": int((differs & ~close).sum()),
    }


def run_dict_lists(run: dict[str, dict[str, float]], qids: list[str], codes: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """run.json as (scores, doc-id codes) arrays for :func:`compare_lists` (``codes`` shared)."""
    width = max(len(run.get(q, {})) for q in qids)
    scores = np.full((len(qids), width), -np.inf)
    rows = np.full((len(qids), width), -1)
    for i, q in enumerate(qids):
        for j, (doc, score) in enumerate(run.get(q, {}).items()):
            rows[i, j] = codes.setdefault(doc, len(codes))
            scores[i, j] = score
    return scores, rows


# -- sample -------------------------------------------------------------------------------------
def fresh_cache(folder: Path) -> Path:
    """An empty gcl_bench cache folder holding only the bundled sample (built once, then copied).

    The sample is built in ``$GPU_CHECK_SAMPLE_CACHE`` (gpu_check.sh shares one between steps).
    """
    built = Path(os.environ.get("GPU_CHECK_SAMPLE_CACHE") or folder.parent / "sample_cache")
    if not (built / "sample").is_dir():
        subprocess.run([sys.executable, "-c", "from gcl_bench.data.sample import default_sample_dir; "
                        "default_sample_dir()"], env={**os.environ, "GCL_BENCH_CACHE": str(built)}, check=True)
    shutil.copytree(built / "sample", folder / "sample")
    return folder


def gcl_bench(args: list[str], cache: Path, torchrun: int = 0) -> None:
    prefix = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(torchrun)] \
        if torchrun else [sys.executable]
    done = subprocess.run([*prefix, "-m", "gcl_bench", *args, "-q"], capture_output=True, text=True,
                          env={**os.environ, "GCL_BENCH_CACHE": str(cache)})
    if done.returncode != 0:
        sys.exit(f"gcl-bench {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")


def compare_outputs(name: str, one: Path, two: Path, tolerance: float) -> None:
    res_a, res_b = (json.loads((p / "results.json").read_text()) for p in (one, two))
    run_a, run_b = (json.loads((p / "run.json").read_text()) for p in (one, two))
    worst = max(abs(res_a["metrics"][m] - res_b["metrics"][m]) for m in res_a["metrics"])
    qids = list(run_a)
    codes: dict[str, int] = {}
    lists = compare_lists(run_dict_lists(run_a, qids, codes), run_dict_lists(run_b, qids, codes))
    print(f"  {name}: metrics identical: {res_a['metrics'] == res_b['metrics']} (max |diff| {worst:.2e}); "
          f"run.json identical: {run_a == run_b}; lists {lists}")
    verdict(worst <= tolerance and lists["other differences"] == 0,
            f"{name}: metrics within {tolerance:g}, lists differ at most by near ties")


def step_sample(device: str, tiny: bool, work: Path) -> None:
    cache = fresh_cache(work / "cache")
    splits = "zero_shot" if tiny else "all"
    base = ["run", "--model", "sample-gcl", "--split", splits, "--precision", "fp32"]
    gcl_bench([*base, "--device", "cpu", "--output-dir", str(work / "cpu")], cache)
    gcl_bench([*base, "--device", device, "--output-dir", str(work / "dev")], cache)
    gcl_bench(["run", "--model", "sample-gcl", "--split", "zero_shot", "--device", device, "--no-cache",
               "--output-dir", str(work / "amp")], cache)
    names = ["zero_shot"] if tiny else ["in_domain", "novel_query", "novel_document", "zero_shot"]
    for split in names:
        one, two = (work / side / ("" if tiny else split) for side in ("cpu", "dev"))
        hit = json.loads((two / "results.json").read_text())["cache"]["embeddings"]["hit"]
        print(f"  {split}: the {device} run read the CPU run's embeddings from the cache: {hit}")
        compare_outputs(f"{split} search+score {device} vs cpu", one, two, 1e-6)
    fresh = json.loads((work / "amp" / "results.json").read_text())["metrics"]
    cpu_metrics = json.loads((work / "cpu" / ("" if tiny else "zero_shot") / "results.json").read_text())["metrics"]
    worst = max(abs(fresh[m] - cpu_metrics[m]) for m in fresh)
    print(f"  zero_shot: a fresh {device} encode (default precision) vs the CPU's: max |metric diff| "
          f"{worst:.2e} (information: AMP changes the embeddings)")


# -- synthetic ----------------------------------------------------------------------------------
def unit_rows(rng: np.random.Generator, n: int, dim: int, centres: np.ndarray) -> np.ndarray:
    rows = centres[rng.integers(0, len(centres), n)] + 0.8 * rng.standard_normal((n, dim), dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def flat_search(docs: np.ndarray, queries: np.ndarray, k: int, devices: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Flat search on ``devices`` (GPUs through build_index; CPU "devices" through the shard code)."""
    from gcl_bench.index import build_index, gpu, search

    if devices[0].startswith("cuda") and len(devices) == 1:
        return search(build_index(docs, device=devices[0]), queries, k)
    out = (np.empty((len(queries), k), np.float32), np.empty((len(queries), k), np.int64))
    gpu.search_shards(gpu.make_shards(docs, devices), docs, queries, k, *out)
    return out


def step_synthetic(device: str, tiny: bool, work: Path) -> None:
    from gcl_bench.index import build_index, search
    from gcl_bench.metrics import DEFAULT_METRICS, JudgedRun

    n, nq, dim, k = (5000, 100, 64, 100) if tiny else (200_000, 2000, 512, 1000)
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1000, dim), dtype=np.float32)
    docs, queries = unit_rows(rng, n, dim, centres), unit_rows(rng, nq, dim, centres)
    cpu = search(build_index(docs, device="cpu"), queries, k)
    on_device = flat_search(docs, queries, k, [device])
    lists = compare_lists(cpu, on_device)
    print(f"  float corpus {n:,} x {dim}, {nq:,} queries, top-{k}: {lists}")
    verdict(lists["other differences"] == 0, f"float corpus: {device} lists equal the CPU's up to near ties")
    two = compare_lists(cpu, flat_search(docs, queries, k, [device, device]))
    verdict(two["other differences"] == 0, "float corpus: two shards on one device equal the CPU up to near ties")

    doc_ids = [f"d{i}" for i in range(n)]
    qids = [f"q{i}" for i in range(nq)]
    qrels = {}
    for q in range(nq):
        judged = np.concatenate([rng.choice(cpu[1][q, :100], 10, replace=False), rng.choice(n, 10, replace=False)])
        qrels[qids[q]] = {doc_ids[d]: int(g) for d, g in zip(judged, rng.integers(1, 4, len(judged)))}
    means = [JudgedRun.from_arrays(qrels, qids, doc_ids, rows, scores).compute(DEFAULT_METRICS).means
             for scores, rows in (cpu, on_device)]
    worst = max(abs(means[0][m] - means[1][m]) for m in means[0])
    print(f"  metrics of random judgements: identical {means[0] == means[1]}, max |diff| {worst:.2e}")
    verdict(worst <= 1e-6, "float corpus: metrics equal within 1e-6")

    exact_docs = (rng.integers(-3, 4, (n, dim)) / 4).astype(np.float32)
    exact_queries = (rng.integers(-3, 4, (nq, dim)) / 4).astype(np.float32)
    want = search(build_index(exact_docs, device="cpu"), exact_queries, k)
    got = flat_search(exact_docs, exact_queries, k, [device])
    tied = int((np.diff(want[0], axis=1) == 0).any(axis=1).sum())
    lists = compare_lists(want, got)
    print(f"  exact-arithmetic corpus: {tied}/{nq} lists hold tied scores; {lists}")
    verdict(lists["identical"] == nq, "exact corpus: lists identical to the CPU's, ties included")
    verdict(compare_lists(want, flat_search(exact_docs, exact_queries, k, [device] * 3))["identical"] == nq,
            "exact corpus: three shards on one device merge to the CPU lists")


# -- encode -------------------------------------------------------------------------------------
def _write_jpeg(job: tuple[int, str]) -> str:
    from PIL import Image

    i, folder = job
    rng = np.random.default_rng(i)
    h, w = int(rng.integers(256, 500)), int(rng.integers(256, 500))
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(x / (9 + i % 13)) * 90 + 128, np.cos(y / 21) * 90 + 128, (x + y + i) % 256], -1)
    pixels = np.clip(base + rng.integers(-25, 25, (h, w, 3)), 0, 255).astype("uint8")
    path = f"{folder}/{i:05d}.jpg"
    Image.fromarray(pixels).save(path, quality=90)
    return path


def adapter(arch: str, device: str, workers: int, decode: str) -> Any:
    from gcl_bench.models.images import TensorPreprocess
    from gcl_bench.models.openclip import OpenClipRetriever

    if device.startswith("cuda"):
        return OpenClipRetriever(arch, device=device, num_workers=workers, decode=decode)
    model = OpenClipRetriever(arch, device=device, num_workers=workers)
    if decode == "gpu":  # the gpu decoder's code path on the CPU (--cpu only)
        model.decode, model.device_preprocess = "gpu", TensorPreprocess.from_transform(model.preprocess)
    return model


def step_encode(device: str, tiny: bool, work: Path) -> None:
    from multiprocessing import Pool

    arch, n, batch = ("gcl-tiny", 64, 32) if tiny else ("ViT-B-32", 4096, 256)
    cores = os.cpu_count() or 1
    (work / "jpeg").mkdir()
    with Pool(cores) as pool:  # before torch starts any thread in this process
        paths = pool.map(_write_jpeg, [(i, str(work / "jpeg")) for i in range(n)])

    import torch

    from gcl_bench.models.base import autocast

    model = adapter(arch, device, 0, "cpu")
    size = model.model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    ready = torch.randn(batch, 3, size, size, device=device)

    def model_alone() -> None:
        with torch.inference_mode(), autocast(model.device, model.precision):
            for _ in range(max(1, n // batch)):
                model.model.encode_image(ready)

    model_alone()  # warm-up
    alone = max(1, n // batch) * batch / timed(model_alone, 3, device)
    print(f"  {arch} {model.precision} on {device}, model alone on ready tensors: {alone:,.0f} images/s")
    workers = sorted({min(4, cores), min(16, cores)})
    rows = []
    for decode in ("cpu", "gpu"):
        for w in workers:
            encoder = adapter(arch, device, w, decode)
            encoder.encode_field("doc", "image", paths[: 2 * batch], batch)  # warm-up
            seconds = timed(lambda enc=encoder: enc.encode_field("doc", "image", paths, batch), 2, device)
            rows.append((decode, w, n / seconds))
            print(f"  pipeline --decode {decode} --num-workers {w:<2}: {n / seconds:8,.0f} images/s "
                  f"({n / seconds / alone:.2f} of the model alone)", flush=True)
    from gcl_bench.models.images import iter_image_batches, load_image

    gpu_model = adapter(arch, device, 0, "gpu")
    sample = paths[: min(n, 64)]
    cpu_pixels = torch.stack([load_image(p, model.preprocess) for p in sample])
    gpu_pixels = torch.cat([px.cpu() for px, _ in iter_image_batches(
        sample, gpu_model.device_preprocess, 32, decode="gpu", device=device)])
    std = torch.tensor(model.preprocess.transforms[-1].std).view(1, 3, 1, 1)
    levels = ((gpu_pixels - cpu_pixels) * std * 255).abs()
    a = model.encode_field("doc", "image", sample, 32)
    b = gpu_model.encode_field("doc", "image", sample, 32)
    cosine = (a * b).sum(axis=1)
    print(f"  --decode gpu vs cpu on {len(sample)} images: pixels differ by max {levels.max():.1f}, mean "
          f"{levels.mean():.3f} levels; embedding cosine min {cosine.min():.6f}")
    verdict(cosine.min() > 0.999, "--decode gpu embeddings agree with --decode cpu (cosine > 0.999)")


# -- search -------------------------------------------------------------------------------------
def step_search(device: str, tiny: bool, work: Path) -> None:
    import torch

    from gcl_bench.index import build_index, search

    n, nq, dim, k = (20_000, 100, 64, 100) if tiny else (2_000_000, 2000, 512, 1000)
    generator = torch.Generator(device=device).manual_seed(0)
    on_device = torch.randn(n, dim, device=device, generator=generator)
    on_device = torch.nn.functional.normalize(on_device, dim=1).half()
    docs = on_device.cpu().numpy()
    queries = torch.nn.functional.normalize(torch.randn(nq, dim, device=device, generator=generator), dim=1)
    queries_np = queries.cpu().numpy()
    started = time.perf_counter()
    index = build_index(docs, device=device)
    build = time.perf_counter() - started
    search(index, queries_np[:8], k)  # warm-up (kernels, allocator)
    seconds = timed(lambda: search(index, queries_np, k), 3, device)
    block = 65_536
    out = torch.empty(nq, block, device=device)

    def floor(dtype: Any) -> None:
        q = queries.to(dtype)
        buffer = out if dtype == torch.float32 else torch.empty(nq, block, device=device, dtype=dtype)
        for start in range(0, n, block):
            chunk = on_device[start : start + block].to(dtype)
            torch.mm(q, chunk.T, out=buffer[:, : len(chunk)])

    floor(torch.float32)
    t32 = timed(lambda: floor(torch.float32), 3, device)
    t16 = timed(lambda: floor(torch.float16), 3, device) if device.startswith("cuda") else float("nan")
    print(f"  {n:,} x {dim} float16, {nq:,} queries, top-{k} on {device} ({index.describe().get('backend', 'cpu')}; "
          f"index built in {build:.2f} s)")
    print(f"  flat search          {nq / seconds:10,.0f} queries/s  ({seconds:.3f} s, {seconds / t32:.2f}x the fp32 floor)")
    print(f"  floor, fp32 products {nq / t32:10,.0f} queries/s  ({t32:.3f} s: the search's arithmetic, no selection)")
    print(f"  floor, fp16 products {nq / t16:10,.0f} queries/s  ({t16:.3f} s: tensor cores, for reference)")


# -- torchrun -----------------------------------------------------------------------------------
def step_torchrun(device: str, tiny: bool, work: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_torchrun import write_corpus

    # more documents than one cache shard (16,384), so that both ranks encode
    write_corpus(work / "data", 20_000 if tiny else 40_000, 200 if tiny else 500)
    base = ["run", "--model", "open_clip:gcl-tiny", "--doc-fields", "title:1", "--data-dir", str(work / "data"),
            "--split", "zero_shot", "--device", device, "--batch-size", "256"]
    gcl_bench([*base, "--output-dir", str(work / "one")], work / "cache_one")
    gcl_bench([*base, "--output-dir", str(work / "two")], work / "cache_two", torchrun=2)
    two = json.loads((work / "two" / "results.json").read_text())
    encode = two["retrieval"]["encode"]
    print(f"  torchrun: world size {encode['distributed']['world_size']}, "
          f"items encoded {encode['cache']['items_encoded']}")
    verdict(encode["distributed"]["world_size"] == 2, "torchrun ran 2 ranks")
    compare_outputs("torchrun x2 vs one process", work / "one", work / "two", 0.0)
    same = (work / "one" / "run.json").read_bytes() == (work / "two" / "run.json").read_bytes()
    verdict(same, "torchrun x2 run.json identical to one process")


STEPS = {"sample": step_sample, "synthetic": step_synthetic, "encode": step_encode,
         "search": step_search, "torchrun": step_torchrun}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=list(STEPS))
    parser.add_argument("--cpu", action="store_true", help="on the CPU at tiny sizes (the script's own test)")
    args = parser.parse_args(argv)
    device = "cpu" if args.cpu else "cuda"
    work = Path(tempfile.mkdtemp(prefix=f"gcl_bench_gpu_check_{args.step}_"))
    FAILED.clear()
    started = time.perf_counter()
    try:
        STEPS[args.step](device, args.cpu, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"  ({args.step}: {time.perf_counter() - started:.1f} s)", flush=True)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
