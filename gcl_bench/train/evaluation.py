"""Periodic evaluation during training: the current weights scored on a split's gt_dev through the
runner that ``gcl-bench run`` uses, so the numbers are the ones ``gcl-bench run`` would report.

The trainer is a client of the evaluation path: imports :mod:`gcl_bench.runner`,
:mod:`gcl_bench.distributed`, :mod:`gcl_bench.fields` and the trainer's checkpoints and logs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from gcl_bench import distributed
from gcl_bench.fields import format_fields
from gcl_bench.train.checkpoints import CHECKPOINT_DIR, cpu_state_dict, save_checkpoint
from gcl_bench.train.config import TrainConfig
from gcl_bench.train.logs import append_eval_record


def evaluate_during_training(config: TrainConfig, model: nn.Module, query_fields: dict[str, float],
                             doc_fields: dict[str, float], step: int, *, device: str,
                             output_dir: Path, main: bool) -> dict[str, Any]:
    """Score the current weights on ``eval_split``'s gt_dev (on the ``main`` rank; every rank waits).

    Returns ``{"step": step, metric: mean, ...}`` (only ``step`` on the other ranks), also
    appended to ``<output_dir>/eval.jsonl`` and written to ``<output_dir>/eval/last.json``.
    """
    record: dict[str, Any] = {"step": step}
    if main:
        from gcl_bench.io import write_json
        from gcl_bench.runner import RunSettings, run_evaluation

        path = output_dir / CHECKPOINT_DIR / "eval_weights.pt"
        save_checkpoint(path, {"state_dict": cpu_state_dict(model)})
        settings = RunSettings(
            model=f"open_clip:{config.arch}", pretrained=str(path), split=config.eval_split or config.split,
            data_dir=config.data_dir, subset=config.subset, image_root=config.image_root,
            eval_set="dev", output_dir=str(output_dir / "eval" / f"step_{step:07d}"),
            query_fields=format_fields(query_fields), doc_fields=format_fields(doc_fields),
            device=device, use_cache=False, top_k=100)
        was_training = model.training
        model.eval()
        try:
            results = run_evaluation(settings) or {}
        finally:
            model.train(was_training)
        record.update(results.get("metrics", {}))
        append_eval_record(output_dir, record)
        write_json(output_dir / "eval" / "last.json", record)
    distributed.barrier()
    return record
