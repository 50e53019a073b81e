"""``gcl-bench sample``: write a synthetic benchmark in the Marqo-GS layout.

The folder is built under a temporary name and renamed into place, so it is complete or absent;
a non-empty ``--output-dir`` folder is refused unless ``--force`` is given.
"""
from __future__ import annotations

from pathlib import Path

import click

from gcl_bench.commands.common import output_option, quiet_option
from gcl_bench.data.sample import (
    DEFAULT_IMAGE_SIZE,
    DEFAULT_PRODUCTS,
    DEFAULT_QUERIES,
    DEFAULT_SEED,
    write_sample,
)


@click.command(name="sample")
@output_option("--output-dir", "-o", dest="out_dir", old=("--out",), required=True, path_type=Path,
               help="Folder to write (one sub-dataset: corpus_1.json, corpus_2.json, four splits); required.")
@click.option("--products", default=DEFAULT_PRODUCTS, show_default=True, type=int,
              help="Number of products, halved into corpus_1 (seen) and corpus_2 (unseen).")
@click.option("--queries", default=DEFAULT_QUERIES, show_default=True, type=int,
              help="Number of queries, 80% seen (query set 0) and 20% novel (query set 1).")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int,
              help="Random seed; the same arguments always give the same bytes.")
@click.option("--image-size", default=DEFAULT_IMAGE_SIZE, show_default=True, type=int,
              help="Side of the square product images, in pixels.")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists and is not empty.")
@quiet_option("Print only the folder written.")
def command(out_dir: Path, products: int, queries: int, seed: int, image_size: int,
            force: bool, quiet: bool) -> None:
    """Write a synthetic benchmark in the Marqo-GS layout (graded relevance, images included)."""
    from gcl_bench.io import read_json
    from gcl_bench.progress import make_reporter, step_callback

    reporter = make_reporter(not quiet)
    try:
        path = write_sample(out_dir, products=products, queries=queries, seed=seed, image_size=image_size,
                            overwrite=force, progress=step_callback(reporter, "draw"))
    finally:
        reporter.close()
    if quiet:
        click.echo(str(path))
        return
    info = read_json(path / "sample_info.json")
    click.echo(f"wrote {path}: {info['corpus_1']} + {info['corpus_2']} products, "
               f"{info['query_set_0']} seen + {info['query_set_1']} novel queries")
    for stem, counts in info["splits"].items():
        click.echo(f"  {stem}: {counts['queries']} queries, {counts['rows']} rows, "
                   f"gt_dev {counts['gt_dev']}, gt_test {counts['gt_test']}")
