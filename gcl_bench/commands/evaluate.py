"""``gcl-bench evaluate``: score an external run against judgements, exactly as ``run`` does."""
from __future__ import annotations

import click

from gcl_bench.commands.common import metrics_table, parse_metric_list, print_facts


@click.command("evaluate")
@click.option("--qrels", required=True, type=click.Path(dir_okay=False, path_type=str), help="Judgements: gt JSON, TREC qrels or BEIR TSV.")
@click.option("--run", "run_path", required=True, type=click.Path(dir_okay=False, path_type=str), help="Run: BEIR JSON or TREC run file.")
@click.option("--metrics", default=None, help="Comma-separated metric names (default: as `gcl-bench run`).")
@click.option("--top-k", type=click.IntRange(min=1), default=None, help="Score only each query's top K documents.")
@click.option("--output", default=None, type=click.Path(dir_okay=False, path_type=str), help="Also write the means (and counts) as JSON.")
@click.option("--per-query", default=None, type=click.Path(dir_okay=False, path_type=str), help="Also write per-query values as CSV.")
def command(qrels: str, run_path: str, metrics: str | None, top_k: int | None, output: str | None, per_query: str | None) -> None:
    """Score RUN against QRELS with the same metrics and ranking order as `gcl-bench run`."""
    from rich.console import Console

    from gcl_bench.data.repeats import RepeatedKeys
    from gcl_bench.errors import GclBenchError
    from gcl_bench.io import write_json, write_text
    from gcl_bench.metrics import DEFAULT_METRICS, JudgedRun
    from gcl_bench.results import per_query_csv, read_qrels, read_run

    repeats: list[RepeatedKeys] = []
    judgements = read_qrels(qrels, repeats)
    run = read_run(run_path, repeats)
    if not set(judgements) & set(run):
        example = next(iter(judgements))
        raise GclBenchError(f"no query of the run is in the judgements {qrels} (e.g. judged query {example!r})", run_path)
    names = parse_metric_list(metrics) or list(DEFAULT_METRICS)
    result = JudgedRun.from_dicts(judgements, run, top_k=top_k).compute(names)
    summary = {
        "metrics": {name: float(result.means[name]) for name in names},
        "num_queries": int(result.num_queries),
        "missing_from_run": int(result.missing_from_run),
        "queries": {key: int(value) for key, value in result.query_counts().items()},
        "tied_lists": int(result.tied_lists),
        "ignored_run_queries": int(result.ignored_run_queries),
        "load_report": {"repeated_keys": [r.to_dict() for r in repeats]},
        "qrels": qrels,
        "run": run_path,
    }
    Console().print(metrics_table(f"{run_path} ({result.num_queries} queries)", {"": result.means}, names))
    print_facts(Console(stderr=True), summary)
    if output:
        write_json(output, summary)
    if per_query:
        write_text(per_query, per_query_csv(result.query_ids, result.per_query, names))
