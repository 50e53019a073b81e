"""The facts a reader of the numbers must know, read from what results.json records.

:func:`facts` turns one results dict (what ``gcl-bench run`` writes, or the smaller one of
``gcl-bench evaluate``) into console lines, so that what is printed at the end of a run and
what is stored are the same facts, decided in one place. Each :class:`Fact` is a ``warning``
(it changes the numbers: documents or queries that cannot count as the data says, inputs or
options that are not used) or a ``note`` (how the numbers were made: ties, sampled judgements).
Sections a results dict lacks are skipped.

May import: :mod:`gcl_bench.data.repeats` (the record's console line).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcl_bench.data.repeats import RepeatedKeys

WARNING = "warning"
NOTE = "note"
DEFAULT_WEIGHT_COLUMN = "score_linear"
BM25_INDEX_WORDS = {
    "built": "BM25 index built and cached",
    "loaded": "BM25 index loaded from the cache",
    "reused": "BM25 index reused from the previous split (same corpus)",
}
"""The console line for each way a BM25 search got its index."""


@dataclass(frozen=True)
class Fact:
    level: str
    """:data:`WARNING` or :data:`NOTE`."""
    text: str


def _name(path: Any) -> str:
    return Path(str(path)).name if path else "the corpus"


def _example(ids: Any) -> str:
    return f" (e.g. {ids[0]!r})" if ids else ""


def facts(results: Mapping[str, Any]) -> list[Fact]:
    """Every fact of ``results`` worth a line on the console, warnings first."""
    found = (_query_facts(results) + _dataset_facts(results) + _document_facts(results)
             + _option_facts(results) + _provenance_facts(results) + _protocol_facts(results))
    return [f for f in found if f.level == WARNING] + [f for f in found if f.level == NOTE]


def _query_facts(results: Mapping[str, Any]) -> list[Fact]:
    out: list[Fact] = []
    queries = results.get("queries") or {}
    if queries.get("missing_from_run"):
        out.append(Fact(WARNING, f"{queries['missing_from_run']} judged queries are missing from the run and score 0"))
    encoded = (results.get("retrieval") or {}).get("encode") or {}
    zero = (encoded.get("queries") or {}).get("zero_vectors")
    if zero:
        ids = encoded["queries"].get("zero_vector_ids")
        out.append(Fact(WARNING, f"{zero} queries have an all-zero embedding from the model{_example(ids)}: "
                                 "they retrieve nothing and score 0"))
    empty = (queries.get("retrieved_nothing") or 0) - (zero or 0)
    if empty > 0:
        out.append(Fact(WARNING, f"{empty} {'more ' if zero else ''}judged queries retrieved nothing (an empty list) "
                                 "and score 0"))
    if queries.get("without_positive"):
        out.append(Fact(NOTE, f"{queries['without_positive']} judged queries have no positive grade and are not averaged over"))
    if results.get("ignored_run_queries"):
        out.append(Fact(NOTE, f"{results['ignored_run_queries']} queries of the run are not in the judgements and are ignored"))
    tied = results.get("tied_lists")
    if tied and _protocol(results) == "reference":
        out.append(Fact(NOTE, f"{tied} retrieved lists contain tied scores: ERR, RBP, MRR, accuracy and hole keep them "
                              "in search order, the other metrics break them by doc id, as trec_eval"))
    elif tied:
        out.append(Fact(NOTE, f"{tied} retrieved lists contain tied scores (broken by doc id, as trec_eval)"))
    return out


def _protocol(results: Mapping[str, Any]) -> str:
    return str(results.get("protocol") or (results.get("settings") or {}).get("protocol") or "default")


def _protocol_facts(results: Mapping[str, Any]) -> list[Fact]:
    """What the reference protocol changed (README, "Differences from the reference evaluation")."""
    if _protocol(results) != "reference":
        return []
    out = [Fact(NOTE, "reference protocol (the GCL reference evaluation's choices): see README, "
                      "'Differences from the reference evaluation'")]
    documents = (((results.get("retrieval") or {}).get("encode") or {}).get("documents")) or {}
    for field_name, counts in (documents.get("reference_texts") or {}).items():
        if counts.get("null_as_text") or counts.get("blank"):
            out.append(Fact(NOTE, f"reference protocol: {counts.get('null_as_text', 0)} documents without a "
                                  f"{field_name} encoded as the text 'None', {counts.get('blank', 0)} with a blank "
                                  f"{field_name} encoded as it is"))
    return out


def _dataset_facts(results: Mapping[str, Any]) -> list[Fact]:
    out: list[Fact] = []
    dataset = results.get("dataset") or {}
    outside = dataset.get("judged_not_in_corpus")
    if outside:
        example = dataset.get("judged_not_in_corpus_example")
        of = f" of the {dataset['judged_products']}" if dataset.get("judged_products") else ""
        out.append(Fact(WARNING, f"{outside}{of} judged products of {_name(dataset.get('judgements'))}"
                                 f"{_example([example] if example else [])} are not in "
                                 f"{_name(dataset.get('corpus_file'))}: they can never be retrieved"))
    report = results.get("load_report") or {}
    for record in report.get("repeated_keys") or []:
        out.append(Fact(WARNING, RepeatedKeys.message_of(record)))
    if report.get("documents_with_text") and not _uses(results, "text"):
        out.append(Fact(WARNING, f"{report['documents_with_text']} documents have a 'text' that this model does not "
                                 "read (add text:WEIGHT to --doc-fields to use it)"))
    out.extend(Fact(NOTE, note) for note in report.get("notes") or [])
    return out


def _uses(results: Mapping[str, Any], field: str) -> bool:
    """Whether the model read ``field`` of the documents: a field encoder that weights it, any
    plug-in encoder (it is handed every field), a lexical model the title and text (BEIR's
    ``title + " " + text``)."""
    encoded = (results.get("retrieval") or {}).get("encode")
    if not encoded:
        return field in ("title", "text")
    fields = encoded.get("doc_fields")
    return True if fields is None else float(fields.get(field, 0)) > 0


def _document_facts(results: Mapping[str, Any]) -> list[Fact]:
    out: list[Fact] = []
    report = results.get("load_report") or {}
    encoded = (results.get("retrieval") or {}).get("encode") or {}
    documents = encoded.get("documents") or {}
    total = (results.get("dataset") or {}).get("num_docs")
    of = f" of {total}" if total else ""
    without = documents.get("without_fields", report.get("docs_without_fields"))
    if without:
        ids = documents.get("without_fields_ids") or report.get("docs_without_fields_ids")
        left_out = " and are left out of the index" if documents.get("excluded") else ""
        out.append(Fact(WARNING, f"{without}{of} documents have neither a usable title nor an image{_example(ids)}{left_out}"))
    if documents.get("zero_vectors"):
        out.append(Fact(WARNING, f"{documents['zero_vectors']}{of} documents have an all-zero embedding from the model"
                                 f"{_example(documents.get('zero_vector_ids'))} and are left out of the index"))
    unreadable = (encoded.get("unusable_per_field") or {}).get("doc/image")
    if _uses(results, "image") and report.get("missing_images"):
        out.append(Fact(WARNING, f"{report['missing_images']}{of} documents have no image file; their other fields stand in"))
    if _uses(results, "image") and unreadable:
        out.append(Fact(WARNING, f"{unreadable}{of} document images could not be decoded; their other fields stand in"))
    if _uses(results, "title") and report.get("empty_titles"):
        out.append(Fact(WARNING, f"{report['empty_titles']}{of} documents have an empty title"))
    absent_texts = int(documents.get("empty_texts") or 0)
    if absent_texts and "text" in (encoded.get("doc_fields") or {}):
        out.append(Fact(WARNING, f"doc field text is absent for {absent_texts}{of} documents; their "
                                 "embedding fuses the other fields"))
    return out


def _provenance_facts(results: Mapping[str, Any]) -> list[Fact]:
    """Where the data, the model and the cached parts came from, when a reader should know."""
    out: list[Fact] = []
    overlap = results.get("training_overlap") or {}
    if overlap.get("status") == "seen":
        out.append(Fact(NOTE, f"not zero-shot: {(results.get('model') or {}).get('name')} was {overlap['why']}"))
    if (results.get("model") or {}).get("decode") == "gpu":
        out.append(Fact(NOTE, "images decoded and resized on the GPU: pixels differ from --decode cpu by a few "
                              "levels (embeddings cached apart)"))
    dataset = results.get("dataset") or {}
    hub = dataset.get("hub")
    if hub:
        out.append(Fact(NOTE, f"data: {hub['repo_id']}@{hub['revision']} = commit {hub['sha']} (Hugging Face Hub)"))
    if dataset.get("corpus_definition"):
        out.append(Fact(NOTE, f"corpus: {dataset['corpus_definition']}"))
    cache = results.get("cache") or {}
    for path in (cache.get("dataset") or {}).get("damaged", []):
        out.append(Fact(NOTE, f"the dataset cache file {path} did not match its checksum; rebuilt from the dataset files"))
    repaired = (cache.get("embeddings") or {}).get("shards_repaired")
    if repaired:
        out.append(Fact(NOTE, f"{repaired} embedding cache shards were damaged (did not match their checksums); "
                              "encoded again"))
    bm25_index = cache.get("bm25_index") or {}
    if bm25_index.get("damaged"):
        out.append(Fact(NOTE, f"the BM25 index cache file {bm25_index['damaged']} did not match its checksum; "
                              "index built again"))
    elif bm25_index.get("status") in BM25_INDEX_WORDS:
        out.append(Fact(NOTE, BM25_INDEX_WORDS[bm25_index["status"]]))
    return out


def _option_facts(results: Mapping[str, Any]) -> list[Fact]:
    out: list[Fact] = []
    settings = results.get("settings") or {}
    dataset = results.get("dataset") or {}
    if settings.get("image_root") and not _uses(results, "image"):
        out.append(Fact(WARNING, "--image-root is not used: this model reads no document image"))
    if settings.get("weight_column", DEFAULT_WEIGHT_COLUMN) != DEFAULT_WEIGHT_COLUMN and dataset.get("sampled") is False:
        out.append(Fact(WARNING, f"--weight-column {settings['weight_column']} is not used: the judgements come from "
                                 f"{_name(dataset.get('judgements'))}"))
    if not (results.get("retrieval") or {}).get("encode") and "index" in settings:  # a model that searches by itself
        if settings.get("index") != "flat":
            out.append(Fact(WARNING, f"--index {settings['index']} is not used: this model searches by itself"))
        if settings.get("dtype", "float32") != "float32":
            out.append(Fact(WARNING, f"--dtype {settings['dtype']} is not used: this model stores no embeddings"))
    if settings.get("index_recall") and settings.get("index") == "flat":
        out.append(Fact(NOTE, "--index-recall measures nothing with --index flat (exact search)"))
    return out
