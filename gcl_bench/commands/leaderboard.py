"""``gcl-bench leaderboard``: paper tables (Markdown, LaTeX, CSV) and metric@k plots from results."""
from __future__ import annotations

from pathlib import Path

import click

from gcl_bench.commands.common import output_option, quiet_option
from gcl_bench.errors import GclBenchError


def _split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or None


def _parse_labels(values: tuple[str, ...]) -> dict[str, str]:
    labels = {}
    for value in values:
        path, sep, name = value.rpartition("=")
        if not sep or not path or not name:
            raise GclBenchError(f"--label expects PATH=NAME, got {value!r}")
        labels[path] = name
    return labels


@click.command("leaderboard")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["markdown", "latex", "csv"]), default="markdown",
              show_default=True, help="Output format.")
@click.option("--metrics", default=None, help="Comma-separated metrics, any accepted spelling (NDCG@10, ndcg_cut_10...)  [default: ndcg@10,err,rbp@0.9]")
@click.option("--splits", default=None, help="Comma-separated splits to show (shown in paper order).")
@click.option("--baseline", default=None, help="Model name to test every other model against.")
@click.option("--test", type=click.Choice(["ttest", "randomization"]), default="ttest", show_default=True,
              help="Paired two-sided test on per-query values.")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="Significance level after Holm correction.")
@click.option("--permutations", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Random sign flips for --test randomization.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the randomisation test.")
@click.option("--include-reported", is_flag=True,
              help="Add the published numbers (leaderboards/reported.json) as rows marked 'reported'.")
@click.option("--reported-file", type=click.Path(path_type=Path), default=None,
              help="Use another file of published numbers.")
@click.option("--label", "labels", multiple=True, metavar="PATH=NAME",
              help="Row name for a results file or any folder above it (repeatable).")
@click.option("--caption", default=None,
              help="LaTeX caption, inserted as written (default: what the numbers are, how bold and marks are chosen).")
@click.option("--latex-label", default="tab:leaderboard", show_default=True,
              help="LaTeX \\label of the table (later tables get -2, -3, ...); '' for none.")
@click.option("--latex-layout", type=click.Choice(["auto", "column", "full-width", "per-split"]), default="auto",
              show_default=True,
              help="column: a table, splits as column groups; full-width: the same as table*; per-split: "
                   "metrics as columns, a block of rows per split; auto: column if it fits a column, else "
                   "full-width if it fits the page, else per-split.")
@output_option("--output", "-o", dest="out", old=("--out",), file=True, path_type=Path,
               help="Write the table to this file instead of stdout.")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="Also draw nDCG@k and recall@k curves into this file; .pdf, .svg or .png (one file per table).")
@quiet_option("Print only the table (no 'wrote FILE' lines).")
def command(
    results: tuple[Path, ...],
    fmt: str,
    metrics: str | None,
    splits: str | None,
    baseline: str | None,
    test: str,
    alpha: float,
    permutations: int,
    seed: int,
    include_reported: bool,
    reported_file: Path | None,
    labels: tuple[str, ...],
    caption: str | None,
    latex_label: str,
    latex_layout: str,
    out: Path | None,
    plot: Path | None,
    quiet: bool,
) -> None:
    """Build a leaderboard from RESULTS (results.json files or folders searched recursively).

    Rows are models, column groups are splits, cells are metric means; the best value per
    column is bold; with --baseline each cell gets a significance mark from a paired test on
    per-query values (per_query.csv beside each results.json), Holm-corrected across models.
    Results of different datasets, eval sets, top-k or judgements go to separate tables.
    """
    from gcl_bench import leaderboard as lb
    from gcl_bench.io import check_writable, write_text
    from gcl_bench.results.sets import refuse_overwriting

    if plot is not None:
        lb.check_plot_path(plot)  # before anything is written
    for option, target in (("--output", out), ("--plot", plot)):
        if target is not None:
            refuse_overwriting(target, option)
            check_writable(target.parent, f"the folder of {option}")
    options = lb.TableOptions(
        metrics=_split_list(metrics) or lb.DEFAULT_METRICS,
        splits=_split_list(splits),
        baseline=baseline,
        test=test,
        alpha=alpha,
        permutations=permutations,
        seed=seed,
    )
    entries = lb.load_entries(lb.discover(results), labels=_parse_labels(labels))
    reported = lb.load_reported(reported_file) if include_reported or reported_file else []
    tables = lb.build_tables(entries, options, reported=reported)
    text = lb.render(tables, fmt, lb.LatexOptions(caption=caption, label=latex_label or None, layout=latex_layout))
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text(out, text)
        if not quiet:
            click.echo(f"wrote {out}", err=True)
    if plot is not None:
        plotted = [t for t in tables if not t.setting.get("reported_only")]
        for index, table in enumerate(plotted):
            target = plot if index == 0 else plot.with_name(f"{plot.stem}-{index + 1}{plot.suffix}")
            lb.plot_curves(table, target)
            if not quiet:
                click.echo(f"wrote {target}", err=True)
