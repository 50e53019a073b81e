"""Option parsing shared by several sub-commands."""
from __future__ import annotations

import click

from gcl_bench.errors import GclBenchError


def parse_metric_list(text: str | None) -> list[str] | None:
    """``"nDCG@10, err"`` -> ``["ndcg@10", "err"]``: canonical names, validated by the metrics
    layer (which accepts trec_eval, ir_measures, BEIR and MTEB spellings)."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise GclBenchError("--metrics is empty")
    from gcl_bench.metrics import canonical_metric_names

    return canonical_metric_names(names)


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


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Dataset folder (Marqo-GS layout, HF parquet export or BEIR), or the export by Hub id: "
    "hf://Marqo/marqo-GS-10M[@REVISION]. Default: the bundled sample.",
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
