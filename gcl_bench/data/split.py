"""The in-memory form of one evaluation split, whatever folder layout it came from.

Every loader (Marqo-GS folders, the Hugging Face parquet export, BEIR folders, the bundled
sample) returns a :class:`Split`. Documents and queries are kept as parallel columns (lists of
strings), not as dicts of dicts, so a corpus of millions of products stays cheap; the BEIR-style
dict views are built on demand for plug-in encoders.

May import: nothing of gcl_bench.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoadReport:
    """What was odd in the input: counted, never silently dropped."""

    missing_images: int = 0
    """Documents whose image path is empty, missing on disk, or unreadable."""
    empty_titles: int = 0
    """Documents whose title is empty or only white space."""
    docs_without_fields: list[str] = field(default_factory=list)
    """Ids of documents with neither a usable title nor a usable image."""
    unresolved_gt_keys: int = 0
    """Judgement keys that matched no query (an error when it is all of them)."""
    gt_key_kinds: dict[str, int] = field(default_factory=dict)
    """How gt keys were resolved: counts per kind ("text", "text_suffix", "query_id")."""
    notes: list[str] = field(default_factory=list)
    """Free-form remarks worth showing to the user."""
    repeated_keys: list[dict[str, Any]] = field(default_factory=list)
    """Keys an input file repeats with the same value (``RepeatedKeys.to_dict()`` records)."""
    documents_with_text: int = 0
    """Documents with a non-empty ``text`` (a BEIR body; Marqo-GS products have none)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "missing_images": self.missing_images,
            "empty_titles": self.empty_titles,
            "docs_without_fields": len(self.docs_without_fields),
            "docs_without_fields_ids": self.docs_without_fields[:20],
            "unresolved_gt_keys": self.unresolved_gt_keys,
            "gt_key_kinds": dict(self.gt_key_kinds),
            "notes": list(self.notes),
            "repeated_keys": [dict(r) for r in self.repeated_keys],
            "documents_with_text": self.documents_with_text,
        }


@dataclass
class Split:
    """One split ready for retrieval and scoring.

    Every view is an attribute: the columns below, and the BEIR-style views built from them
    (:attr:`corpus_dicts`, :attr:`query_dicts`, :attr:`doc_search_texts`).
    ``doc_ids[i]``, ``doc_titles[i]``, ``doc_images[i]`` (and ``doc_texts[i]``) describe document ``i`` (the row index
    that search results refer to); ``query_ids[j]`` / ``query_texts[j]`` describe query ``j``.
    ``query_ids`` are the keys of the judgement file (so ``run.json`` keys match the gt file).
    ``qrels`` maps query id -> {doc id -> non-negative integer grade}.
    ``meta`` is the ``dataset`` section of results.json: path, subset, split, eval_set,
    fingerprint, sampled (and, when sampled, seed, top_q, top_k, query_hash).
    """

    name: str
    doc_ids: list[str]
    doc_titles: list[str]
    doc_images: list[str | None]
    query_ids: list[str]
    query_texts: list[str]
    qrels: dict[str, dict[str, int]]
    meta: dict[str, Any] = field(default_factory=dict)
    report: LoadReport = field(default_factory=LoadReport)
    doc_texts: list[str] | None = None
    """BEIR documents' body ``text`` (``doc_texts[i]`` of document ``i``); None where documents have
    only a title (Marqo-GS products): the doc field ``text`` is then absent for every document."""

    @property
    def num_docs(self) -> int:
        return len(self.doc_ids)

    @property
    def num_queries(self) -> int:
        return len(self.query_ids)

    @property
    def corpus_dicts(self) -> list[dict[str, Any]]:
        """Corpus for plug-in encoders: ``[{"id", "title", "text", "image"}, ...]`` in row order.

        ``text`` is a BEIR document's body, empty for Marqo-GS products (a title, no body), so BEIR
        models, which encode ``title + " " + text``, see the title alone there. Built on each access.
        """
        texts = self.doc_texts if self.doc_texts is not None else [""] * self.num_docs
        return [
            {"id": doc_id, "title": title, "text": text or "", "image": image}
            for doc_id, title, text, image in zip(self.doc_ids, self.doc_titles, texts, self.doc_images)
        ]

    @property
    def query_dicts(self) -> list[QueryText]:
        """Queries for plug-in encoders, in row order (built on each access).

        Each item is the query string itself (what BEIR models expect) that also answers
        ``q["text"]`` and ``q["id"]`` (what gcl_bench's encoder protocol documents).
        """
        return [QueryText(text, qid) for qid, text in zip(self.query_ids, self.query_texts)]

    @property
    def doc_search_texts(self) -> list[str]:
        """What a lexical model indexes per document: the title, and for BEIR documents
        ``title + " " + text`` as BEIR's BM25 and SentenceBERT join them."""
        if self.doc_texts is None:
            return self.doc_titles
        return [f"{title or ''} {text or ''}".strip() for title, text in zip(self.doc_titles, self.doc_texts)]


class QueryText(str):
    """A query string that also reads like ``{"id": ..., "text": ...}``.

    BEIR's dense models call ``encode_queries(list[str])``; gcl_bench's protocol passes dicts with
    ``text`` and ``id``. A ``QueryText`` is both, so either kind of encoder works unchanged.
    """

    __slots__ = ("id",)

    def __new__(cls, text: str, query_id: str) -> QueryText:
        value = super().__new__(cls, text)
        value.id = query_id
        return value

    def _field(self, key: str) -> str:
        if key == "text":
            return str(self)
        if key == "id":
            return self.id
        raise KeyError(key)

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return self._field(key)
        return str.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self._field(key)
        except KeyError:
            return default

    def keys(self) -> list[str]:
        return ["id", "text"]

    def __reduce__(self) -> tuple[Any, ...]:
        return (QueryText, (str(self), self.id))
