"""One evaluation, end to end: load -> encode (cached) -> index -> search -> score -> write.

Each stage is a plain function with plain inputs and outputs, so it can be tested and reused
alone; :func:`run_evaluation` strings them together and times each one. Dense models go through
:func:`gcl_bench.encode.encode_split` (embedding cache, torchrun sharding) and a FAISS index;
lexical models (anything with ``search`` / ``search_arrays``) retrieve directly. Every path ends
in the same ``(scores, indices)`` arrays, which the metrics layer scores without building dicts;
:mod:`gcl_bench.results` writes them, with the scores, as one output set.

May import: every stage's package (data, models, encode, index, metrics, results), distributed.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench.data import Split
from gcl_bench.errors import GclBenchError
from gcl_bench.models.protocols import (
    accepts_keyword,
    accepts_progress,
    has_search_arrays,
    is_field_encoder,
    is_lexical,
)
from gcl_bench.progress import ProgressCallback, SilentReporter, make_reporter, step_callback
from gcl_bench.protocol import REFERENCE, check_protocol, sampled_judgement_depth
from gcl_bench.results import (
    SCHEMA_VERSION,
    default_output_dir,
    per_query_csv,
    run_json,
    trec_qrels,
    trec_query_ids,
    trec_run,
    write_outputs,
)
from gcl_bench.results.record import cache_summary, jsonable, package_versions, settings_record


@dataclass
class RunSettings:
    """Everything that decides one evaluation (recorded in results.json ``settings``)."""

    model: str = "bm25"
    split: str = "zero_shot"
    data_dir: str | None = None
    subset: str | None = None
    eval_set: str = "test"
    image_root: str | None = None
    top_k: int = 1000
    output_dir: str | None = None
    index: str = "flat"
    index_recall: bool = False
    batch_size: int = 64
    device: str = "auto"
    precision: str = "auto"
    dtype: str = "float32"
    pretrained: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    query_fields: str | None = None
    doc_fields: str | None = None
    context_length: int | None = None
    num_workers: int = 0
    decode: str = "cpu"
    use_cache: bool = True
    trust_checkpoint: bool = False
    metrics: Sequence[str] | None = None
    trec: bool = False
    weight_column: str = "score_linear"
    top_q: int = 2000
    judged_top_k: int = 1000
    name: str | None = None
    """Row name in results and leaderboards, and the default output folder (default: the model's name)."""
    similarity: str | None = None
    """``cos`` or ``dot`` for a plug-in encoder (BEIR's ``score_function``); None: its own ``similarity``."""
    allow_unreachable: bool = False
    show_progress: bool = False
    protocol: str = "default"
    """``default`` or ``reference`` (the GCL reference evaluation's choices; see :mod:`gcl_bench.protocol`)."""

    def __post_init__(self) -> None:
        check_settings(self)


#: setting -> (its ``gcl-bench run`` option, the smallest value it takes)
SETTING_MINIMA = {"top_k": ("--top-k", 1), "batch_size": ("--batch-size", 1), "num_workers": ("--num-workers", 0),
                  "context_length": ("--context-length", 1)}


def check_settings(settings: RunSettings) -> None:
    """Refuse a numeric setting below its minimum, naming its option (an unset context length is fine)."""
    for name, (option, least) in SETTING_MINIMA.items():
        value = getattr(settings, name)
        if value is None and name == "context_length":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise GclBenchError(f"{option} must be an integer of at least {least}, got {value!r}")


def image_weight(model: Any) -> float | None:
    """The weight a field encoder gives the document image; None when the model does not say."""
    if is_field_encoder(model):
        return float(dict(model.doc_fields).get("image", 0.0))
    return None


@dataclass
class Retrieval:
    """The output of retrieval: best-first ``scores`` (Q, K) and row ``indices`` (Q, K), -1 = none."""

    scores: np.ndarray
    indices: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


class StageTimer:
    """Wall-clock seconds per stage, in the order the stages ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


# -- stage: load ---------------------------------------------------------------------------
def load_stage(settings: RunSettings, progress: ProgressCallback | None = None) -> Split:
    """Load the split named by ``settings`` (the bundled sample when no data dir is given);
    ``progress`` follows the parse of a large corpus file."""
    from gcl_bench.data import load_split

    return load_split(
        settings.data_dir,
        settings.split,
        eval_set=settings.eval_set,
        image_root=settings.image_root,
        subset=settings.subset,
        weight_column=settings.weight_column,
        top_q=settings.top_q,
        top_k=sampled_judgement_depth(settings.protocol, settings.top_k, settings.judged_top_k, RunSettings.judged_top_k),
        use_cache=settings.use_cache,
        progress=progress,
        protocol=settings.protocol,
    )


# -- stage: model --------------------------------------------------------------------------
def model_stage(settings: RunSettings) -> Any:
    """Instantiate the retriever named by ``settings.model`` (registry name, family:arch, plug-in);
    an open_clip checkpoint seen before is built only when something must be encoded."""
    from gcl_bench.models import load_model

    return load_model(
        settings.model,
        pretrained=settings.pretrained,
        model_args=settings.model_args,
        device=settings.device,
        precision=settings.precision,
        query_fields=settings.query_fields,
        doc_fields=settings.doc_fields,
        context_length=settings.context_length,
        num_workers=settings.num_workers,
        decode=settings.decode,
        trust_checkpoint=settings.trust_checkpoint,
        defer_build=True,
    )


# -- stage: retrieve (lexical) ---------------------------------------------------------------
def lexical_retrieve(model: Any, split: Split, top_k: int, progress: ProgressCallback | None = None,
                     keep_order: bool = False, use_cache: bool = False) -> Retrieval:
    """Retrieve with a lexical model: its array fast path, else BEIR's ``search`` dict form.

    ``progress(step, done, total)`` goes to a ``search_arrays`` that takes a ``progress`` keyword.

    BEIR's form is ``search(corpus, queries, top_k)`` with ``corpus = {doc_id: {"title", "text"}}``
    and ``queries = {query_id: text}``, returning ``{query_id: {doc_id: score}}``. The array form
    gets :attr:`Split.doc_search_texts` (the title, or BEIR's ``title + " " + text``).
    ``keep_order``: tied documents of the dict form keep the model's order (the reference protocol).
    ``use_cache`` goes to a ``search_arrays`` that takes a ``cache`` keyword (BM25's index cache),
    whose ``retrieval_info`` then joins the retrieval record.
    """
    if has_search_arrays(model):
        extra: dict[str, Any] = {"progress": progress} if progress is not None and accepts_progress(model.search_arrays) else {}
        if accepts_keyword(model.search_arrays, "cache"):
            extra["cache"] = use_cache
        scores, indices = model.search_arrays(split.doc_search_texts, split.query_texts, top_k, **extra)
        info = dict(getattr(model, "retrieval_info", None) or {}) if use_cache else {}
        return Retrieval(np.asarray(scores, dtype=np.float32), np.asarray(indices, dtype=np.int64), info)
    corpus = {doc["id"]: {"title": doc["title"], "text": doc["text"]} for doc in split.corpus_dicts}
    queries = dict(zip(split.query_ids, split.query_texts))
    run = model.search(corpus, queries, top_k)
    name = getattr(model, "name", type(model).__name__)
    return run_dict_to_arrays(run, split.query_ids, split.doc_ids, top_k, source=f"model {name}", keep_order=keep_order)


def run_dict_to_arrays(
    run: dict[str, dict[str, float]],
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    top_k: int,
    source: str = "run",
    keep_order: bool = False,
) -> Retrieval:
    """Convert ``{qid: {doc_id: score}}`` into best-first arrays over ``doc_ids`` rows.

    Keeps each query's ``top_k`` best documents (score descending, doc id descending on ties,
    the project's ranking order; ``keep_order``: ties in the dict's order). A doc id that is not
    in the corpus is an error.
    """
    if not isinstance(run, dict):
        raise GclBenchError(f"{source} returned {type(run).__name__}, expected {{query_id: {{doc_id: score}}}}")
    row_of = {doc_id: row for row, doc_id in enumerate(doc_ids)}
    width = max((min(len(run.get(qid) or {}), top_k) for qid in query_ids), default=0)
    width = max(width, 1)
    scores = np.zeros((len(query_ids), width), dtype=np.float32)
    indices = np.full((len(query_ids), width), -1, dtype=np.int64)
    for q, qid in enumerate(query_ids):
        ranked = run.get(qid) or {}
        by_score = (lambda item: -float(item[1])) if keep_order else (lambda item: (-np.float32(item[1]), _neg_key(item[0])))
        items = sorted(ranked.items(), key=by_score)
        for r, (doc_id, score) in enumerate(items[:top_k]):
            row = row_of.get(str(doc_id))
            if row is None:
                raise GclBenchError(f"{source} returned document {doc_id!r} that is not in the corpus")
            scores[q, r] = score
            indices[q, r] = row
    return Retrieval(scores, indices)


class _neg_key:
    """Sort key that orders strings descending inside an ascending sort."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _neg_key) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _neg_key) and self.value == other.value


# -- stage: encode + index + search (dense) -------------------------------------------------
def dense_retrieve(
    model: Any, split: Split, settings: RunSettings, timer: StageTimer, reporter: SilentReporter | None = None,
) -> Retrieval | None:
    """Encode (cached), index and search; returns None on torchrun ranks other than 0.

    ``reporter`` shows a bar per encoded side and field and for the search (silent when None).
    """
    from gcl_bench import index as faiss_index
    from gcl_bench.encode import encode_split

    reporter = reporter or SilentReporter()
    with timer.stage("encode"), reporter.status(f"encode {split.name}: {split.num_queries:,} queries, {split.num_docs:,} documents"):
        encoded = encode_split(
            model,
            split,
            batch_size=settings.batch_size,
            device=settings.device,
            cache=settings.use_cache,
            dtype=settings.dtype,
            progress=step_callback(reporter, "encode"),
            similarity=settings.similarity,
            protocol=settings.protocol,
        )
    if encoded is None:
        return None
    with timer.stage("index"), reporter.status(f"index {settings.index} ({len(encoded.doc_embeddings):,} documents)"):
        index = faiss_index.build_index(encoded.doc_embeddings, kind=settings.index, device=settings.device)
    with timer.stage("search"):
        depth = min(settings.top_k, int(encoded.doc_embeddings.shape[0]))  # past the corpus, nothing more
        search_progress = step_callback(reporter, "search")
        scores, indices = faiss_index.search(
            index, encoded.query_embeddings, depth,
            progress=lambda done, total: search_progress("queries", done, total),
        )
    info: dict[str, Any] = {"encode": encoded.info, "index": index.describe()}
    if settings.index_recall and settings.index != "flat":
        with timer.stage("index_recall"), reporter.status("index recall against exact search"):
            info["index_recall"] = {
                "k": depth,
                "recall": faiss_index.index_recall(index, encoded.doc_embeddings, encoded.query_embeddings, depth),
            }
    # documents without any usable field or with a zero embedding are not in the index: map index
    # rows to split rows; a query with a zero embedding retrieves nothing
    scores, indices = encoded.ranked(scores, indices)
    return Retrieval(scores, indices, info)


# -- stage: score -----------------------------------------------------------------------------
def score_stage(split: Split, retrieval: Retrieval, metrics: Sequence[str], protocol: str = "default") -> Any:
    """Score the retrieved arrays against the split's judgements, prepared once per split
    (:func:`~gcl_bench.metrics.split_judgements`), under ``protocol``: a MetricResult."""
    from gcl_bench.metrics import CURVE_CUTOFFS, JudgedRun, split_judgements

    judged = JudgedRun.from_arrays(
        split_judgements(split), split.query_ids, split.doc_ids, retrieval.indices, retrieval.scores,
        protocol=protocol,
    )
    curve_names = [f"{family}@{k}" for family in ("ndcg", "recall") for k in CURVE_CUTOFFS]
    wanted = list(dict.fromkeys([*metrics, *curve_names]))
    return judged.compute(wanted)


# -- the whole run -----------------------------------------------------------------------------
def run_evaluation(
    settings: RunSettings, model: Any = None, split: Split | None = None, reporter: SilentReporter | None = None,
) -> dict[str, Any] | None:
    """Evaluate one model on one split and write the outputs; returns the results dict.

    ``model`` may be an already built retriever (any BEIR-protocol encoder or lexical searcher);
    otherwise ``settings.model`` names it. Returns None on torchrun ranks other than 0, which
    only help encoding. ``reporter`` draws the progress (default: bars on stderr when
    ``settings.show_progress``, else nothing).
    """
    if reporter is None:
        with _own_reporter(settings.show_progress) as own:
            return run_evaluation(settings, model, split, own)
    from gcl_bench.data.scorable import check_scorable
    from gcl_bench.metrics import DEFAULT_METRICS, canonical_metric_names

    metrics = canonical_metric_names(settings.metrics or DEFAULT_METRICS)  # outputs use these names
    check_settings(settings)
    check_protocol(settings.protocol)
    timer = StageTimer()
    with timer.stage("load"):
        if split is None:
            if settings.data_dir is None:  # the bundled sample is built on first use: show it
                from gcl_bench.data.sample import default_sample_dir

                default_sample_dir(step_callback(reporter, "build the bundled sample (first use):"))
            with reporter.status(f"load {settings.split}"):
                split = load_stage(settings, step_callback(reporter, "load"))
            if settings.data_dir is None:
                split.meta["bundled_sample"] = True
        if model is None:
            with reporter.status(f"load model {settings.model}"):
                model = model_stage(settings)
    if split.num_docs == 0:
        raise GclBenchError("the corpus is empty", split.meta.get("path"))
    if not split.query_ids:
        raise GclBenchError(f"split {split.name} has no judged queries", split.meta.get("path"))
    check_scorable(split, allow_unreachable=settings.allow_unreachable, image_weight=image_weight(model),
                   image_root=settings.image_root)
    from gcl_bench.io import check_writable
    from gcl_bench.models import describe_model
    from gcl_bench.models.training import training_overlap

    model_info = describe_model(model, settings.model, checkpoint=settings.pretrained)
    if settings.name:  # the row name chosen by the user; the model's own name is kept beside it
        model_info = {**model_info, "name": settings.name, "model_name": model_info.get("name")}
    output_dir = Path(settings.output_dir) if settings.output_dir else default_output_dir(split, str(model_info["name"]))
    check_writable(output_dir, "--output-dir" if settings.output_dir else "output folder")  # before the long part

    if is_lexical(model):  # BEIR's two protocols: a lexical model searches, a dense one encodes
        from gcl_bench.distributed import is_main_process

        if settings.similarity is not None:
            raise GclBenchError("--similarity applies to dense plug-in encoders, not to a lexical model")
        if not is_main_process():  # nothing to shard: under torchrun, rank 0 does it all
            return None
        with timer.stage("search"):
            steps = step_callback(reporter, str(getattr(model, "name", None) or type(model).__name__))
            retrieval = lexical_retrieve(model, split, settings.top_k, steps, keep_order=settings.protocol == REFERENCE,
                                         use_cache=settings.use_cache)
    else:
        retrieval = dense_retrieve(model, split, settings, timer, reporter)
        if retrieval is None:
            return None

    with timer.stage("score"), reporter.status(f"score {split.num_queries:,} queries"):
        scored = score_stage(split, retrieval, metrics, settings.protocol)
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "metrics": {name: float(scored.means[name]) for name in metrics},
        "num_queries": int(scored.num_queries),
        "queries": {key: int(value) for key, value in scored.query_counts().items()}
        | {"retrieved_nothing": int((retrieval.indices < 0).all(axis=1).sum())},
        "tied_lists": int(scored.tied_lists),
        "curves": {
            family: {str(k): float(scored.means[f"{family}@{k}"]) for k in _curve_cutoffs()}
            for family in ("ndcg", "recall")
        },
        "model": model_info,
        "dataset": {
            **split.meta, "split": split.name, "eval_set": settings.eval_set,
            "num_docs": split.num_docs, "num_queries": split.num_queries,
        },
        "training_overlap": training_overlap(model_info.get("training_data"), split.meta, split.name),
        "load_report": split.report.to_dict(),
        "settings": settings_record(settings, metrics),
        "cache": cache_summary(split.meta.get("load_cache"), retrieval.info),
        "retrieval": jsonable(retrieval.info),
        "timings": {},
        "versions": package_versions(),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with timer.stage("write"), reporter.status(f"write {output_dir}"):
        ranked = (split.query_ids, split.doc_ids, retrieval.scores, retrieval.indices)
        run = run_json(*ranked)
        table = per_query_csv(scored.query_ids, scored.per_query, metrics)
        trec, trec_judgements = None, None
        if settings.trec:  # run.trec and qrels.trec share one query-id numbering
            trec_ids = trec_query_ids([*split.query_ids, *split.qrels])
            trec = (trec_run(*ranked, str(model_info["name"]), trec_ids)[0], {t: k for k, t in trec_ids.items()})
            trec_judgements = trec_qrels(split.qrels, trec_ids)
        results["timings"] = {name: round(value, 4) for name, value in timer.seconds.items()}
        write_outputs(output_dir, results, run, table, trec, trec_judgements)
    results["timings"] = {name: round(value, 4) for name, value in timer.seconds.items()}
    results["output_dir"] = str(output_dir)
    return results


@contextmanager
def _own_reporter(show: bool) -> Iterator[SilentReporter]:
    reporter = make_reporter(show)
    try:
        yield reporter
    finally:
        reporter.close()


def _curve_cutoffs() -> tuple[int, ...]:
    from gcl_bench.metrics import CURVE_CUTOFFS

    return tuple(CURVE_CUTOFFS)
