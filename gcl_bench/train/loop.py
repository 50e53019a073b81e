"""The GCL training loop: open_clip model + :class:`~gcl_bench.train.losses.GCLLoss` on a split's triplets.

One function, :func:`train`, driven by a :class:`TrainConfig` (the CLI flags one to one). It runs
single-process or under ``torchrun`` (DDP; NCCL on GPUs, gloo on CPU), with gradient accumulation,
AdamW, linear warm-up then cosine decay, AMP (float16 + GradScaler) on GPUs, checkpoints every N
steps and at exit, exact resume, a JSONL metrics log per step and optional periodic evaluation
on a split's gt_dev through the runner that ``gcl-bench run`` uses.

Checkpoints are open_clip "states" files (``{"epoch", "name", "state_dict", "optimizer", ...}``)
under ``<output-dir>/checkpoints/``: ``step_<N>.pt`` every ``--save-every`` steps and
``latest.pt`` (the newest; also written at exit), so ``open_clip.create_model_and_transforms(ARCH,
pretrained=PATH)`` and ``gcl-bench run --model open_clip:ARCH --pretrained PATH`` load them. The
extra keys (``scheduler``, ``scaler``, ``rng``, ``position``, ``config``) make a resumed run
(``--resume latest``) continue exactly as the uninterrupted run would.

Accumulation splits an optimizer step into ``accum_steps`` micro-batches, each with its own
in-batch negatives (the loss is not recomputed over the union). The metrics log
``<output-dir>/metrics.jsonl`` is a stream appended one line per step (a resume first rewrites
it, atomically, without the steps after the checkpoint).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gcl_bench.errors import GclBenchError
from gcl_bench.fields import (
    active_fields,
    field_tower,
    format_fields,
    fuse_fields_torch,
    parse_fields,
)
from gcl_bench.train.data import BatchCollator, BatchPlan, load_triplets
from gcl_bench.train.losses import PSI_NAMES, GCLLoss

CHECKPOINT_DIR = "checkpoints"
LATEST = "latest.pt"
METRICS_LOG = "metrics.jsonl"
EVAL_LOG = "eval.jsonl"


@dataclass
class TrainConfig:
    """Everything that decides one training run (saved in every checkpoint under ``config``)."""

    output_dir: str = "runs/gcl"
    data_dir: str | None = None
    image_root: str | None = None
    subset: str | None = None
    split: str = "in_domain"
    arch: str = "gcl-tiny"
    pretrained: str | None = None
    trust_checkpoint: bool = False
    psi: str = "linear"
    score_column: str | None = None
    mask_duplicates: bool = False
    gather: bool = True
    group_size: int = 1
    steps: int | None = None
    epochs: float | None = None
    batch_size: int = 64
    accum_steps: int = 1
    lr: float = 1e-4
    warmup: int = 0
    weight_decay: float = 0.2
    grad_clip: float | None = None
    query_fields: str = "text:1"
    doc_fields: str = "image:0.9,title:0.1"
    save_every: int = 0
    resume: str | None = None
    eval_every: int = 0
    eval_split: str | None = None
    seed: int = 0
    device: str = "auto"
    amp: bool | None = None
    workers: int = 0
    threads: int | None = None
    log_every: int = 1
    progress: bool = True
    name: str | None = None

    def record(self) -> dict[str, Any]:
        """A plain dict (for checkpoints and config.json); ``resume`` is where this run came from."""
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """What :func:`train` returns (on rank 0; other ranks get the same minus files they did not write)."""

    checkpoint: Path | None
    steps: int
    last_loss: float | None
    output_dir: Path
    data_report: dict[str, Any] = field(default_factory=dict)
    evaluations: list[dict[str, Any]] = field(default_factory=list)


class DualEncoder(nn.Module):
    """Wraps an open_clip model so one ``forward`` encodes both sides of a batch (what DDP needs)."""

    def __init__(self, model: nn.Module, query_fields: dict[str, float],
                 doc_fields: dict[str, float]) -> None:
        super().__init__()
        self.model = model
        self.query_fields = query_fields
        self.doc_fields = doc_fields

    def _encode(self, side: str, fields: dict[str, float], inputs: dict[str, torch.Tensor],
                present: dict[str, torch.Tensor] | None) -> torch.Tensor:
        embeddings = {}
        for name in fields:
            if field_tower(side, name) == "image":
                features = self.model.encode_image(inputs[name])
            else:
                features = self.model.encode_text(inputs[name])
            embeddings[name] = F.normalize(features.float(), dim=-1)
        return fuse_fields_torch(embeddings, fields, present)

    def forward(self, query_inputs: dict[str, torch.Tensor], doc_inputs: dict[str, torch.Tensor],
                doc_present: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        queries = self._encode("query", self.query_fields, query_inputs, None)
        docs = self._encode("doc", self.doc_fields, doc_inputs, doc_present)
        return queries, docs, self.model.logit_scale.exp()


# -- distributed -------------------------------------------------------------------------------

@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def _init_distributed(device_name: str) -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    from gcl_bench.devices import resolve_device

    device_name = resolve_device(device_name)
    if world > 1:
        import torch.distributed as dist

        if device_name.startswith("cuda"):
            torch.cuda.set_device(local_rank)
            device = torch.device("cuda", local_rank)
            backend = "nccl"
        else:
            device = torch.device("cpu")
            backend = "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend=backend)
        return Dist(dist.get_rank(), dist.get_world_size(), local_rank, device)
    return Dist(0, 1, 0, torch.device(device_name))


def _barrier(dist_info: Dist) -> None:
    if dist_info.world > 1:
        import torch.distributed as dist

        dist.barrier()


# -- model, optimiser, schedule -----------------------------------------------------------------

def build_model(arch: str, seed: int, pretrained: str | None = None,
                trust_checkpoint: bool = False) -> tuple[nn.Module, Any, Any]:
    """Create ``arch`` (random init from ``seed``, or ``pretrained``), its eval preprocess and tokenizer."""
    import open_clip

    from gcl_bench.models.openclip import get_arch_config, register_model_configs

    register_model_configs()
    get_arch_config(arch)  # unknown architectures fail here with close matches
    tag = None
    if pretrained and not Path(pretrained).expanduser().is_file():
        tags = open_clip.list_pretrained_tags_by_model(arch)
        if pretrained not in tags:
            raise GclBenchError(f"--pretrained {pretrained!r} is neither a checkpoint file nor an "
                                f"open_clip tag of {arch}")
        tag = pretrained
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=tag)
    if pretrained and tag is None:
        from gcl_bench.models.checkpoint import apply_state_dict, load_state_dict

        path = Path(pretrained).expanduser()
        apply_state_dict(model, load_state_dict(path, trust_checkpoint=trust_checkpoint), path)
    tokenizer = open_clip.get_tokenizer(arch)
    return model, preprocess, tokenizer


def _image_size(model: nn.Module) -> int:
    size = getattr(getattr(model, "visual", None), "image_size", 224)
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW as open_clip trains CLIP: no weight decay on gains, biases, norms and the logit scale."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        exclude = (param.ndim < 2 or "bn" in name or "ln" in name or "bias" in name
                   or "logit_scale" in name)
        (no_decay if exclude else decay).append(param)
    return torch.optim.AdamW(
        [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}],
        lr=lr, betas=(0.9, 0.98), eps=1e-6)


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up over ``warmup`` steps to 1, then cosine decay to 0 at ``total`` (open_clip's)."""
    if step < warmup:
        return (step + 1) / warmup
    span = max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(step - warmup, span) / span))


# -- state for checkpoints ----------------------------------------------------------------------

def _rng_state(device: torch.device) -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": _numpy_state(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _numpy_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def _set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(_as_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached"]))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _as_tuple(value: Any) -> Any:
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


def checkpoint_path(output_dir: str | os.PathLike[str], step: int | None = None) -> Path:
    """``<output_dir>/checkpoints/step_<step>.pt``, or ``latest.pt`` when ``step`` is None."""
    folder = Path(output_dir) / CHECKPOINT_DIR
    return folder / (LATEST if step is None else f"step_{step:07d}.pt")


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` through a temporary file renamed into place."""
    from gcl_bench.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _resolve_resume(config: TrainConfig) -> Path | None:
    if not config.resume:
        return None
    path = (checkpoint_path(config.output_dir) if config.resume == "latest"
            else Path(config.resume).expanduser())
    if not path.is_file():
        raise GclBenchError("resume checkpoint not found", path)
    return path


def _load_resume(path: Path, config: TrainConfig) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the user's input
        raise GclBenchError(f"not a readable training checkpoint ({str(err).splitlines()[0]})", path) from None
    if not isinstance(state, dict) or "position" not in state or "config" not in state:
        raise GclBenchError("not a gcl_bench training checkpoint (no optimizer/position state); "
                            "use --pretrained to start from its weights", path)
    saved = state["config"]
    if saved.get("arch") != config.arch:
        raise GclBenchError(f"checkpoint was trained with --arch {saved.get('arch')}, this run uses "
                            f"--arch {config.arch}", path)
    return state


# -- the loop ------------------------------------------------------------------------------------

def _check_config(config: TrainConfig) -> None:
    if config.psi not in PSI_NAMES:
        raise GclBenchError(f"unknown --psi {config.psi!r}; choose one of {', '.join(PSI_NAMES)}")
    for name in ("batch_size", "accum_steps", "group_size", "log_every"):
        if getattr(config, name) < 1:
            raise GclBenchError(f"--{name.replace('_', '-')} must be at least 1")
    if config.steps is not None and config.steps < 1:
        raise GclBenchError("--steps must be at least 1")
    if config.epochs is not None and not config.epochs > 0:
        raise GclBenchError("--epochs must be positive")
    if config.steps is not None and config.epochs is not None:
        raise GclBenchError("give --steps or --epochs, not both")
    if not config.lr > 0:
        raise GclBenchError("--lr must be positive")
    if config.warmup < 0 or config.save_every < 0 or config.eval_every < 0:
        raise GclBenchError("--warmup, --save-every and --eval-every must not be negative")


def train(config: TrainConfig) -> TrainResult:
    """Train one model; see the module docstring. Returns where the final checkpoint is."""
    _check_config(config)
    if config.threads:
        torch.set_num_threads(config.threads)
    query_fields = active_fields(parse_fields(config.query_fields, "query"))
    doc_fields = active_fields(parse_fields(config.doc_fields, "doc"))
    dist_info = _init_distributed(config.device)
    device = dist_info.device
    use_amp = device.type == "cuda" if config.amp is None else (config.amp and device.type == "cuda")
    output_dir = Path(config.output_dir)
    resume_path = _resolve_resume(config)
    resume_state = _load_resume(resume_path, config) if resume_path else None

    data = load_triplets(config.data_dir, config.split, psi=config.psi, doc_fields=doc_fields,
                         image_root=config.image_root, subset=config.subset,
                         score_column=config.score_column)
    plan = BatchPlan(data.query_index, config.batch_size, seed=config.seed,
                     world_size=dist_info.world, group_size=config.group_size)
    micro_per_epoch = plan.batches_per_epoch
    total_steps = config.steps or max(1, math.ceil((config.epochs or 1.0) * micro_per_epoch
                                                   / config.accum_steps))

    model, preprocess, tokenizer = build_model(config.arch, config.seed, config.pretrained,
                                               config.trust_checkpoint)
    if resume_state is not None:
        from gcl_bench.models.checkpoint import apply_state_dict, strip_wrapper_prefixes

        weights = {strip_wrapper_prefixes(k): v for k, v in resume_state["state_dict"].items()}
        apply_state_dict(model, weights, resume_path)
    model.to(device)
    encoder: nn.Module = DualEncoder(model, query_fields, doc_fields)
    uses_image = any(field_tower("doc", f) == "image" for f in doc_fields)
    if dist_info.world > 1:
        encoder = nn.parallel.DistributedDataParallel(
            encoder, device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=not uses_image)
    loss_fn = GCLLoss(psi=config.psi, mask_duplicates=config.mask_duplicates,
                      gather=config.gather and dist_info.world > 1, score_max=data.score_max)
    optimizer = make_optimizer(model, config.lr, config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, config.warmup, total_steps))
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    step, micro = 0, 0
    if resume_state is not None:
        optimizer.load_state_dict(resume_state["optimizer"])
        scheduler.load_state_dict(resume_state["scheduler"])
        if resume_state.get("scaler"):
            scaler.load_state_dict(resume_state["scaler"])
        step = int(resume_state["position"]["step"])
        micro = int(resume_state["position"]["micro_batch"])
        rng = resume_state["rng"]
        _set_rng_state(rng[dist_info.rank] if isinstance(rng, list) else rng, device)
    else:
        torch.manual_seed(config.seed + dist_info.rank)
        random.seed(config.seed + dist_info.rank)
        np.random.seed(config.seed + dist_info.rank)
    done_micro = micro

    name = config.name or output_dir.name
    if dist_info.main:
        from gcl_bench.io import write_json

        write_json(output_dir / "config.json", {**config.record(), "total_steps": total_steps,
                                                "world_size": dist_info.world,
                                                "data": data.report, "score_max": data.score_max})
        _truncate_log(output_dir / METRICS_LOG, step)
    collator = BatchCollator(data, tokenizer, preprocess, _image_size(model), query_fields, doc_fields)
    batches = _micro_batches(plan, collator, dist_info.rank, micro, config.workers)

    def state() -> dict[str, Any]:
        return {
            "epoch": done_micro // micro_per_epoch,
            "name": name,
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict(),
            "scheduler": scheduler.state_dict(),
            "position": {"step": step, "micro_batch": done_micro, "total_steps": total_steps},
            "rng": _gather_rng(device, dist_info),
            "config": {**config.record(), "query_fields": format_fields(query_fields),
                       "doc_fields": format_fields(doc_fields), "score_max": data.score_max,
                       "world_size": dist_info.world},
        }

    def save(at_step: int | None) -> Path | None:
        snapshot = state()  # every rank joins the RNG gather
        if not dist_info.main:
            return None
        latest = checkpoint_path(output_dir)
        if at_step is not None:
            save_checkpoint(checkpoint_path(output_dir, at_step), snapshot)
        save_checkpoint(latest, snapshot)
        return latest

    last_loss: float | None = None
    evaluations: list[dict[str, Any]] = []
    saved_at = -1
    log = _open_log(output_dir / METRICS_LOG) if dist_info.main else None
    progress = _progress(config.progress and dist_info.main, total_steps, step)
    encoder.train()
    started = time.perf_counter()
    try:
        with progress as bar:
            task = bar.add_task("train", total=total_steps, completed=step, loss=float("nan")) if bar else None
            while step < total_steps:
                step_loss = 0.0
                optimizer.zero_grad(set_to_none=True)
                for accum_index in range(config.accum_steps):
                    batch = next(batches).to(device)
                    sync = (accum_index == config.accum_steps - 1 or dist_info.world == 1)
                    context = (encoder.no_sync() if not sync and isinstance(
                        encoder, nn.parallel.DistributedDataParallel) else contextlib.nullcontext())
                    with context:
                        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                            queries, docs, scale = encoder(batch.query_inputs, batch.doc_inputs,
                                                           batch.doc_present)
                        loss = loss_fn(queries.float(), docs.float(), scale.float(), batch.scores,
                                       query_ids=batch.query_ids, doc_ids=batch.doc_ids)
                        scaler.scale(loss / config.accum_steps).backward()
                    step_loss += loss.item() / config.accum_steps
                    micro += 1
                if dist_info.world > 1:  # log the global batch's loss, not rank 0's share
                    step_loss = _mean_over_ranks(step_loss, device)
                if not math.isfinite(step_loss):
                    raise GclBenchError(f"the loss became {step_loss} at step {step + 1}; lower --lr "
                                        "or check the scores")
                if config.grad_clip:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                with torch.no_grad():
                    model.logit_scale.clamp_(0, math.log(100))
                step += 1
                done_micro = micro  # an interrupted accumulation is redone on resume
                last_loss = step_loss
                if log is not None and (step % config.log_every == 0 or step == total_steps):
                    record = {"step": step, "epoch": micro / micro_per_epoch, "loss": step_loss,
                              "lr": optimizer.param_groups[0]["lr"],
                              "logit_scale": float(model.logit_scale.detach().exp()),
                              "samples": micro * config.batch_size * dist_info.world,
                              "seconds": round(time.perf_counter() - started, 3)}
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                if bar is not None:
                    bar.update(task, completed=step, loss=step_loss)
                if config.save_every and step % config.save_every == 0:
                    save(step)
                    saved_at = step
                if config.eval_every and step % config.eval_every == 0:
                    evaluations.append(_evaluate(config, model, query_fields, doc_fields, step,
                                                 dist_info, output_dir))
    except KeyboardInterrupt:
        save(None)
        raise
    finally:
        if log is not None:
            log.close()
    if saved_at != step:
        final = save(None)
    else:
        final = checkpoint_path(output_dir) if dist_info.main else None
    if dist_info.world > 1:
        _check_ranks_agree(model, dist_info, output_dir)
    _barrier(dist_info)
    return TrainResult(final, step, last_loss, output_dir, data.report, evaluations)


def state_digest(model: nn.Module) -> str:
    """SHA-256 over the model's parameters and buffers, in state-dict order."""
    import hashlib

    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _check_ranks_agree(model: nn.Module, dist_info: Dist, output_dir: Path) -> None:
    """Every rank must end with the same weights; rank 0 writes them to rank_digests.json."""
    import torch.distributed as dist

    digests: list[Any] = [None] * dist_info.world
    dist.all_gather_object(digests, state_digest(model))
    if dist_info.main:
        from gcl_bench.io import write_json

        write_json(output_dir / "rank_digests.json", {str(r): d for r, d in enumerate(digests)})
    if len(set(digests)) != 1:
        raise RuntimeError(f"the ranks' weights diverged: {digests}")


def _mean_over_ranks(value: float, device: torch.device) -> float:
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return float(tensor.item()) / dist.get_world_size()


def _gather_rng(device: torch.device, dist_info: Dist) -> Any:
    state = _rng_state(device)
    if dist_info.world == 1:
        return state
    import torch.distributed as dist

    states: list[Any] = [None] * dist_info.world
    dist.all_gather_object(states, state)
    return states


def _micro_batches(plan: BatchPlan, collator: BatchCollator, rank: int, start: int,
                   workers: int) -> Iterator[Any]:
    """Micro-batches from global micro-batch number ``start`` on, epoch after epoch."""
    micro = start
    while True:
        epoch, offset = divmod(micro, plan.batches_per_epoch)
        rows = plan.batches(epoch, rank, start=offset)
        if workers > 0:
            loader = torch.utils.data.DataLoader(rows, batch_size=None, collate_fn=collator,
                                                 num_workers=workers)
            for batch in loader:
                yield batch
                micro += 1
        else:
            for batch_rows in rows:
                yield collator(batch_rows)
                micro += 1


def _open_log(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a", encoding="utf-8")


def _truncate_log(path: Path, step: int) -> None:
    """Keep only the log lines of steps up to ``step`` (all of them gone when starting afresh)."""
    from gcl_bench.io import write_text

    if not path.exists():
        return
    kept = []
    if step > 0:
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                if json.loads(line).get("step", 0) <= step:
                    kept.append(line + "\n")
    write_text(path, "".join(kept))


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(enabled: bool, total: int, start: int) -> Any:
    if not enabled:
        return _NoProgress()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn(),
                    TimeRemainingColumn(), transient=False)


def _evaluate(config: TrainConfig, model: nn.Module, query_fields: dict[str, float],
              doc_fields: dict[str, float], step: int, dist_info: Dist,
              output_dir: Path) -> dict[str, Any]:
    """Score the current weights on ``eval_split``'s gt_dev through the runner (rank 0 only)."""
    record: dict[str, Any] = {"step": step}
    if dist_info.main:
        from gcl_bench.io import write_json
        from gcl_bench.runner import RunSettings, run_evaluation

        path = output_dir / CHECKPOINT_DIR / "eval_weights.pt"
        save_checkpoint(path, {"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}})
        settings = RunSettings(
            model=f"open_clip:{config.arch}", pretrained=str(path), split=config.eval_split or config.split,
            data_dir=config.data_dir, subset=config.subset, image_root=config.image_root,
            eval_set="dev", output_dir=str(output_dir / "eval" / f"step_{step:07d}"),
            query_fields=format_fields(query_fields), doc_fields=format_fields(doc_fields),
            device=str(dist_info.device), use_cache=False, top_k=100)
        was_training = model.training
        model.eval()
        try:
            results = run_evaluation(settings) or {}
        finally:
            model.train(was_training)
        record.update(results.get("metrics", {}))
        lines = []
        eval_log = output_dir / EVAL_LOG
        if eval_log.exists():
            lines = eval_log.read_text(encoding="utf-8").splitlines()
        lines.append(json.dumps(record))
        from gcl_bench.io import write_text

        write_text(eval_log, "\n".join(lines) + "\n")
        write_json(output_dir / "eval" / "last.json", record)
    _barrier(dist_info)
    return record


def export_weights(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str],
                   dtype: torch.dtype = torch.float16) -> Path:
    """Write a checkpoint's weights alone (``{"state_dict": ...}``, cast to ``dtype``) for shipping.

    The optimizer and resume state are dropped; ``gcl-bench run --pretrained OUT`` and open_clip
    load the result (weights are cast back to the model's float32 on load). The same weights
    always give the same bytes.
    """
    import io

    from gcl_bench.io import write_bytes
    from gcl_bench.models.checkpoint import load_state_dict

    weights = load_state_dict(checkpoint)
    slim = {key: (value.to(dtype) if value.is_floating_point() else value).contiguous()
            for key, value in weights.items()}
    path = Path(out)
    buffer = io.BytesIO()  # a file object: the archive's inner folder name is fixed, bytes reproducible
    torch.save({"state_dict": slim}, buffer)
    write_bytes(path, buffer.getvalue())
    return path
