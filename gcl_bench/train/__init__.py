"""GCL training: weighted contrastive losses, triplet data and the training loop.

``GCLLoss`` (losses), ``TripletData``/``BatchPlan`` (data) and
``TrainConfig``/``train`` (loop); ``gcl-bench train`` and ``python -m gcl_bench.train`` run it.
The loop module (and with it open_clip) is imported on first use of its names.
"""
from __future__ import annotations

from typing import Any

from gcl_bench.train.losses import (
    PSI_NAMES,
    PSI_SCORE_COLUMN,
    GCLLoss,
    score_weights,
)

__all__ = ["PSI_NAMES", "PSI_SCORE_COLUMN", "GCLLoss", "TrainConfig", "TrainResult", "score_weights",
           "train"]


def __getattr__(name: str) -> Any:
    if name in ("TrainConfig", "TrainResult", "train"):
        from gcl_bench.train import loop

        return getattr(loop, name)
    raise AttributeError(name)
