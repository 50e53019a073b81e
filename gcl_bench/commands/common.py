"""Option parsing shared by several sub-commands."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from gcl_bench.errors import GclBenchError

F = TypeVar("F", bound=Callable[..., Any])


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


def fact_lines(results: dict[str, Any], label: str = "", warnings_only: bool = False) -> list[str]:
    """The facts of a results dict (:func:`gcl_bench.results.facts.facts`) as console lines
    (rich markup), warnings first; ``warnings_only`` drops the notes."""
    from rich.markup import escape

    from gcl_bench.results.facts import WARNING, facts

    prefix = f"{label}: " if label else ""
    return [
        f"  [{'yellow' if fact.level == WARNING else 'dim'}]{fact.level}[/]: {escape(prefix + fact.text)}"
        for fact in facts(results)
        if fact.level == WARNING or not warnings_only
    ]


def print_facts(console: Any, results: dict[str, Any], label: str = "", warnings_only: bool = False) -> None:
    """Print :func:`fact_lines` on ``console``, one line each."""
    for line in fact_lines(results, label, warnings_only):
        console.print(line, soft_wrap=True)


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


protocol_option = click.option(
    "--protocol",
    type=click.Choice(["default", "reference"]),
    default="default",
    show_default=True,
    help="default: trec_eval's tie order for every metric, ids kept as written; reference: the GCL reference "
    "evaluation's choices (ERR, RBP, MRR, accuracy and hole keep ties in search order, a missing first "
    "text field encoded as 'None', sampled judgements with pandas-parsed ids cut at --top-k).",
)


def quiet_option(help: str = "Print only results and errors (no progress, no notes).") -> Callable[[F], F]:
    """``-q/--quiet``, the same flag on every command."""
    return click.option("--quiet", "-q", is_flag=True, help=help)


def output_option(
    *decls: str, dest: str, old: tuple[str, ...] = (), help: str, required: bool = False,
    path_type: type = str, file: bool = False,
) -> Callable[[F], F]:
    """An output option with earlier spellings kept as hidden aliases.

    Folders are ``-o/--output-dir``, files ``-o/--output`` on every command; ``old`` names the
    earlier spellings (``--out``, ``--to``), which still work but are not listed in ``--help``.
    Giving two spellings with different values is a usage error, as is none when ``required``.
    """
    kind = click.Path(dir_okay=not file, file_okay=file, path_type=path_type)
    aliases = [f"{dest}_alias_{index}" for index in range(len(old))]

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            value = kwargs.get(dest)
            for spelling, alias in zip(old, aliases):
                given = kwargs.pop(alias)
                if given is None:
                    continue
                if value is not None and given != value:
                    raise click.UsageError(f"{spelling} is another spelling of {decls[0]}: give one of them")
                value = given
            if value is None and required:
                raise click.UsageError(f"Missing option {' / '.join(decls)}.")
            kwargs[dest] = value
            return func(*args, **kwargs)

        for spelling, alias in zip(old, aliases):
            wrapper = click.option(spelling, alias, type=kind, default=None, hidden=True)(wrapper)
        return click.option(*decls, dest, type=kind, default=None, help=help)(wrapper)  # type: ignore[return-value]

    return decorate
