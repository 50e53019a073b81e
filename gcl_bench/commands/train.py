"""``gcl-bench train``: train a GCL (or CLIP-baseline) model on a split's triplets."""
from __future__ import annotations

from typing import Any

import click

from gcl_bench.commands.common import quiet_option
from gcl_bench.train.options import config_from_options, train_options


@click.command("train")
@train_options
@quiet_option("No progress bar; print only the result line.")
def command(quiet: bool, **values: Any) -> None:
    """Train an open_clip model with the GCL loss; checkpoints evaluate with `gcl-bench run`.

    \b
    Examples:
      gcl-bench train --arch gcl-tiny --psi linear --steps 200 -o runs/gcl
      gcl-bench train --psi none --steps 200 -o runs/clip          # CLIP baseline
      torchrun --nproc-per-node 2 -m gcl_bench.train --arch ViT-B-32 --pretrained openai ...
      gcl-bench run --model open_clip:gcl-tiny --pretrained runs/gcl/checkpoints/latest.pt
    """
    from gcl_bench.progress import loading

    if quiet:
        values["progress"] = False
    with loading("loading torch and open_clip", show=not quiet):
        from gcl_bench.train.loop import train
    result = train(config_from_options(values))
    if result.checkpoint is not None:
        loss = "n/a" if result.last_loss is None else f"{result.last_loss:.4f}"
        click.echo(f"trained {result.steps} steps, last loss {loss}; checkpoint: {result.checkpoint}")
