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

import platform
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench import __version__
from gcl_bench.data import Split
from gcl_bench.errors import GclBenchError
from gcl_bench.models.protocols import has_search_arrays, is_lexical
from gcl_bench.results import (
    SCHEMA_VERSION,
    default_output_dir,
    per_query_csv,
    run_to_dict,
    trec_run,
    write_outputs,
)


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
    show_progress: bool = False


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
def load_stage(settings: RunSettings) -> Split:
    """Load the split named by ``settings`` (the bundled sample when no data dir is given)."""
    from gcl_bench.data import load_split

    return load_split(
        settings.data_dir,
        settings.split,
        eval_set=settings.eval_set,
        image_root=settings.image_root,
        subset=settings.subset,
        weight_column=settings.weight_column,
        top_q=settings.top_q,
        top_k=settings.judged_top_k,
        use_cache=settings.use_cache,
    )


# -- stage: model --------------------------------------------------------------------------
def model_stage(settings: RunSettings) -> Any:
    """Instantiate the retriever named by ``settings.model`` (registry name, family:arch, plug-in)."""
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
    )


# -- stage: retrieve (lexical) ---------------------------------------------------------------
def lexical_retrieve(model: Any, split: Split, top_k: int) -> Retrieval:
    """Retrieve with a lexical model: its array fast path, else BEIR's ``search`` dict form.

    BEIR's form is ``search(corpus, queries, top_k)`` with ``corpus = {doc_id: {"title", "text"}}``
    and ``queries = {query_id: text}``, returning ``{query_id: {doc_id: score}}``.
    """
    if has_search_arrays(model):
        scores, indices = model.search_arrays(split.doc_titles, split.query_texts, top_k)
        return Retrieval(np.asarray(scores, dtype=np.float32), np.asarray(indices, dtype=np.int64))
    corpus = {doc_id: {"title": title, "text": ""} for doc_id, title in zip(split.doc_ids, split.doc_titles)}
    queries = dict(zip(split.query_ids, split.query_texts))
    run = model.search(corpus, queries, top_k)
    name = getattr(model, "name", type(model).__name__)
    return run_dict_to_arrays(run, split.query_ids, split.doc_ids, top_k, source=f"model {name}")


def run_dict_to_arrays(
    run: dict[str, dict[str, float]],
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    top_k: int,
    source: str = "run",
) -> Retrieval:
    """Convert ``{qid: {doc_id: score}}`` into best-first arrays over ``doc_ids`` rows.

    Keeps each query's ``top_k`` best documents (score descending, doc id descending on ties,
    the project's ranking order). A doc id that is not in the corpus is an error.
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
        items = sorted(ranked.items(), key=lambda item: (-np.float32(item[1]), _neg_key(item[0])))
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
    model: Any, split: Split, settings: RunSettings, timer: StageTimer
) -> Retrieval | None:
    """Encode (cached), index and search; returns None on torchrun ranks other than 0."""
    from gcl_bench import index as faiss_index
    from gcl_bench.encode import encode_split

    with timer.stage("encode"), _encode_progress(settings.show_progress) as progress:
        encoded = encode_split(
            model,
            split,
            batch_size=settings.batch_size,
            device=settings.device,
            cache=settings.use_cache,
            dtype=settings.dtype,
            progress=progress,
        )
    if encoded is None:
        return None
    with timer.stage("index"):
        index = faiss_index.build_index(encoded.doc_embeddings, kind=settings.index, device=settings.device)
    with timer.stage("search"):
        scores, indices = faiss_index.search(index, encoded.query_embeddings, settings.top_k)
    info: dict[str, Any] = {"encode": encoded.info, "index": index.describe()}
    if settings.index_recall and settings.index != "flat":
        with timer.stage("index_recall"):
            info["index_recall"] = {
                "k": settings.top_k,
                "recall": faiss_index.index_recall(
                    index, encoded.doc_embeddings, encoded.query_embeddings, settings.top_k
                ),
            }
    # documents without any usable field are not in the index: map index rows to split rows
    return Retrieval(scores, encoded.to_split_rows(indices), info)


@contextmanager
def _encode_progress(show: bool) -> Iterator[Any]:
    """A rich progress bar fed by encode_split's ``progress(label, done, total)`` callback."""
    if not show:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    tasks: dict[str, Any] = {}
    with Progress(
        TextColumn("encode {task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), transient=True,
    ) as bar:

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        yield update


# -- stage: score -----------------------------------------------------------------------------
def score_stage(split: Split, retrieval: Retrieval, metrics: Sequence[str]) -> Any:
    """Score the retrieved arrays against the split's judgements: a MetricResult."""
    from gcl_bench.metrics import CURVE_CUTOFFS, JudgedRun

    judged = JudgedRun.from_arrays(
        split.qrels, split.query_ids, split.doc_ids, retrieval.indices, retrieval.scores
    )
    curve_names = [f"{family}@{k}" for family in ("ndcg", "recall") for k in CURVE_CUTOFFS]
    wanted = list(dict.fromkeys([*metrics, *curve_names]))
    return judged.compute(wanted)


# -- stage: write -----------------------------------------------------------------------------
def versions() -> dict[str, str | None]:
    """Versions of the packages that decide the numbers (read from metadata, nothing imported)."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {"gcl_bench": __version__, "python": platform.python_version()}
    for key, dist in (
        ("torch", "torch"), ("open_clip", "open_clip_torch"), ("faiss", "faiss-cpu"),
        ("numpy", "numpy"), ("bm25s", "bm25s"), ("transformers", "transformers"),
    ):
        try:
            found[key] = version(dist)
        except PackageNotFoundError:
            found[key] = None
    if found["faiss"] is None:
        for dist in ("faiss-gpu-cu12", "faiss-gpu", "faiss"):
            try:
                found["faiss"] = version(dist)
                break
            except PackageNotFoundError:
                continue
    return found


# -- the whole run -----------------------------------------------------------------------------
def run_evaluation(settings: RunSettings, model: Any = None, split: Split | None = None) -> dict[str, Any] | None:
    """Evaluate one model on one split and write the outputs; returns the results dict.

    ``model`` may be an already built retriever (any BEIR-protocol encoder or lexical searcher);
    otherwise ``settings.model`` names it. Returns None on torchrun ranks other than 0, which
    only help encoding.
    """
    from gcl_bench.metrics import DEFAULT_METRICS

    metrics = list(settings.metrics or DEFAULT_METRICS)
    if settings.top_k < 1:
        raise GclBenchError(f"--top-k must be at least 1, got {settings.top_k}")
    timer = StageTimer()
    with timer.stage("load"):
        if split is None:
            split = load_stage(settings)
            if settings.data_dir is None:
                split.meta["bundled_sample"] = True
        if model is None:
            model = model_stage(settings)
    if split.num_docs == 0:
        raise GclBenchError("the corpus is empty", split.meta.get("path"))
    if not split.query_ids:
        raise GclBenchError(f"split {split.name} has no judged queries", split.meta.get("path"))

    if is_lexical(model):  # BEIR's two protocols: a lexical model searches, a dense one encodes
        from gcl_bench.distributed import is_main_process

        if not is_main_process():  # nothing to shard: under torchrun, rank 0 does it all
            return None
        with timer.stage("search"):
            retrieval = lexical_retrieve(model, split, settings.top_k)
    else:
        retrieval = dense_retrieve(model, split, settings, timer)
        if retrieval is None:
            return None

    with timer.stage("score"):
        scored = score_stage(split, retrieval, metrics)
    from gcl_bench.models import describe_model

    model_info = describe_model(model, settings.model, checkpoint=settings.pretrained)
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "metrics": {name: float(scored.means[name]) for name in metrics},
        "num_queries": int(scored.num_queries),
        "queries": {key: int(value) for key, value in scored.query_counts().items()},
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
        "load_report": split.report.to_dict(),
        "settings": _settings_record(settings, metrics),
        "cache": _cache_summary(split, retrieval),
        "retrieval": _jsonable(retrieval.info),
        "timings": {},
        "versions": versions(),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    output_dir = Path(settings.output_dir) if settings.output_dir else default_output_dir(split, str(model_info["name"]))
    with timer.stage("write"):
        ranked = (split.query_ids, split.doc_ids, retrieval.scores, retrieval.indices)
        run = run_to_dict(*ranked)
        table = per_query_csv(scored.query_ids, scored.per_query, metrics)
        trec = trec_run(*ranked, str(model_info["name"])) if settings.trec else None
        results["timings"] = {name: round(value, 4) for name, value in timer.seconds.items()}
        write_outputs(output_dir, results, run, table, trec)
    results["timings"] = {name: round(value, 4) for name, value in timer.seconds.items()}
    results["output_dir"] = str(output_dir)
    return results


def _cache_summary(split: Split, retrieval: Retrieval) -> dict[str, Any]:
    """Whether the dataset and embedding caches were hit (details stay under ``retrieval``)."""
    embeddings = retrieval.info.get("encode", {}).get("cache")
    summary: dict[str, Any] = {"dataset": split.meta.get("load_cache")}
    if embeddings is not None:
        summary["embeddings"] = {
            "enabled": embeddings.get("enabled"),
            "hit": embeddings.get("hit"),
            "items_encoded": embeddings.get("items_encoded"),
        }
    return summary


def _curve_cutoffs() -> tuple[int, ...]:
    from gcl_bench.metrics import CURVE_CUTOFFS

    return tuple(CURVE_CUTOFFS)


def _settings_record(settings: RunSettings, metrics: Sequence[str]) -> dict[str, Any]:
    record = asdict(settings)
    record["metrics"] = list(metrics)
    for key in ("show_progress", "output_dir"):
        record.pop(key, None)
    return record


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 1000 else f"<array {value.shape}>"
    if isinstance(value, np.generic):
        return value.item()
    return value
