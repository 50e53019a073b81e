"""``gcl-bench run``: evaluate one model on one or all splits, end to end."""
from __future__ import annotations

from typing import Any

import click

from gcl_bench.commands.common import (
    data_dir_option,
    fact_lines,
    image_root_option,
    metrics_table,
    parse_metric_list,
    protocol_option,
    subset_option,
)


@click.command("run")
@click.option("--model", "-m", required=True, help="Registry name (see `gcl-bench models`), open_clip:ARCH, e5:NAME, or a plug-in file.py:Class / package.module:Class.")
@click.option("--split", "-s", "splits", default=None, help="in_domain, novel_query, novel_document, zero_shot (file stems and aliases accepted), a comma list, or 'all'  [default: zero_shot]. A BEIR folder: its qrels file, test, dev or train  [default: test]; 'all' = all but train.")
@data_dir_option
@subset_option
@image_root_option
@click.option("--eval-set", type=click.Choice(["test", "dev"]), default="test", show_default=True, help="Which judgements to score against (gt_test or gt_dev); in a BEIR folder --split names the qrels file instead.")
@click.option("--pretrained", default=None, help="Checkpoint path (or open_clip pretrained tag) for open_clip:/e5: models.")
@click.option("--model-arg", "model_args", multiple=True, metavar="KEY=VALUE", help="Passed to the model's constructor; repeatable.")
@click.option("--query-fields", default=None, help="Query fields and weights, e.g. text:1.")
@click.option("--doc-fields", default=None, help="Document fields and weights, e.g. image:0.9,title:0.1.")
@click.option("--context-length", type=int, default=None, help="Text context length (default: the architecture's).")
@click.option("--top-k", type=int, default=1000, show_default=True, help="Documents retrieved per query.")
@click.option("--index", type=click.Choice(["flat", "ivf", "hnsw", "ivfpq"]), default="flat", show_default=True, help="FAISS index; flat is exact (the paper's protocol).")
@click.option("--index-recall", is_flag=True, help="Report recall@k of an approximate index against exact search.")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--num-workers", type=int, default=0, show_default=True, help="Image-decoding worker processes.")
@click.option("--decode", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True, help="Where images are decoded and preprocessed: cpu (PIL, the model's own transforms) or gpu (nvjpeg + the same transforms as tensor ops on the model's GPU).")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA when available), cpu, cuda, cuda:1 ...")
@click.option("--precision", type=click.Choice(["auto", "fp32", "fp16", "bf16"]), default="auto", show_default=True, help="Autocast on CUDA (auto = fp16, as the reference evaluation); CPU always runs fp32.")
@click.option("--dtype", type=click.Choice(["float32", "float16"]), default="float32", show_default=True, help="Stored embedding precision.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the embedding and dataset caches.")
@click.option("--trust-checkpoint", is_flag=True, help="Allow checkpoints that need full unpickling (only for files you trust).")
@click.option("--metrics", default=None, help="Comma-separated metric names (default: nDCG@10, ERR, RBP@p, MAP, MRR, recall, P).")
@click.option("--output-dir", "-o", default=None, help="Where to write results (default results/<dataset>/<split>/<model>/); with several splits, one sub-folder per split.")
@click.option("--trec", is_flag=True, help="Also write run.trec and qrels.trec (whitespace-free query ids, for trec_eval qrels.trec run.trec) with their query-id maps.")
@click.option("--weight-column", default="score_linear", show_default=True, help="CSV column graded judgements are built from when no gt file exists ('none': grade 1 everywhere).")
@click.option("--top-q", type=click.IntRange(min=1), default=2000, show_default=True, help="Queries drawn when judgements are sampled from the split CSV (no gt file).")
@click.option("--judged-top-k", type=click.IntRange(min=1), default=None, help="Judged documents kept per sampled query (no gt file)  [default: 1000; --top-k under --protocol reference].")
@click.option("--allow-unreachable", is_flag=True, help="Score even when most judged products are not in the corpus (they count as never retrieved).")
@protocol_option
@click.option("--name", default=None, help="Row name in results and leaderboards, and the default output folder (default: the model's name).")
@click.option("--similarity", type=click.Choice(["cos", "dot"]), default=None, help="Plug-in encoders: score by cosine or dot product (BEIR's score_function); default: the model's `similarity` attribute, else cos.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the metrics table and the warnings.")
def command(
    model: str, splits: str | None, data_dir: str | None, subset: str | None, image_root: str | None,
    eval_set: str, pretrained: str | None, model_args: tuple[str, ...], query_fields: str | None,
    doc_fields: str | None, context_length: int | None, top_k: int, index: str, index_recall: bool,
    batch_size: int, num_workers: int, decode: str, device: str, precision: str, dtype: str, no_cache: bool,
    trust_checkpoint: bool, metrics: str | None, output_dir: str | None, trec: bool,
    weight_column: str, top_q: int, judged_top_k: int | None, allow_unreachable: bool, protocol: str,
    name: str | None,
    similarity: str | None, quiet: bool,
) -> None:
    """Evaluate MODEL on a split: load -> encode (cached) -> index -> search -> score -> write.

    \b
    Examples:
      gcl-bench run --model bm25 --split all
      gcl-bench run --model gcl-vitb32 --split zero_shot --data-dir marqo-gs-dataset --image-root images
      gcl-bench run --model open_clip:ViT-B-32 --pretrained ckpt.pt --doc-fields image:0.9,title:0.1
      gcl-bench run --model my_encoder.py:MyEncoder --model-arg dim=256
    """

    from gcl_bench.progress import make_reporter

    reporter = make_reporter(not quiet)  # a spinner is on stderr before anything heavy is imported
    from gcl_bench.kernels import set_note_sink

    set_note_sink(lambda text: reporter.log(f"[dim]note[/]: {text}"))
    try:
        with reporter.status("loading gcl_bench"):
            from gcl_bench.data import split_names
            from gcl_bench.metrics import DEFAULT_METRICS
            from gcl_bench.models import parse_model_args

        if decode == "gpu":  # refused up front, whatever the model, where it cannot run
            from gcl_bench.devices import resolve_device
            from gcl_bench.models.images import check_decode

            check_decode(decode, resolve_device(device))
        names = split_names(data_dir, splits, subset)
        metric_names = parse_metric_list(metrics) or list(DEFAULT_METRICS)
        shared = dict(
            model=model, data_dir=data_dir, subset=subset, eval_set=eval_set, image_root=image_root,
            top_k=top_k, index=index, index_recall=index_recall, batch_size=batch_size,
            device=device, precision=precision, dtype=dtype, pretrained=pretrained,
            model_args=parse_model_args(model_args), query_fields=query_fields,
            doc_fields=doc_fields, context_length=context_length, num_workers=num_workers, decode=decode,
            use_cache=not no_cache, trust_checkpoint=trust_checkpoint, metrics=metric_names,
            trec=trec, weight_column=weight_column, top_q=top_q, allow_unreachable=allow_unreachable,
            name=name, similarity=similarity, show_progress=not quiet, protocol=protocol,
        )
        if judged_top_k is not None:  # an explicit depth; under --protocol reference it must be --top-k
            if protocol == "reference" and judged_top_k != top_k:
                from gcl_bench.errors import GclBenchError

                raise GclBenchError(f"--judged-top-k {judged_top_k} differs from --top-k {top_k}: under --protocol "
                                    "reference sampled judgements are cut at --top-k, as the reference does")
            shared["judged_top_k"] = judged_top_k
        _run_splits(reporter, names, shared, output_dir, eval_set, metric_names, model, quiet)
    finally:
        set_note_sink(None)
        reporter.close()
        from gcl_bench import distributed

        if distributed.is_distributed():
            distributed.destroy_process_group()


def _run_splits(
    reporter: Any, names: list[str], shared: dict[str, Any], output_dir: str | None,
    eval_set: str, metric_names: list[str], model: str, quiet: bool = False,
) -> None:
    """Evaluate each split in turn, building the model once; print the metrics table.

    After each split its line, its stage summary and its facts (:mod:`gcl_bench.results.facts`)
    stay on stderr; with ``quiet`` the warnings among the facts are still printed.
    """
    from pathlib import Path

    from rich.console import Console

    from gcl_bench.commands.summary import index_recall_line, stage_table
    from gcl_bench.runner import RunSettings, model_stage, run_evaluation

    warnings = Console(stderr=True)  # with --quiet the reporter prints nothing, the warnings still
    rows: dict[str, dict[str, float]] = {}
    runs: dict[str, dict[str, Any]] = {}
    built_model = None
    model_name = model
    for name in names:
        out = None
        if output_dir is not None:
            out = str(Path(output_dir) / name) if len(names) > 1 else output_dir
        settings = RunSettings(split=name, output_dir=out, **shared)
        if built_model is None:
            with reporter.status(f"loading model {model}"):
                built_model = model_stage(settings)
        results = run_evaluation(settings, model=built_model, reporter=reporter)
        if results is None:  # a helper rank under torchrun: it only helps encode each split
            continue
        if output_dir is not None and not rows:  # this run's first set: --output-dir is now its own
            from gcl_bench.results import remove_other_sets

            for folder in remove_other_sets(output_dir, results["output_dir"]):
                reporter.log(f"[yellow]note[/]: removed the results an earlier run left in {folder}")
        model_name = results["model"]["name"]
        rows[name] = results["metrics"]
        runs[name] = results
        reporter.log(
            f"[green]{name}[/]: {results['num_queries']} queries, "
            f"{results['dataset'].get('num_docs', '?')} documents -> {results['output_dir']}"
        )
        recall = index_recall_line(results)
        if recall:
            reporter.log(f"  {recall}")
        for line in fact_lines(results, label=name, warnings_only=quiet):
            if quiet:
                warnings.print(line, soft_wrap=True)
            else:
                reporter.log(line)
    if runs:
        reporter.log(stage_table(runs))
    reporter.close()
    if rows:
        Console().print(metrics_table(f"{model_name} ({eval_set})", rows, metric_names))
