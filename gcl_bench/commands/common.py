"""Option parsing shared by several sub-commands."""
from __future__ import annotations

from typing import Any

import click

from gcl_bench.errors import GclBenchError


def parse_metric_list(text: str | None) -> list[str] | None:
    """``"ndcg@10, err"`` -> ``["ndcg@10", "err"]`` (validated by the metrics layer)."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise GclBenchError("--metrics is empty")
    from gcl_bench.metrics import parse_metric

    for name in names:
        parse_metric(name)
    return names


def metrics_table(title: str, columns: dict[str, dict[str, float]], metrics: list[str]) -> object:
    """A rich table with one row per metric and one column per label (e.g. split), 4 decimals."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("metric", style="bold")
    for label in columns:
        table.add_column(label or "value", justify="right")
    for name in metrics:
        table.add_row(name, *(f"{values[name]:.4f}" for values in columns.values()))
    return table


def print_facts(console: Any, results: dict[str, Any], label: str = "") -> None:
    """Print the facts of a results dict (:func:`gcl_bench.results.facts.facts`), one line each."""
    from rich.markup import escape

    from gcl_bench.results.facts import WARNING, facts

    prefix = f"{label}: " if label else ""
    for fact in facts(results):
        style = "yellow" if fact.level == WARNING else "dim"
        console.print(f"  [{style}]{fact.level}[/]: {escape(prefix + fact.text)}", soft_wrap=True)


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Dataset folder (Marqo-GS layout, HF parquet export or BEIR). Default: the bundled sample.",
)
image_root_option = click.option(
    "--image-root",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Folder holding the images; remaps the image paths written in the dataset files.",
)
subset_option = click.option(
    "--subset", default=None, help="Sub-dataset folder, e.g. marqo_gs_full_10m (when --data-dir holds several)."
)
