"""``gcl-bench info``: per-split counts of a dataset folder."""
from __future__ import annotations

import click

from gcl_bench.commands.common import data_dir_option, image_root_option, subset_option


@click.command("info")
@data_dir_option
@subset_option
@image_root_option
def command(data_dir: str | None, subset: str | None, image_root: str | None) -> None:
    """Show queries, documents, judgements and missing images for each split."""
    from rich.console import Console
    from rich.table import Table

    from gcl_bench.data import dataset_info

    rows = dataset_info(data_dir, image_root=image_root, subset=subset)
    table = Table(title=f"{data_dir or 'bundled sample'}", title_justify="left")
    columns = list(rows[0]) if rows else []
    for column in columns:
        table.add_column(column, justify="left" if column == "split" else "right")
    for row in rows:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    Console().print(table)
