"""The GCL training loop: an open_clip model + :class:`~gcl_bench.train.losses.GCLLoss` on a split's
triplets.

One function, :func:`train`, driven by a :class:`~gcl_bench.train.config.TrainConfig` (the CLI
flags one to one). It runs single-process or under ``torchrun`` (DDP; NCCL on GPUs, gloo on CPU),
with gradient accumulation, AdamW, linear warm-up then cosine decay, AMP (float16 + GradScaler)
on GPUs, checkpoints every N steps and at exit (:mod:`~gcl_bench.train.checkpoints`), exact
resume (``--resume latest``), a JSONL metrics log per step (:mod:`~gcl_bench.train.logs`) and
optional periodic evaluation on a split's gt_dev (:mod:`~gcl_bench.train.evaluation`).

Accumulation splits an optimizer step into ``accum_steps`` micro-batches, each with its own
in-batch negatives (the loss is not recomputed over the union). Ranks, process group and
collectives come from :mod:`gcl_bench.distributed`, the device from :mod:`gcl_bench.devices`.
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gcl_bench import distributed
from gcl_bench.devices import resolve_device
from gcl_bench.errors import GclBenchError
from gcl_bench.fields import active_fields, field_tower, format_fields, parse_fields
from gcl_bench.train.checkpoints import (
    apply_resume_weights,
    checkpoint_path,
    cpu_state_dict,
    load_resume,
    resolve_resume,
    restore_training_state,
    rng_state,
    save_checkpoint,
    seed_everything,
)
from gcl_bench.train.config import TrainConfig, TrainResult
from gcl_bench.train.data import Batch, BatchCollator, BatchPlan, TripletData, load_triplets
from gcl_bench.train.evaluation import evaluate_during_training
from gcl_bench.train.logs import open_metrics_log, truncate_metrics_log, write_metrics
from gcl_bench.train.losses import GCLLoss
from gcl_bench.train.model import DualEncoder, build_model, image_size, state_digest
from gcl_bench.train.optim import make_optimizer, make_scheduler

__all__ = ["TrainConfig", "TrainResult", "train"]


@dataclass
class _Run:
    """One run's moving parts, built by :func:`_set_up`; ``step`` and ``micro`` advance as it trains."""

    config: TrainConfig
    device: torch.device
    rank: int
    world: int
    use_amp: bool
    output_dir: Path
    query_fields: dict[str, float]
    doc_fields: dict[str, float]
    data: TripletData
    plan: BatchPlan
    total_steps: int
    model: nn.Module
    encoder: nn.Module
    loss_fn: GCLLoss
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: torch.amp.GradScaler
    collator: BatchCollator
    step: int = 0
    micro: int = 0
    #: micro-batches of the completed steps (an interrupted accumulation is redone on resume)
    done_micro: int = 0
    #: the step of the newest checkpoint on disk (None: none yet)
    saved_step: int | None = None

    @property
    def main(self) -> bool:
        return self.rank == 0


def train(config: TrainConfig) -> TrainResult:
    """Train one model; see the module docstring. Returns where the final checkpoint is."""
    run = _set_up(config)
    if run.main:
        _remove_checkpoint_leftovers(run.output_dir)
        _write_run_config(run)
        truncate_metrics_log(run.output_dir, run.step)
    batches = _micro_batches(run.plan, run.collator, run.rank, run.micro, config.workers)
    last_loss: float | None = None
    evaluations: list[dict[str, Any]] = []
    saved_at = -1
    run.encoder.train()
    started = time.perf_counter()
    try:
        with _metrics_log(run) as log, _progress(config.progress and run.main) as bar:
            task = bar.add_task("train", total=run.total_steps, completed=run.step,
                                loss=float("nan")) if bar else None
            while run.step < run.total_steps:
                last_loss = _optimizer_step(run, batches)
                if log is not None and (run.step % config.log_every == 0
                                        or run.step == run.total_steps):
                    write_metrics(log, _step_record(run, last_loss, started))
                if bar is not None:
                    bar.update(task, completed=run.step, loss=last_loss)
                if config.save_every and run.step % config.save_every == 0:
                    _save(run, run.step)
                    saved_at = run.step
                if config.eval_every and run.step % config.eval_every == 0:
                    evaluations.append(evaluate_during_training(
                        config, run.model, run.query_fields, run.doc_fields, run.step,
                        device=str(run.device), output_dir=run.output_dir, main=run.main))
    except KeyboardInterrupt:
        _save(run, None)
        raise
    if saved_at != run.step:
        final = _save(run, None)
    else:
        final = checkpoint_path(run.output_dir) if run.main else None
    if run.world > 1:
        _check_ranks_agree(run)
    distributed.barrier()
    return TrainResult(final, run.step, last_loss, run.output_dir, run.data.report, evaluations)


# -- set-up --------------------------------------------------------------------------------------

def _set_up(config: TrainConfig) -> _Run:
    """Check the config, join the process group, load data, model and (on resume) their state."""
    config.validate()
    from gcl_bench.io import check_writable

    check_writable(config.output_dir, "--output-dir")  # before any data is read or step taken
    if config.threads:
        torch.set_num_threads(config.threads)
    query_fields = active_fields(parse_fields(config.query_fields, "query"))
    doc_fields = active_fields(parse_fields(config.doc_fields, "doc"))
    device = _rank_device(config.device)
    rank, world = ((distributed.rank(), distributed.world_size()) if distributed.is_distributed()
                   else (0, 1))
    use_amp = device.type == "cuda" if config.amp is None else (config.amp and device.type == "cuda")
    output_dir = Path(config.output_dir)
    resume_path = resolve_resume(config.resume, output_dir)
    resume_state = load_resume(resume_path, config.arch) if resume_path else None

    data = load_triplets(config.data_dir, config.split, psi=config.psi, doc_fields=doc_fields,
                         image_root=config.image_root, subset=config.subset,
                         score_column=config.score_column)
    plan = BatchPlan(data.query_index, config.batch_size, seed=config.seed, world_size=world,
                     group_size=config.group_size)
    total_steps = config.steps or max(1, math.ceil((config.epochs or 1.0) * plan.batches_per_epoch
                                                   / config.accum_steps))

    model, preprocess, tokenizer = build_model(config.arch, config.seed, config.pretrained,
                                               config.trust_checkpoint)
    if resume_state is not None:
        apply_resume_weights(model, resume_state, resume_path)
    model.to(device)
    encoder: nn.Module = DualEncoder(model, query_fields, doc_fields)
    if world > 1:
        uses_image = any(field_tower("doc", f) == "image" for f in doc_fields)
        encoder = DistributedDataParallel(
            encoder, device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=not uses_image)
    loss_fn = GCLLoss(psi=config.psi, mask_duplicates=config.mask_duplicates,
                      gather=config.gather and world > 1, score_max=data.score_max)
    optimizer = make_optimizer(model, config.lr, config.weight_decay)
    scheduler = make_scheduler(optimizer, config.warmup, total_steps)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    step, micro = 0, 0
    if resume_state is not None:
        step, micro = restore_training_state(resume_state, optimizer, scheduler, scaler, rank, device)
    else:
        seed_everything(config.seed + rank)
    collator = BatchCollator(data, tokenizer, preprocess, image_size(model), query_fields, doc_fields)
    return _Run(config=config, device=device, rank=rank, world=world, use_amp=use_amp,
                output_dir=output_dir, query_fields=query_fields, doc_fields=doc_fields, data=data,
                plan=plan, total_steps=total_steps, model=model, encoder=encoder, loss_fn=loss_fn,
                optimizer=optimizer, scheduler=scheduler, scaler=scaler, collator=collator,
                step=step, micro=micro, done_micro=micro,
                saved_step=step if resume_state is not None else None)


def _rank_device(device: str) -> torch.device:
    """This process's device for ``--device``; under torchrun it first joins the process group
    (NCCL on CUDA, with the GPU of its LOCAL_RANK; gloo otherwise, on the CPU)."""
    name = resolve_device(device)
    if not distributed.is_distributed():
        return torch.device(name)
    distributed.init_process_group(name)
    if name.startswith("cuda"):
        return torch.device("cuda", distributed.local_rank())
    return torch.device("cpu")


def _remove_checkpoint_leftovers(output_dir: Path) -> None:
    """Delete the temporary checkpoint files a killed run left (each as large as a checkpoint)."""
    from gcl_bench.io import temp_files_of

    for leftover in temp_files_of(checkpoint_path(output_dir).parent, ["latest.pt", "step_*.pt"]):
        leftover.unlink(missing_ok=True)


def _write_run_config(run: _Run) -> None:
    from gcl_bench.io import write_json

    write_json(run.output_dir / "config.json",
               {**run.config.record(), "total_steps": run.total_steps, "world_size": run.world,
                "data": run.data.report, "score_max": run.data.score_max})


def _micro_batches(plan: BatchPlan, collator: BatchCollator, rank: int, start: int,
                   workers: int) -> Iterator[Batch]:
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


# -- one step ------------------------------------------------------------------------------------

def _optimizer_step(run: _Run, batches: Iterator[Batch]) -> float:
    """One optimizer step over ``accum_steps`` micro-batches; its loss, averaged over the ranks."""
    accum_steps = run.config.accum_steps
    step_loss = 0.0
    run.optimizer.zero_grad(set_to_none=True)
    for accum_index in range(accum_steps):
        batch = next(batches).to(run.device)
        defer_sync = (accum_index < accum_steps - 1
                      and isinstance(run.encoder, DistributedDataParallel))
        with run.encoder.no_sync() if defer_sync else contextlib.nullcontext():
            with torch.autocast(run.device.type, dtype=torch.float16, enabled=run.use_amp):
                queries, docs, scale = run.encoder(batch.query_inputs, batch.doc_inputs,
                                                   batch.doc_present)
            loss = run.loss_fn(queries.float(), docs.float(), scale.float(), batch.scores,
                               query_ids=batch.query_ids, doc_ids=batch.doc_ids)
            run.scaler.scale(loss / accum_steps).backward()
        step_loss += loss.item() / accum_steps
        run.micro += 1
    step_loss = distributed.mean_over_ranks(step_loss, run.device)  # the global batch's loss
    if not math.isfinite(step_loss):
        raise GclBenchError(f"the loss became {step_loss} at step {run.step + 1}; lower --lr "
                            "or check the scores")
    if run.config.grad_clip:
        run.scaler.unscale_(run.optimizer)
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.config.grad_clip)
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.scheduler.step()
    with torch.no_grad():
        run.model.logit_scale.clamp_(0, math.log(100))
    run.step += 1
    run.done_micro = run.micro
    return step_loss


# -- logging -------------------------------------------------------------------------------------

def _metrics_log(run: _Run) -> Any:
    """The metrics log (on the main rank) or nothing, as a context manager."""
    return open_metrics_log(run.output_dir) if run.main else contextlib.nullcontext()


def _step_record(run: _Run, loss: float, started: float) -> dict[str, Any]:
    return {"step": run.step, "epoch": run.micro / run.plan.batches_per_epoch, "loss": loss,
            "lr": run.optimizer.param_groups[0]["lr"],
            "logit_scale": float(run.model.logit_scale.detach().exp()),
            "samples": run.micro * run.config.batch_size * run.world,
            "seconds": round(time.perf_counter() - started, 3)}


def _progress(enabled: bool) -> Any:
    """A rich progress bar with the loss, or nothing, as a context manager."""
    if not enabled:
        return contextlib.nullcontext()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from gcl_bench.progress import RateColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    RateColumn("steps"), TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn(),
                    TimeRemainingColumn(), transient=False)


# -- saving --------------------------------------------------------------------------------------

def _save(run: _Run, at_step: int | None) -> Path | None:
    """Write ``latest.pt`` (and ``step_<at_step>.pt``) on the main rank; every rank must call it.

    A write that fails (a full disk) leaves the previous ``latest.pt`` whole and ends the run
    with one line saying which checkpoint is kept.
    """
    snapshot = _checkpoint_state(run)  # every rank joins the RNG gather
    if not run.main:
        return None
    latest = checkpoint_path(run.output_dir)
    try:
        if at_step is not None:
            save_checkpoint(checkpoint_path(run.output_dir, at_step), snapshot)
        save_checkpoint(latest, snapshot)
    except GclBenchError as err:
        kept = (f"{latest} (step {run.saved_step}) is kept" if run.saved_step is not None
                else "no checkpoint was written")
        raise GclBenchError(f"{err.message}; training stopped at step {run.step}, {kept}", err.path) from err
    run.saved_step = run.step
    return latest


def _checkpoint_state(run: _Run) -> dict[str, Any]:
    config = run.config
    rng = rng_state(run.device)
    return {
        "epoch": run.done_micro // run.plan.batches_per_epoch,
        "name": config.name or run.output_dir.name,
        "state_dict": cpu_state_dict(run.model),
        "optimizer": run.optimizer.state_dict(),
        "scaler": run.scaler.state_dict(),
        "scheduler": run.scheduler.state_dict(),
        "position": {"step": run.step, "micro_batch": run.done_micro, "total_steps": run.total_steps},
        "rng": rng if run.world == 1 else distributed.all_gather_object(rng),
        "config": {**config.record(), "query_fields": format_fields(run.query_fields),
                   "doc_fields": format_fields(run.doc_fields), "score_max": run.data.score_max,
                   "world_size": run.world},
    }


def _check_ranks_agree(run: _Run) -> None:
    """Every rank must end with the same weights; the main rank writes them to rank_digests.json."""
    digests = distributed.all_gather_object(state_digest(run.model))
    if run.main:
        from gcl_bench.io import write_json

        write_json(run.output_dir / "rank_digests.json", {str(r): d for r, d in enumerate(digests)})
    if len(set(digests)) != 1:
        raise RuntimeError(f"the ranks' weights diverged: {digests}")
