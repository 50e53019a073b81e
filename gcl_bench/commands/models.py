"""``gcl-bench models``: list the model registry (name, family, architecture, fields, weights, training data)."""
from __future__ import annotations

import click

from gcl_bench.commands.common import quiet_option


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON instead of a table.")
@click.option("--verbose", "-v", is_flag=True, help="Also show weights URLs and where settings come from.")
@quiet_option("Print only the names, one per line.")
def command(as_json: bool, verbose: bool, quiet: bool) -> None:
    """List the registered models and whether their weights are available locally.

    Use a name with `gcl-bench run --model NAME`; any open_clip architecture works as
    `--model open_clip:ARCH --pretrained PATH`, any Hugging Face E5 model as `--model e5:NAME`,
    and your own encoder as `--model path/to/file.py:ClassName`.
    """
    from gcl_bench.fields import format_fields
    from gcl_bench.models import get_model_info, list_models, weights_status

    if quiet and not as_json:
        for name in list_models():
            click.echo(name)
        return
    rows = []
    for name in list_models():
        info = get_model_info(name)
        row = info.as_dict()
        row["weights"] = weights_status(info)
        rows.append(row)
    if as_json:
        from gcl_bench.io import dumps_json

        click.echo(dumps_json(rows).decode("utf-8"), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="gcl_bench models", show_lines=False)
    for column in ("name", "family", "arch", "query fields", "doc fields", "prefixes", "weights", "trained on"):
        table.add_column(column, overflow="fold")
    if verbose:
        table.add_column("url / source", overflow="fold")
    for row in rows:
        prefixes = row["prefixes"] or {}
        prefix_text = ", ".join(f"{side}={text!r}" for side, text in prefixes.items() if text) or "-"
        cells = [
            row["name"],
            row["family"],
            (row["arch"] or "-") + (f" / {row['pretrained_tag']}" if row["pretrained_tag"] else ""),
            format_fields(row["query_fields"]) if row["query_fields"] else "-",
            format_fields(row["doc_fields"]) if row["doc_fields"] else "-",
            prefix_text,
            row["weights"],
            _trained_on(row["training_data"]),
        ]
        if verbose:
            cells.append(" ; ".join(x for x in (row["url"] or row["hf_name"] or "", row["source"]) if x))
        table.add_row(*cells)
    import sys

    width = None if sys.stdout.isatty() else (220 if verbose else 140)
    Console(width=width).print(table)


def _trained_on(record: dict | None) -> str:
    """The benchmark splits a training record names: ``-`` none of them, ``not stated`` unknown."""
    datasets = (record or {}).get("datasets")
    if datasets is None:
        return "not stated"
    return "; ".join(f"{name}: {', '.join(splits)}" for name, splits in datasets.items()) or "-"
