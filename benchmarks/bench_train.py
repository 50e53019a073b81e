"""Training-step throughput (samples/s) of the GCL trainer against open_clip's ClipLoss.

One step = encode a batch (query text; document image + title), loss, backward, AdamW step, on
the same synthetic batch for every variant, in one process (the gathered variants in 2 gloo
processes, each with its own batch: samples/s counts both). Variants:

- ``open_clip ClipLoss``: the peer, the loss open_clip trains CLIP with
- ``GCL psi=none`` / ``GCL psi=linear``: this project's loss, unweighted and weighted
- ``+ mask_duplicates``: the same product/query twice in a batch masked out of the softmax
- ``gather (2 ranks)``: global negatives across 2 CPU processes, ClipLoss(local_loss,
  gather_with_grad) against GCLLoss(gather=True)

    python benchmarks/bench_train.py [--quick] [--arch gcl-tiny] [--batch-size 64] [--device cpu]

Prints the median step time and samples/s of each, and the ratio to ClipLoss. On a GPU
(``--device cuda --arch ViT-B-32``) the step runs under float16 autocast with a GradScaler.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
from typing import Any

import torch


def _batch(model: Any, tokenizer: Any, batch_size: int, seed: int) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(seed)
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    words = ["red", "blue", "wool", "cotton", "lamp", "shoe", "vase", "vintage", "modern", "rug"]
    texts = [" ".join(words[int(i)] for i in torch.randint(0, len(words), (4,), generator=gen))
             for _ in range(batch_size)]
    # about one pair in eight repeats a product and one in eight a query, as in grouped batches
    doc_ids, query_ids = torch.arange(batch_size), torch.arange(batch_size)
    doc_ids[::8] = (doc_ids[::8] + 1).clamp(max=batch_size - 1)
    query_ids[4::8] = (query_ids[4::8] + 1).clamp(max=batch_size - 1)
    return {
        "query": tokenizer(texts), "title": tokenizer(texts[::-1]),
        "image": torch.randn(batch_size, 3, size, size, generator=gen),
        "present": {"image": torch.ones(batch_size, dtype=torch.bool),
                    "title": torch.ones(batch_size, dtype=torch.bool)},
        "scores": torch.rand(batch_size, generator=gen) * 99 + 1,
        "query_ids": query_ids, "doc_ids": doc_ids,
    }


def _step_fn(variant: str, model: Any, batch: dict[str, Any], device: torch.device,
             rank: int = 0, world: int = 1) -> Any:
    from open_clip.loss import ClipLoss

    from gcl_bench.train.losses import GCLLoss
    from gcl_bench.train.model import DualEncoder
    from gcl_bench.train.optim import make_optimizer

    encoder = DualEncoder(model, {"text": 1.0}, {"image": 0.9, "title": 0.1})
    if world > 1:
        encoder = torch.nn.parallel.DistributedDataParallel(encoder)
    optimizer = make_optimizer(model, 1e-5, 0.2)
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    gathered = world > 1
    if variant == "clip":
        loss_fn: Any = ClipLoss(local_loss=gathered, gather_with_grad=gathered, rank=rank,
                                world_size=world)
    else:
        psi = "none" if variant == "gcl-none" else "linear"
        loss_fn = GCLLoss(psi=psi, mask_duplicates=variant == "gcl-mask", gather=gathered,
                          score_max=100.0)
    moved = {k: (v.to(device) if torch.is_tensor(v) else {f: t.to(device) for f, t in v.items()})
             for k, v in batch.items()}

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
            queries, docs, scale = encoder({"text": moved["query"]},
                                           {"image": moved["image"], "title": moved["title"]},
                                           moved["present"])
        if variant == "clip":
            loss = loss_fn(docs.float(), queries.float(), scale.float())
        else:
            loss = loss_fn(queries.float(), docs.float(), scale.float(), moved["scores"],
                           query_ids=moved["query_ids"], doc_ids=moved["doc_ids"])
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if device.type == "cuda":
            torch.cuda.synchronize()

    return step


def _time(step: Any, warmup: int, repeats: int) -> list[float]:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def _model(arch: str, device: torch.device) -> tuple[Any, Any]:
    import open_clip

    from gcl_bench.models.openclip import register_model_configs

    register_model_configs()
    torch.manual_seed(0)
    model, _, _ = open_clip.create_model_and_transforms(arch)
    return model.to(device).train(), open_clip.get_tokenizer(arch)


def _gather_worker(rank: int, world: int, port: int, args: argparse.Namespace, variant: str,
                   out: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        model, tokenizer = _model(args.arch, torch.device("cpu"))
        step = _step_fn(variant, model, _batch(model, tokenizer, args.batch_size, seed=rank),
                        torch.device("cpu"), rank, world)
        times = _time(step, args.warmup, args.repeats)
        dist.barrier()
        if rank == 0:
            torch.save(times, out)
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Few repeats (a smoke run).")
    parser.add_argument("--arch", default="gcl-tiny")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-gather", action="store_true", help="Skip the 2-process variants.")
    args = parser.parse_args()
    args.warmup, args.repeats = (2, 5) if args.quick else (5, 30)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model, tokenizer = _model(args.arch, device)
    batch = _batch(model, tokenizer, args.batch_size, seed=0)
    initial = {k: v.clone() for k, v in model.state_dict().items()}

    rows: list[tuple[str, float, float]] = []
    labels = {"clip": "open_clip ClipLoss", "gcl-none": "GCL psi=none", "gcl-linear": "GCL psi=linear",
              "gcl-mask": "GCL psi=linear + mask_duplicates"}
    for variant, label in labels.items():
        model.load_state_dict(initial)
        times = _time(_step_fn(variant, model, batch, device), args.warmup, args.repeats)
        median = statistics.median(times)
        rows.append((label, median, args.batch_size / median))
    if not args.no_gather and device.type == "cpu":
        for variant, label in (("clip", "open_clip ClipLoss gather (2 ranks)"),
                               ("gcl-mask", "GCL psi=linear + mask + gather (2 ranks)")):
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "times.pt")
                torch.multiprocessing.spawn(_gather_worker, nprocs=2,
                                            args=(2, _free_port(), args, variant, out))
                median = statistics.median(torch.load(out))
            rows.append((label, median, 2 * args.batch_size / median))

    print(f"training step, {args.arch}, batch {args.batch_size} per process, {args.device}, "
          f"{args.threads} thread(s), median of {args.repeats}")
    base = {False: rows[0][2], True: next((r[2] for r in rows if "ClipLoss gather" in r[0]), None)}
    print(f"{'variant':44s} {'step ms':>9s} {'samples/s':>10s} {'vs ClipLoss':>12s}")
    for label, median, rate in rows:
        ref = base["gather" in label]
        ratio = f"{rate / ref:.2f}x" if ref else "-"
        print(f"{label:44s} {median * 1000:9.1f} {rate:10.1f} {ratio:>12s}")


if __name__ == "__main__":
    main()
