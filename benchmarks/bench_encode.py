"""Encoding throughput: the CPU data pipeline, full encodes, and a cache-hit run.

Measured, each as items/s (median of ``--repeat`` runs):

1. the data pipeline alone (no model): tokenising titles, and decoding + preprocessing product
   images (JPEG, 256-400 px, into the 224 px ViT-B-32 input) through the DataLoader with 0, 1
   and 2 worker processes; gcl_bench's pipeline (batched tokenisation; decode + preprocess in
   workers, undecodable images skipped) against the GCL reference evaluation's way (one
   tokeniser call per item inside ``Dataset.__getitem__``, default collate); and the
   ``--decode gpu`` pipeline (workers read bytes; decode and tensor transforms on this
   machine's device: the GPU when there is one, else the CPU);
2. a full document encode (image 0.9 + title 0.1) with the tiny ``gcl-tiny`` architecture and,
   for a small batch, a randomly initialised real-size ``ViT-B-32``, on this machine's device
   (CUDA with AMP when present, else CPU fp32);
3. ``gcl_bench.encode.encode_split`` on the bundled sample benchmark with an empty embedding
   cache, then again with the cache filled (no forward pass), with ``gcl-tiny``;
4. the cache-hit read at scale: :meth:`CacheEntry.load` of a large entry (shards checked against
   their checksums as they are read) against plain ``np.load`` + concatenate of the same shards
   (the hit path without checksums); ``--cache-only`` runs this part alone.

    python benchmarks/bench_encode.py [--quick] [--repeat N] [--workers 0,1,2] [--cache-only]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _release_data import WORDS


def make_inputs(folder: Path, n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` product-like titles and JPEG images (varied sizes, noisy content)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    titles = [" ".join(rng.choice(WORDS, size=int(rng.integers(6, 14)))) for _ in range(n)]
    paths = []
    for i in range(n):
        h, w = int(rng.integers(256, 400)), int(rng.integers(256, 400))
        base = rng.integers(0, 255, size=3)
        noise = rng.integers(-40, 40, size=(h, w, 3))
        pixels = np.clip(base + noise, 0, 255).astype("uint8")
        path = folder / f"{i:05d}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(str(path))
    return titles, paths


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class ReferenceStyleDataset:
    """The GCL reference evaluation's per-item pipeline, written from its description:
    one tokeniser call per title and ``preprocess(Image.open(path))`` per image in ``__getitem__``.
    """

    def __init__(self, titles, paths, tokenizer, preprocess, context_length):
        self.titles, self.paths = titles, paths
        self.tokenizer, self.preprocess, self.context_length = tokenizer, preprocess, context_length

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        from PIL import Image

        image = self.preprocess(Image.open(self.paths[i]))
        tokens = self.tokenizer([self.titles[i]], context_length=self.context_length)[0]
        return [image, tokens]


def cache_read_rows(rows: int, dim: int, repeat: int) -> list[tuple[str, float, float | None]]:
    """Section 4: rows/s of a verified cache-entry load against plain np.load of its shards."""
    import numpy as np

    from gcl_bench.encode.cache import EmbeddingCache, cache_key

    work = Path(tempfile.mkdtemp(prefix="gcl_bench_cache_read_"))
    try:
        key = cache_key(model="bench", side="doc", field="image", settings={}, dtype="float16", count=rows,
                        items_hash="bench")
        entry = EmbeddingCache(work).entry(key, shard_size=16_384)
        entry.create()
        rng = np.random.default_rng(0)
        for shard in range(entry.num_shards):
            start, stop = entry.shard_rows(shard)
            entry.write_shard(shard, rng.standard_normal((stop - start, dim), dtype=np.float32))
        entry.load()  # fills the page cache, marks the entry complete

        def plain() -> None:
            parts = [np.load(entry.shard_path(s), mmap_mode="r") for s in range(entry.num_shards)]
            np.concatenate(parts, axis=0)

        t_plain = timed(plain, repeat)
        t_checked = timed(entry.load, repeat)
        assert not entry.repaired
        size = f"{rows} x {dim} float16, {rows * dim * 2 / 1e6:.0f} MB"
        return [(f"cache read {size}: np.load, no checksum", rows / t_plain, None),
                (f"cache read {size}: CacheEntry.load, checked", rows / t_checked, t_plain / t_checked)]
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def print_rows(rows: list[tuple[str, float, float | None]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'items/s':>10}  {'vs ref':>8}")
    for label, rate, ratio in rows:
        print(f"{label:<{width}}  {rate:>10.1f}  {'' if ratio is None else f'{ratio:>7.2f}x'}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Small inputs, one repeat.")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--items", type=int, default=None, help="Images/titles in the pipeline runs.")
    parser.add_argument("--workers", default="0,1,2")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--cache-only", action="store_true", help="Only section 4 (the cache read at scale).")
    args = parser.parse_args()
    n = args.items or (96 if args.quick else 512)
    repeat = args.repeat or (1 if args.quick else 3)
    workers = [int(w) for w in args.workers.split(",")]
    cache_rows = (50_000 if args.quick else 400_000, 512)
    if args.cache_only:
        print(f"# bench_encode section 4, median of {max(repeat, 3)}")
        print_rows(cache_read_rows(*cache_rows, max(repeat, 3)))
        return

    import open_clip
    import torch
    from torch.utils.data import DataLoader

    from gcl_bench.models.images import iter_image_batches
    from gcl_bench.models.openclip import OpenClipRetriever, register_model_configs

    register_model_configs()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"# bench_encode: {n} items, batch {args.batch_size}, median of {repeat}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, device {device}")
    work = Path(tempfile.mkdtemp(prefix="gcl_bench_encode_"))
    t0 = time.perf_counter()
    (work / "images").mkdir()
    titles, paths = make_inputs(work / "images", n)
    print(f"# inputs written in {time.perf_counter() - t0:.1f} s ({work})")

    _, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None, pretrained_text=False)
    tokenizer = open_clip.get_tokenizer("ViT-B-32")
    rows: list[tuple[str, float, float | None]] = []

    # 1. data pipeline --------------------------------------------------------------------------
    def tokenise_batched() -> None:
        for start in range(0, n, args.batch_size):
            tokenizer(titles[start:start + args.batch_size], context_length=77)

    def tokenise_per_item() -> None:
        for title in titles:
            tokenizer([title], context_length=77)

    t_ref = timed(tokenise_per_item, repeat)
    t_ours = timed(tokenise_batched, repeat)
    rows.append(("tokenise titles: per item (reference)", n / t_ref, None))
    rows.append(("tokenise titles: batched (gcl_bench)", n / t_ours, t_ref / t_ours))

    for w in workers:
        def ours(w: int = w) -> None:
            for _ in iter_image_batches(paths, preprocess, args.batch_size, num_workers=w):
                pass

        def reference(w: int = w) -> None:
            dataset = ReferenceStyleDataset(titles, paths, tokenizer, preprocess, 77)
            for _ in DataLoader(dataset, batch_size=args.batch_size, num_workers=w):
                pass

        def tensor_path(w: int = w) -> None:
            for _ in iter_image_batches(paths, preprocess, args.batch_size, num_workers=w,
                                        decode="gpu", device=device):
                pass

        t_ref = timed(reference, repeat)
        t_ours = timed(ours, repeat)
        t_tensor = timed(tensor_path, repeat)
        rows.append((f"decode+preprocess+tokenise, {w} workers (reference)", n / t_ref, None))
        rows.append((f"decode+preprocess, {w} workers (gcl_bench)", n / t_ours, t_ref / t_ours))
        rows.append((f"decode+preprocess, {w} workers, --decode gpu path on {device}", n / t_tensor,
                     t_ref / t_tensor))

    # 2. full encodes ---------------------------------------------------------------------------
    corpus = [{"id": str(i), "title": t, "image": p} for i, (t, p) in enumerate(zip(titles, paths))]
    best_workers = max(workers)
    tiny = OpenClipRetriever("gcl-tiny", device=device, num_workers=best_workers)
    t = timed(lambda: tiny.encode_corpus(corpus, batch_size=args.batch_size), repeat)
    rows.append((f"encode docs gcl-tiny image+title, {best_workers} workers, {device}", n / t, None))
    small = corpus[: min(len(corpus), 64 if device == "cpu" else len(corpus))]
    vit = OpenClipRetriever("ViT-B-32", device=device, num_workers=best_workers)
    t = timed(lambda: vit.encode_corpus(small, batch_size=args.batch_size), repeat)
    rows.append((f"encode docs ViT-B-32 image+title ({len(small)} docs), {device} {vit.precision}",
                 len(small) / t, None))
    t = timed(lambda: vit.encode_field("query", "text", titles[:len(small)], args.batch_size), repeat)
    rows.append((f"encode queries ViT-B-32 text ({len(small)}), {device} {vit.precision}", len(small) / t, None))

    # 3. cache-hit run ----------------------------------------------------------------------------
    try:
        from gcl_bench.data import load_split
        from gcl_bench.encode import encode_split
    except ImportError as err:  # pragma: no cover - older checkout
        print(f"# encode_split unavailable ({err}); skipping the cache run")
    else:
        split = load_split(split="zero_shot")
        items = split.num_docs + split.num_queries
        cache_root = work / "embeddings"
        start = time.perf_counter()
        encode_split(tiny, split, batch_size=args.batch_size, cache=True, cache_root=cache_root)
        cold = time.perf_counter() - start
        hit = timed(lambda: encode_split(tiny, split, batch_size=args.batch_size, cache=True,
                                         cache_root=cache_root), repeat)
        rows.append((f"encode_split sample zero_shot, empty cache ({items} items)", items / cold, None))
        rows.append((f"encode_split sample zero_shot, cache hit ({hit * 1000:.0f} ms)", items / hit, cold / hit))

    rows.extend(cache_read_rows(*cache_rows, repeat))
    print_rows(rows)
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
