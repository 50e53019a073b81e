"""The training flags, defined once for ``gcl-bench train`` and ``python -m gcl_bench.train``.

:func:`train_options` decorates a click command with every flag; :func:`config_from_options`
turns the parsed values into a :class:`~gcl_bench.train.config.TrainConfig`. Imports click and
the trainer's config and psi names only.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from gcl_bench.train.config import TrainConfig
from gcl_bench.train.losses import PSI_NAMES

_OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option("--data-dir", default=None, help="Dataset folder (Marqo-GS layout). Default: the bundled sample."),
    click.option("--image-root", default=None, help="Folder holding the images; remaps the image paths of the dataset files."),
    click.option("--subset", default=None, help="Sub-dataset of a root folder (default marqo_gs_full_10m, or the only one)."),
    click.option("--split", default="in_domain", show_default=True, help="Split whose triplets to train on."),
    click.option("--arch", default="gcl-tiny", show_default=True, help="open_clip architecture (ViT-B-32, ViT-L-14, gcl-tiny ...)."),
    click.option("--pretrained", default=None, help="Initial weights: a checkpoint file or an open_clip pretrained tag."),
    click.option("--trust-checkpoint", is_flag=True, help="Allow an initial checkpoint that needs full unpickling."),
    click.option("--psi", type=click.Choice(PSI_NAMES), default="linear", show_default=True,
                 help="Score-to-weight function; none = the CLIP cross-entropy baseline."),
    click.option("--score-column", default=None, help="CSV column with the ranking scores (default: score_reciprocal for psi=reciprocal, else score_linear)."),
    click.option("--mask-duplicates/--no-mask-duplicates", default=False, show_default=True,
                 help="A product or query twice in a batch is not a negative of itself."),
    click.option("--gather/--no-gather", default=True, show_default=True, help="Under torchrun, use every rank's pairs as negatives."),
    click.option("--group-size", type=int, default=1, show_default=True, help="Up to this many documents of one query per batch (many-to-many); 1 = plain shuffle."),
    click.option("--steps", type=int, default=None, help="Optimizer steps (default: --epochs 1)."),
    click.option("--epochs", type=float, default=None, help="Passes over the triplets (instead of --steps)."),
    click.option("--batch-size", type=int, default=64, show_default=True, help="Pairs per micro-batch and rank."),
    click.option("--accum-steps", type=int, default=1, show_default=True, help="Micro-batches per optimizer step."),
    click.option("--lr", type=float, default=1e-4, show_default=True, help="Peak learning rate (AdamW)."),
    click.option("--warmup", type=int, default=0, show_default=True, help="Linear warm-up steps before the cosine decay."),
    click.option("--weight-decay", type=float, default=0.2, show_default=True),
    click.option("--grad-clip", type=float, default=None, help="Clip the gradient norm to this value."),
    click.option("--query-fields", default="text:1", show_default=True, help="Query fields and weights."),
    click.option("--doc-fields", default="image:0.9,title:0.1", show_default=True, help="Document fields and weights."),
    click.option("--output-dir", "-o", default="runs/gcl", show_default=True, help="Checkpoints (checkpoints/*.pt), config.json and metrics.jsonl go here."),
    click.option("--save-every", type=int, default=0, show_default=True, help="Save a checkpoint every N steps (always at exit)."),
    click.option("--resume", default=None, help="Continue exactly from a checkpoint file, or 'latest' (<output-dir>/checkpoints/latest.pt)."),
    click.option("--eval-every", type=int, default=0, show_default=True, help="Evaluate on --eval-split's gt_dev every N steps."),
    click.option("--eval-split", default=None, help="Split for periodic evaluation (default: --split)."),
    click.option("--seed", type=int, default=0, show_default=True, help="Seeds the initialisation and the batch order."),
    click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda ... (torchrun: each rank its LOCAL_RANK GPU)."),
    click.option("--amp/--no-amp", default=None, help="float16 autocast + GradScaler (default: on for CUDA)."),
    click.option("--workers", type=int, default=0, show_default=True, help="Data-loading worker processes."),
    click.option("--threads", type=int, default=None, help="torch CPU threads (fix it for bit-exact CPU reproduction)."),
    click.option("--log-every", type=int, default=1, show_default=True, help="Write metrics.jsonl every N steps."),
    click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar."),
    click.option("--name", default=None, help="Run name stored in the checkpoints (default: the output folder's name)."),
]


def train_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add every training flag to a click command."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def config_from_options(values: dict[str, Any]) -> TrainConfig:
    """Parsed click values -> TrainConfig."""
    return TrainConfig(**values)
