"""Job planning: which (side, field) entries a model encodes for a split, and under which cache key.

Two kinds of model are accepted (:func:`plan_jobs` tells them apart):

- gcl_bench's own dense adapters (``mode == "fields"``), which encode one field at a time:
  ``query_fields`` / ``doc_fields`` (``{field: weight}``, checked by
  :func:`gcl_bench.fields.parse_fields`), ``fingerprint()``, ``field_cache_key(side, field)`` and
  ``encode_field(side, field, values, batch_size) -> (n, D)``. One job per positively weighted
  field; a document field's job holds only the documents that have it (a title that is not blank,
  an image path that can be stat'ed) and its ``present`` mask says which those are. Under the
  reference protocol a document text field follows the GCL reference evaluation instead
  (:func:`gcl_bench.fields.reference_text_field`: a null first field is the text ``"None"``,
  blank strings are encoded as they are).
- plug-in encoders with BEIR's ``encode_queries`` / ``encode_corpus`` (``mode == "beir"``) and an
  optional ``similarity`` and ``fingerprint()``: one job per side over every item.

Each job's ``encode(values, advance)`` calls ``advance(n)`` after every model batch (``n`` items
more are done): a field adapter whose ``encode_field`` takes a ``progress`` keyword gets
``advance`` and is called once per cache shard; any other model is called one ``batch_size``
slice at a time (plug-ins receive ``batch_size`` anyway). It returns rows already checked by :func:`~gcl_bench.encode.checks.as_embedding_matrix`.
The cache key (:func:`~gcl_bench.encode.cache.cache_key`) holds the fingerprint, side, field,
settings, dtype and a hash of the items, never the field weights.

Imports: numpy, :mod:`gcl_bench.errors`, :mod:`gcl_bench.fields`, :mod:`gcl_bench.encode.cache`,
:mod:`gcl_bench.encode.checks`, :mod:`gcl_bench.models.protocols` (which shape a model has),
:mod:`gcl_bench.protocol`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gcl_bench.encode.cache import CacheEntry, cache_key, hash_image_files, hash_texts, image_stamp
from gcl_bench.encode.checks import as_embedding_matrix
from gcl_bench.errors import GclBenchError
from gcl_bench.fields import active_fields, is_missing_text, parse_fields, reference_text_field
from gcl_bench.models.protocols import (
    accepts_progress,
    has_fingerprint,
    is_dense_encoder,
    is_field_encoder,
)
from gcl_bench.protocol import DEFAULT, REFERENCE, check_protocol

Advance = Callable[[int], None]
"""``advance(n)``: ``n`` more items of the current call are encoded."""


@dataclass
class Job:
    """One (side, field) to encode: the values handed to the model and the key of its cache entry.

    ``encode(values, advance)`` returns their checked float32 rows, calling ``advance(n)`` per
    batch. ``present`` (documents only) marks the split rows that have the field (``values``
    holds just those); None means every item. The stage sets ``entry``, ``missing_before`` (shards
    absent when it started) and ``seconds``.
    """

    side: str
    field: str
    values: list[Any]
    encode: Callable[[list[Any], Advance], np.ndarray]
    key: dict[str, Any]
    present: np.ndarray | None = None
    weight: float = 1.0
    entry: CacheEntry = field(init=False, repr=False)
    missing_before: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.side}/{self.field}"

    @property
    def items_to_encode(self) -> int:
        """How many items lie in the shards that were missing when the stage started."""
        return sum(stop - start for start, stop in map(self.entry.shard_rows, self.missing_before))

    def load(self) -> np.ndarray:
        """The entry's rows (:meth:`CacheEntry.load`); a shard that fails its checksum is
        encoded again from ``values`` (and listed in ``entry.repaired``)."""

        def encode_again(shard: int) -> np.ndarray:
            start, stop = self.entry.shard_rows(shard)
            return self.encode(self.values[start:stop], lambda n: None)  # a repair shows no bar

        return self.entry.load(repair=encode_again)


@dataclass
class Plan:
    """What :func:`plan_jobs` decided for one model and split.

    ``mode``: ``"fields"`` or ``"beir"``; ``similarity``: ``"cos"`` or ``"dot"``; ``fingerprint``:
    the model's, or None for a plug-in without one (then nothing is cached). ``empty_titles`` /
    ``empty_texts`` / ``missing_images``: documents without that field (field adapters that use it; else 0).
    ``docs_without_fields``: for plug-ins, the ids of documents with neither a title nor an image
    (field adapters learn theirs only when fusing, so None). ``reference_texts``: under the
    reference protocol, per document text field, how many documents it encodes that the default
    protocol leaves without that field (``{"title": {"null_as_text": n, "blank": m}}``).
    """

    mode: str
    similarity: str
    fingerprint: str | None
    jobs: list[Job]
    empty_titles: int = 0
    empty_texts: int = 0
    missing_images: int = 0
    docs_without_fields: list[str] | None = None
    reference_texts: dict[str, dict[str, int]] = field(default_factory=dict)


def model_name(model: Any) -> str:
    """A short name for messages: ``model.name`` when set, else the class name."""
    name = getattr(model, "name", None)
    return str(name) if isinstance(name, str) and name else type(model).__name__


SIMILARITIES = ("cos", "dot")


def plan_jobs(model: Any, split: Any, *, dtype: str, batch_size: int, similarity: str | None = None,
              protocol: str = DEFAULT) -> Plan:
    """Check that ``model`` speaks one of the two protocols and plan its jobs over ``split``.

    ``similarity`` (``"cos"`` or ``"dot"``, BEIR's ``score_function``) overrides a plug-in's
    ``similarity`` attribute; gcl_bench's own adapters always use ``cos``. ``protocol``
    (:mod:`gcl_bench.protocol`) ``"reference"``: document text fields of field adapters follow
    the reference evaluation's rule (plug-ins get the documents as they are either way).
    """
    check_protocol(protocol)
    name = model_name(model)
    if similarity is not None and similarity not in SIMILARITIES:
        raise GclBenchError(f"--similarity must be 'cos' or 'dot', got {similarity!r}")
    if is_field_encoder(model):
        if similarity == "dot":
            raise GclBenchError(
                f"--similarity dot applies to plug-in encoders; model {name} fuses L2-normalised "
                "field embeddings and always scores by cosine"
            )
        return _field_plan(model, split, dtype, batch_size, protocol == REFERENCE)
    if not is_dense_encoder(model):
        raise GclBenchError(
            f"model {name} can encode neither fields (encode_field) nor BEIR-style "
            "(encode_queries / encode_corpus)"
        )
    if similarity is not None:
        return _plugin_plan(model, split, dtype, batch_size, similarity)
    similarity = str(getattr(model, "similarity", "cos") or "cos")
    if similarity in ("cos_sim", "cosine"):
        similarity = "cos"
    if similarity not in SIMILARITIES:
        raise GclBenchError(f"model {name}: similarity must be 'cos' or 'dot', got {similarity!r}")
    return _plugin_plan(model, split, dtype, batch_size, similarity)


def in_batches(
    encode: Callable[[list[Any]], np.ndarray], values: list[Any], batch_size: int, advance: Advance
) -> np.ndarray:
    """``encode`` applied to ``batch_size`` slices of ``values`` in order, rows stacked; ``advance``
    after each slice."""
    parts = []
    for start in range(0, len(values), batch_size):
        chunk = values[start:start + batch_size]
        parts.append(encode(chunk))
        advance(len(chunk))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _titles_present(titles: Sequence[Any]) -> np.ndarray:
    """(n,) bool: which titles (or other texts) are usable (not None, NaN or blank)."""
    return np.fromiter((not is_missing_text(title) for title in titles), dtype=bool, count=len(titles))


def _present_in_slices(arrow: Any, size: int = 1 << 16) -> np.ndarray:
    """:func:`_titles_present` of an Arrow string column, converted ``size`` values at a time so
    that the whole column never exists as Python strings (the present ones stay Arrow)."""
    chunks = arrow.chunks if hasattr(arrow, "chunks") else [arrow]
    parts = [_titles_present(chunk.slice(start, size).to_pylist())
             for chunk in chunks for start in range(0, len(chunk), size)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _image_stamps(paths: Sequence[str | None]) -> list[str | None]:
    """:func:`image_stamp` of each path; None for a path that is None or cannot be stat'ed."""
    return [image_stamp(path) if path else None for path in paths]


def _model_fields(model: Any, side: str) -> dict[str, float]:
    """The positively weighted fields of a field adapter's ``side``, checked by :func:`parse_fields`."""
    weights = model.query_fields if side == "query" else model.doc_fields
    try:
        return active_fields(parse_fields(weights, side))
    except GclBenchError as err:
        raise GclBenchError(f"model {model_name(model)}: {err.message}") from None


def _text_values(plan: Plan, field_name: str, texts: Sequence[Any], first: bool | None) -> tuple[np.ndarray, list[Any]]:
    """Which documents have the text field ``field_name`` and their texts: blank or null ones are
    absent (``first`` None), or the reference evaluation's rule for a field that is or is not the
    side's first (:func:`~gcl_bench.fields.reference_text_field`, counted in ``plan.reference_texts``)."""
    arrow = getattr(texts, "arrow", None)
    if first is None and arrow is not None:  # a corpus column: its strings made a slice at a time
        usable = _present_in_slices(arrow)
        return usable, type(texts)(arrow.filter(usable))
    usable = _titles_present(texts)
    if first is None:
        return usable, [t for t, ok in zip(texts, usable) if ok]
    present, values = reference_text_field(texts, first)
    null = np.fromiter((t is None for t in texts), dtype=bool, count=len(texts))
    plan.reference_texts[field_name] = {"null_as_text": int((present & null).sum()),
                                        "blank": int((present & ~usable & ~null).sum())}
    return present, values


def _field_plan(model: Any, split: Any, dtype: str, batch_size: int, reference: bool = False) -> Plan:
    name = model_name(model)
    fingerprint = str(model.fingerprint())
    query_weights = _model_fields(model, "query")
    doc_weights = _model_fields(model, "doc")
    first_doc_field = next(iter(parse_fields(model.doc_fields, "doc")))  # zero weights count, as in the reference
    plan = Plan("fields", "cos", fingerprint, [])
    reports_progress = accepts_progress(model.encode_field)

    def add(side: str, field_name: str, weight: float, values: list[Any], items_hash: str,
            present: np.ndarray | None) -> None:
        if not values:
            return
        settings = model.field_cache_key(side, field_name)
        if not isinstance(settings, dict):
            raise GclBenchError(f"model {name}: field_cache_key({side!r}, {field_name!r}) must return a dict")
        key = cache_key(model=fingerprint, side=side, field=field_name, settings=settings, dtype=dtype,
                        count=len(values), items_hash=items_hash)
        what = f"{side}/{field_name} encoding"

        def encode_call(chunk: list[Any]) -> np.ndarray:
            raw = model.encode_field(side, field_name, chunk, batch_size)
            return as_embedding_matrix(raw, len(chunk), name, what, allow_nan_rows=True)

        def encode(chunk: list[Any], advance: Advance) -> np.ndarray:
            if not reports_progress:
                return in_batches(encode_call, chunk, batch_size, advance)
            raw = model.encode_field(side, field_name, chunk, batch_size, progress=advance)
            return as_embedding_matrix(raw, len(chunk), name, what, allow_nan_rows=True)

        plan.jobs.append(Job(side, field_name, values, encode, key, present, weight))

    for field_name, weight in query_weights.items():
        texts = list(split.query_texts)
        add("query", field_name, weight, texts, hash_texts(texts), None)
    for field_name, weight in doc_weights.items():
        first = (field_name == first_doc_field) if reference else None
        if field_name == "title":
            present, values = _text_values(plan, "title", split.doc_titles, first)
            plan.empty_titles = int((~present).sum())
            add("doc", "title", weight, values, hash_texts(values), present)
        elif field_name == "text":  # a BEIR document's body; Marqo-GS products have none
            texts = split.doc_texts if split.doc_texts is not None else [None] * split.num_docs
            present, values = _text_values(plan, "text", texts, first)
            plan.empty_texts = int((~present).sum())
            add("doc", "text", weight, values, hash_texts(values), present)
        else:
            stamps = _image_stamps(split.doc_images)
            present = np.fromiter((s is not None for s in stamps), dtype=bool, count=split.num_docs)
            values = [p for p, ok in zip(split.doc_images, present) if ok]
            plan.missing_images = int((~present).sum())
            add("doc", "image", weight, values, hash_image_files([s for s in stamps if s]), present)
    return plan


def _plugin_plan(model: Any, split: Any, dtype: str, batch_size: int, similarity: str) -> Plan:
    name = model_name(model)
    fingerprint = str(model.fingerprint()) if has_fingerprint(model) else None
    stamps = _image_stamps(split.doc_images)
    doc_items = [
        f"{title or ''}\0{(stamp or 'missing:' + str(image)) if image else ''}"
        for title, image, stamp in zip(split.doc_titles, split.doc_images, stamps)
    ]
    has_field = _titles_present(split.doc_titles) | np.array([s is not None for s in stamps], dtype=bool)
    if split.doc_texts is not None:  # BEIR documents: their body is part of what is encoded
        doc_items = [f"{item}\0{text or ''}" for item, text in zip(doc_items, split.doc_texts)]
        has_field |= _titles_present(split.doc_texts)
    settings = {"protocol": "beir", "similarity": similarity}
    jobs = []
    for side, field_name, items, items_hash, method in (
        ("query", "text", split.query_dicts, hash_texts(split.query_texts), "encode_queries"),
        ("doc", "corpus", split.corpus_dicts, hash_texts(doc_items), "encode_corpus"),
    ):
        key = cache_key(model=fingerprint or "", side=side, field=field_name,
                        settings={**settings, "method": method}, dtype=dtype, count=len(items),
                        items_hash=items_hash)

        def encode_call(chunk: list[Any], method: str = method) -> np.ndarray:
            return as_embedding_matrix(getattr(model, method)(chunk, batch_size=batch_size), len(chunk), name, method)

        def encode(chunk: list[Any], advance: Advance, call: Callable[[list[Any]], np.ndarray] = encode_call) -> np.ndarray:
            return in_batches(call, chunk, batch_size, advance)

        jobs.append(Job(side, field_name, items, encode, key))
    without = [doc_id for doc_id, ok in zip(split.doc_ids, has_field) if not ok]
    return Plan("beir", similarity, fingerprint, jobs, docs_without_fields=without)
