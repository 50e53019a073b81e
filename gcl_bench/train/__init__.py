"""GCL training: weighted contrastive losses, triplet data and the training loop.

``GCLLoss`` (losses), ``TripletData``/``BatchPlan`` (data), ``TrainConfig``/``TrainResult``
(config), ``build_model``/``DualEncoder`` (model), ``make_optimizer``/``lr_factor`` (optim),
``checkpoint_path``/``export_weights`` (checkpoints) and ``train`` (loop); ``gcl-bench train``
and ``python -m gcl_bench.train`` run it. Only the losses are imported with the package; the
other modules on first use of their names.
"""
from __future__ import annotations

import importlib
from typing import Any

from gcl_bench.train.losses import (
    PSI_NAMES,
    PSI_SCORE_COLUMN,
    GCLLoss,
    score_weights,
)

#: public name -> the module of gcl_bench.train that defines it
_LAZY = {
    "TrainConfig": "config", "TrainResult": "config",
    "TripletData": "data", "BatchPlan": "data",
    "build_model": "model", "DualEncoder": "model",
    "make_optimizer": "optim", "lr_factor": "optim",
    "checkpoint_path": "checkpoints", "export_weights": "checkpoints",
    "train": "loop",
}

__all__ = ["PSI_NAMES", "PSI_SCORE_COLUMN", "GCLLoss", "score_weights", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"gcl_bench.train.{_LAZY[name]}"), name)
    raise AttributeError(name)
