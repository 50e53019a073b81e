"""``gcl-bench info``: per-split counts of a dataset folder."""
from __future__ import annotations

import click

from gcl_bench.commands.common import (
    data_dir_option,
    image_root_option,
    quiet_option,
    subset_option,
)


@click.command("info")
@data_dir_option
@subset_option
@image_root_option
@quiet_option("Print only the table (no progress).")
def command(data_dir: str | None, subset: str | None, image_root: str | None, quiet: bool) -> None:
    """Show queries, documents, judgements and missing images for each split."""
    from rich.console import Console
    from rich.table import Table

    from gcl_bench.progress import loading

    with loading(f"reading {data_dir or 'the bundled sample'}", show=not quiet):
        from gcl_bench.data import dataset_info

        rows = dataset_info(data_dir, image_root=image_root, subset=subset)
    columns = list(rows[0]) if rows else []
    formats = {row.get("format") for row in rows}
    title = f"{data_dir or 'bundled sample'}"
    if len(formats) == 1 and "format" in columns:  # one layout for all splits: say it once
        title += f" ({formats.pop()} layout)"
        columns.remove("format")
    table = Table(title=title, title_justify="left")
    headers = {"judgements_dev": "judged (dev)", "judgements_test": "judged (test)", "missing_images": "no image"}
    for column in columns:
        if column == "split":
            table.add_column("split", no_wrap=True, min_width=len("novel_document"))
        else:
            table.add_column(headers.get(column, column), justify="right")
    for row in rows:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    Console().print(table)
