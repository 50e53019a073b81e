"""``gcl-bench evaluate``: score an external run against judgements, exactly as ``run`` does."""
from __future__ import annotations

import click

from gcl_bench.commands.common import (
    metrics_table,
    parse_metric_list,
    print_facts,
    protocol_option,
    quiet_option,
)


@click.command("evaluate")
@click.option("--qrels", required=True, type=click.Path(dir_okay=False, path_type=str), help="Judgements: gt JSON, TREC qrels or BEIR TSV.")
@click.option("--run", "run_path", required=True, type=click.Path(dir_okay=False, path_type=str), help="Run: BEIR JSON or TREC run file.")
@click.option("--metrics", default=None, help="Comma-separated metric names, in gcl_bench's or trec_eval/ir_measures/BEIR/MTEB spelling (default: as `gcl-bench run`).")
@click.option("--top-k", type=click.IntRange(min=1), default=None, help="Score only each query's top K documents.")
@click.option("--output", "-o", default=None, type=click.Path(dir_okay=False, path_type=str), help="Also write the means (and counts) as JSON.")
@click.option("--per-query", default=None, type=click.Path(dir_okay=False, path_type=str), help="Also write per-query values to this file.")
@click.option("--per-query-format", type=click.Choice(["csv", "trec"]), default="csv", show_default=True,
              help="csv: query_id then one column per metric; trec: trec_eval -q lines 'metric<TAB>query<TAB>value', then the 'all' means.")
@protocol_option
@quiet_option("Print only the metrics table and the warnings.")
def command(
    qrels: str, run_path: str, metrics: str | None, top_k: int | None, output: str | None,
    per_query: str | None, per_query_format: str, protocol: str, quiet: bool,
) -> None:
    """Score RUN against QRELS with the same metrics and ranking order as `gcl-bench run`.

    Under --protocol reference, tied documents keep the order a JSON run lists them in and the
    rank column of a TREC run, as the GCL reference evaluation reads its retrieval.json."""
    from pathlib import Path

    from rich.console import Console

    from gcl_bench.data.repeats import RepeatedKeys
    from gcl_bench.io import check_writable, write_json, write_text
    from gcl_bench.metrics import DEFAULT_METRICS, JudgedRun
    from gcl_bench.results import per_query_csv, per_query_trec, read_qrels
    from gcl_bench.results.run_lists import read_run_lists
    from gcl_bench.results.sets import refuse_overwriting

    for option, target in (("--output", output), ("--per-query", per_query)):
        if target:
            refuse_overwriting(target, option)
            check_writable(Path(target).parent, f"the folder of {option}")
    repeats: list[RepeatedKeys] = []
    if not quiet:  # a note, as the others
        from gcl_bench.kernels import set_note_sink

        set_note_sink(lambda text: Console(stderr=True).print(f"[dim]note[/]: {text}"))
    judgements = read_qrels(qrels, repeats)
    reference = protocol == "reference"
    run = read_run_lists(run_path, repeats, by_rank=reference, float64_scores=reference)
    _check_queries_match(judgements, run.query_ids, qrels, run_path)
    names = parse_metric_list(metrics) or list(DEFAULT_METRICS)
    result = JudgedRun.from_lists(judgements, run, top_k=top_k, protocol=protocol).compute(names)
    del run
    if per_query:  # built before anything is written: a query id it cannot hold is refused first
        if per_query_format == "trec":
            table = per_query_trec(result.query_ids, result.per_query, result.means, names)
        else:
            table = per_query_csv(result.query_ids, result.per_query, names)
    summary = {
        "metrics": {name: float(result.means[name]) for name in names},
        "num_queries": int(result.num_queries),
        "missing_from_run": int(result.missing_from_run),
        "queries": {key: int(value) for key, value in result.query_counts().items()},
        "tied_lists": int(result.tied_lists),
        "ignored_run_queries": int(result.ignored_run_queries),
        "load_report": {"repeated_keys": [r.to_dict() for r in repeats]},
        "protocol": protocol,
        "qrels": qrels,
        "run": run_path,
    }
    Console().print(metrics_table(f"{run_path} ({result.num_queries} queries)", {"": result.means}, names))
    print_facts(Console(stderr=True), summary, warnings_only=quiet)
    if output:
        write_json(output, summary)
    if per_query:
        write_text(per_query, table)


def _check_queries_match(judgements: dict, run_queries: list[str], qrels_path: str, run_path: str) -> None:
    """One clear error when no query of the run is judged, naming a TREC query-id map that is missing."""
    from gcl_bench.errors import GclBenchError
    from gcl_bench.results import missing_qid_map

    if not set(judgements).isdisjoint(run_queries):
        return
    examples = f"e.g. judged {next(iter(judgements))!r}, in the run {next(iter(run_queries), '')!r}"
    for path, what in ((run_path, "run"), (qrels_path, "judgements")):
        missing = missing_qid_map(path)
        if missing is not None:
            raise GclBenchError(
                f"no query of the run is in the judgements {qrels_path} ({examples}); the TREC {what} "
                f"file has no query-id map beside it: {missing} is missing (gcl-bench run --trec writes "
                f"it next to the file; copy it along to map the ids back to the judgement keys)",
                path,
            )
    raise GclBenchError(f"no query of the run is in the judgements {qrels_path} ({examples})", run_path)
