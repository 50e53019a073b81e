"""What a model was trained or fine-tuned on, and whether that covers the queries or documents of a split.

A *training record* (a registry entry's ``training_data``, or a plug-in's ``training_data``
attribute) is a mapping:

- ``datasets``: benchmark -> the splits whose training data the model saw, e.g.
  ``{"marqo-gs-10m": ["in_domain"]}`` for the GCL checkpoints, trained on GS-Full's training
  split; ``{}``: nothing of any benchmark gcl_bench knows (the pretrained baselines); absent or
  None: not known (a model card that does not say);
- ``description``: what the model card says, in words; ``source``: where that is written.

A plug-in may give a plain string instead (a description; datasets not known).
:func:`check_training_record` validates either form; :func:`training_overlap` decides for one
result whether the model saw the evaluated split's queries or documents, as MTEB marks models
that are not zero-shot.

The rule for Marqo-GS-10M (DESIGN §2, and the GCL README's split definitions): the data is split
along queries (80% training queries, query set 0; 20% novel, query set 1) and documents (corpus_1
the training documents, corpus_2 unseen ones). A split's queries are those of its query set
(:data:`~gcl_bench.data.splits.SPLIT_QUERY_SET`) and its documents those of its corpus
(:data:`~gcl_bench.data.splits.SPLIT_CORPUS`). A model trained on the ``in_domain`` training split
therefore saw the queries of ``in_domain`` and ``novel_document`` and the documents of
``in_domain`` and ``novel_query``: only ``zero_shot`` is zero-shot for it. The sub-datasets
``marqo_gs_fashion_5m`` and ``marqo_gs_wfash_1m`` are drawn from GS-Full's pairs and are taken to
share its split; the Hugging Face export is GS-Full.

This module may import only the standard library, :mod:`gcl_bench.data.splits` and :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gcl_bench.data.splits import SPLIT_CORPUS, SPLIT_QUERY_SET, canonical_split
from gcl_bench.errors import GclBenchError

MARQO_GS = "marqo-gs-10m"
"""The released Marqo-GS-10M sub-datasets and its Hugging Face export."""
SAMPLE = "gcl-bench-sample"
"""The benchmark bundled with gcl_bench (the default data)."""
BENCHMARKS = (MARQO_GS, SAMPLE)
MARQO_GS_SUBSETS = ("marqo_gs_full_10m", "marqo_gs_fashion_5m", "marqo_gs_wfash_1m")

SEEN, UNSEEN, UNKNOWN = "seen", "unseen", "unknown"


def check_training_record(value: Any, owner: str) -> dict[str, Any] | None:
    """``value`` as a training record (see module doc), split names made canonical; None stays None.

    A malformed record is an error naming ``owner`` (the model).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return {"datasets": None, "description": value}
    if not isinstance(value, Mapping):
        raise GclBenchError(f"{owner}: training_data must be a mapping or a string, got {type(value).__name__}")
    record = dict(value)
    datasets = record.get("datasets")
    if datasets is not None:
        if not isinstance(datasets, Mapping):
            raise GclBenchError(f"{owner}: training_data['datasets'] must map a benchmark to split names")
        checked: dict[str, list[str]] = {}
        for benchmark, splits in datasets.items():
            if benchmark not in BENCHMARKS:
                raise GclBenchError(
                    f"{owner}: training_data names benchmark {benchmark!r}; known: {', '.join(BENCHMARKS)} "
                    "(describe other training data in 'description')"
                )
            if isinstance(splits, str) or not all(isinstance(s, str) for s in splits):
                raise GclBenchError(f"{owner}: training_data['datasets'][{benchmark!r}] must be a list of split names")
            try:
                checked[benchmark] = [canonical_split(s) for s in splits]
            except GclBenchError as err:
                raise GclBenchError(f"{owner}: training_data: {err.message}") from None
        datasets = checked
    record["datasets"] = datasets
    for key in ("description", "source"):
        if key in record and not isinstance(record[key], str):
            raise GclBenchError(f"{owner}: training_data[{key!r}] must be a string")
    return record


def benchmark_of(dataset: Mapping[str, Any]) -> str | None:
    """Which known benchmark a results.json ``dataset`` section is, if any."""
    if dataset.get("bundled_sample"):
        return SAMPLE
    if dataset.get("format") == "hf_parquet":
        return MARQO_GS
    if dataset.get("format") == "marqo_gs" and dataset.get("subset") in MARQO_GS_SUBSETS:
        return MARQO_GS
    return None


def training_overlap(record: Mapping[str, Any] | None, dataset: Mapping[str, Any], split: str) -> dict[str, Any]:
    """Whether a model with training ``record`` saw the queries or documents of ``split`` of ``dataset``.

    ``status`` is ``seen`` (the queries or the documents were training data: not zero-shot),
    ``unseen`` (neither) or ``unknown`` (no record, or data gcl_bench cannot relate to training
    data); ``declared`` says whether the model declares what it saw.
    """
    benchmark = benchmark_of(dataset)
    result: dict[str, Any] = {"benchmark": benchmark, "split": split, "queries_seen": None, "documents_seen": None}
    datasets = None if record is None else record.get("datasets")
    result["declared"] = datasets is not None
    if datasets is None:
        return {**result, "status": UNKNOWN, "why": "the model declares no training data"}
    if benchmark is None:
        return {**result, "status": UNKNOWN, "why": "the evaluated data is no benchmark whose splits are known"}
    trained = datasets.get(benchmark, [])
    split = canonical_split(split)
    queries = any(SPLIT_QUERY_SET[split] == SPLIT_QUERY_SET[t] for t in trained)
    documents = any(SPLIT_CORPUS[split] == SPLIT_CORPUS[t] for t in trained)
    seen = [what for what, flag in (("queries", queries), ("documents", documents)) if flag]
    if seen:
        why = f"trained on the {', '.join(trained)} training data of {benchmark}: saw this split's {' and '.join(seen)}"
    elif trained:
        why = f"trained on the {', '.join(trained)} training data of {benchmark}, which shares nothing with {split}"
    else:
        why = f"trained on nothing of {benchmark}"
    return {**result, "queries_seen": queries, "documents_seen": documents,
            "status": SEEN if seen else UNSEEN, "trained_on": trained, "why": why}
