"""What decides one training run (:class:`TrainConfig`, the CLI flags one to one) and what it returns.

Plain dataclasses and their checks; imports only the error type and the psi check.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcl_bench.errors import GclBenchError
from gcl_bench.train.losses import check_psi


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

    def validate(self) -> None:
        """Refuse values no run can use, naming the flag (a :class:`GclBenchError`)."""
        check_psi(self.psi, "--psi")
        for name in ("batch_size", "accum_steps", "group_size", "log_every"):
            if getattr(self, name) < 1:
                raise GclBenchError(f"--{name.replace('_', '-')} must be at least 1")
        if self.steps is not None and self.steps < 1:
            raise GclBenchError("--steps must be at least 1")
        if self.epochs is not None and not self.epochs > 0:
            raise GclBenchError("--epochs must be positive")
        if self.steps is not None and self.epochs is not None:
            raise GclBenchError("give --steps or --epochs, not both")
        if self.epochs is not None and not math.isfinite(self.epochs):
            raise GclBenchError(f"--epochs must be finite, got {self.epochs}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise GclBenchError(f"--lr must be a positive finite number, got {self.lr}")
        if self.warmup < 0 or self.save_every < 0 or self.eval_every < 0:
            raise GclBenchError("--warmup, --save-every and --eval-every must not be negative")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise GclBenchError(f"--weight-decay must be a finite number of at least 0, got {self.weight_decay}")
        if self.grad_clip is not None and not (self.grad_clip > 0 and math.isfinite(self.grad_clip)):
            raise GclBenchError(f"--grad-clip must be a positive finite number, got {self.grad_clip}")
        if self.workers < 0:
            raise GclBenchError(f"--workers must not be negative, got {self.workers}")
        if self.threads is not None and self.threads < 1:
            raise GclBenchError(f"--threads must be at least 1, got {self.threads}")


@dataclass
class TrainResult:
    """What :func:`~gcl_bench.train.loop.train` returns (on rank 0; other ranks get the same minus
    files they did not write)."""

    checkpoint: Path | None
    steps: int
    last_loss: float | None
    output_dir: Path
    data_report: dict[str, Any] = field(default_factory=dict)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
