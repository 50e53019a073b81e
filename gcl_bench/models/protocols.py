"""The shapes a model can have, and how to tell them apart.

- A **dense encoder** has BEIR's ``encode_queries`` / ``encode_corpus``; optionally
  ``similarity`` (``"cos"`` or ``"dot"``), ``name``, ``describe()`` and ``fingerprint()`` (with it,
  its embeddings are cached). Any BEIR dense model is one.
- A **field encoder** (gcl_bench's own adapters, :class:`~gcl_bench.models.base.DenseAdapter`)
  encodes one field at a time with ``encode_field`` and says which fields each side fuses in
  ``query_fields`` / ``doc_fields``; its ``fingerprint()`` and ``field_cache_key()`` key the
  per-field embedding cache.
- A **lexical retriever** searches by itself: BEIR's ``search(corpus, queries, top_k)`` and/or
  the array form ``search_arrays(doc_texts, query_texts, top_k)``, and no encoding method.

The predicates (:func:`is_dense_encoder`, :func:`is_field_encoder`, :func:`is_lexical`,
:func:`has_fingerprint`, :func:`has_search_arrays`, :func:`accepts_progress`) are the one place those shapes are checked;
the :class:`typing.Protocol` classes spell out the signatures for type checkers.
:func:`describe_model` builds results.json's ``model`` section from whatever a model has.
A model may say what it was trained on in a ``training_data`` attribute (a record of
:mod:`~gcl_bench.models.training`; registry entries set it on the models they build).
This module may import only the standard library, :mod:`gcl_bench.models.registry` and
:mod:`gcl_bench.models.training`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from gcl_bench.models.registry import qualname
from gcl_bench.models.training import check_training_record


class DenseEncoder(Protocol):
    """BEIR's dense model: one embedding row per query / document (float32 ``(n, dim)``)."""

    def encode_queries(self, queries: Sequence[Any], batch_size: int, **kwargs: Any) -> Any: ...

    def encode_corpus(self, corpus: Sequence[Any], batch_size: int, **kwargs: Any) -> Any: ...


class FieldEncoder(Protocol):
    """gcl_bench's per-field encoder: each field cached on its own, fused after the cache."""

    query_fields: Mapping[str, float]
    doc_fields: Mapping[str, float]

    def encode_field(self, side: str, field: str, values: Sequence[Any], batch_size: int = 256,
                     progress: Callable[[int], None] | None = None) -> Any: ...

    def fingerprint(self) -> str: ...

    def field_cache_key(self, side: str, field: str) -> dict[str, Any]: ...


class LexicalRetriever(Protocol):
    """A retriever that searches by itself (BEIR's ``search``; ``search_arrays`` is optional)."""

    def search(
        self, corpus: Mapping[str, Mapping[str, Any]], queries: Mapping[str, str], top_k: int,
        *args: Any, **kwargs: Any,
    ) -> dict[str, dict[str, float]]: ...


DENSE_METHODS = ("encode_queries", "encode_corpus")
FIELD_MEMBERS = ("encode_field", "query_fields", "doc_fields")
"""What marks a field encoder (it must then also have ``fingerprint`` and ``field_cache_key``)."""
SEARCH_METHODS = ("search_arrays", "search")


def is_dense_encoder(model: Any) -> bool:
    """Whether ``model`` has BEIR's ``encode_queries`` and ``encode_corpus``."""
    return all(hasattr(model, name) for name in DENSE_METHODS)


def is_field_encoder(model: Any) -> bool:
    """Whether ``model`` encodes per field (``encode_field`` with ``query_fields`` / ``doc_fields``)."""
    return all(hasattr(model, name) for name in FIELD_MEMBERS)


def is_lexical(model: Any) -> bool:
    """Whether ``model`` searches by itself: ``search`` or ``search_arrays``, and it encodes
    nothing (no ``encode_corpus``, no ``encode_field``)."""
    encodes = hasattr(model, "encode_corpus") or hasattr(model, "encode_field")
    return not encodes and any(hasattr(model, name) for name in SEARCH_METHODS)


def has_search_arrays(model: Any) -> bool:
    """Whether a lexical ``model`` has the array fast path ``search_arrays``."""
    return hasattr(model, "search_arrays")


def accepts_progress(method: Any) -> bool:
    """Whether ``method`` takes a ``progress`` keyword: a callable it calls with the number of
    items each finished batch adds (then one call can report per batch)."""
    return accepts_keyword(method, "progress")


def accepts_keyword(method: Any, name: str) -> bool:
    """Whether ``method`` takes a keyword argument called ``name``."""
    import inspect

    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters


def has_fingerprint(model: Any) -> bool:
    """Whether ``model`` has a callable ``fingerprint()`` (what makes its embeddings cacheable)."""
    return callable(getattr(model, "fingerprint", None))


def describe_model(model: Any, spec: str | None = None, checkpoint: str | None = None) -> dict[str, Any]:
    """The results.json ``model`` section for any model: its ``describe()``, completed with what can
    be read from the object (name, family, fingerprint, ``training_data``: what it was trained on,
    :mod:`~gcl_bench.models.training`) and ``checkpoint`` where it says none. ``class`` is the
    model's class, or the class of the model it ``stands_for`` (a model built on first use)."""
    info = dict(model.describe()) if callable(getattr(model, "describe", None)) else {}
    info.setdefault("name", getattr(model, "name", None) or spec or type(model).__name__)
    info.setdefault("family", getattr(model, "family", "plugin"))
    info.setdefault("checkpoint", checkpoint)
    info.setdefault("checkpoint_sha256", None)
    if spec is not None:
        info.setdefault("spec", spec)
    if "fingerprint" not in info and has_fingerprint(model):
        info["fingerprint"] = str(model.fingerprint())
    info.setdefault("class", qualname(getattr(model, "stands_for", type(model))))
    if "training_data" not in info:
        info["training_data"] = check_training_record(getattr(model, "training_data", None), str(info["name"]))
    return info
