"""What gcl_bench's own dense adapters share: precision, identity, error text and the BEIR methods.

A dense adapter encodes one *field* at a time (the query ``text``; a document's ``title`` or
``image``) into L2-normalised rows; a side's embedding is the fusion of its field embeddings by
the rule of :mod:`gcl_bench.fields` (weighted average over the fields an item has, weights
renormalised, L2-normalised), the rule of the GCL reference evaluation.

The encode stage (``gcl_bench.encode``) calls :meth:`DenseAdapter.encode_field` per field so each
field is cached on its own and the weights are applied after the cache; BEIR callers use
:meth:`DenseAdapter.encode_queries` / :meth:`DenseAdapter.encode_corpus`, built on the same fusion.

Field values: ``text`` and ``title`` are strings; ``image`` is a file path or a PIL image. A value
the model cannot encode (``None``, an empty title, an image that cannot be read) gives a row of
NaN in :meth:`~DenseAdapter.encode_field`, which fusion treats as an absent field. A row with no
usable field at all is never silently zero: it is reported.

A :class:`DenseAdapter` is both a field encoder and a BEIR dense encoder in the sense of
:mod:`gcl_bench.models.protocols`. This module may import numpy, :mod:`gcl_bench.errors` and
:mod:`gcl_bench.fields` (torch only inside functions).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError
from gcl_bench.fields import FieldEmbeddings, check_side_field, format_fields, fuse_fields

PRECISIONS = ("auto", "fp32", "fp16", "bf16")


def resolve_precision(precision: str | None, device: str) -> str:
    """AMP dtype: ``fp32`` on CPU always; on CUDA ``auto`` is ``fp16`` (the reference's autocast)."""
    precision = (precision or "auto").lower()
    if precision not in PRECISIONS:
        raise GclBenchError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if not device.startswith("cuda"):
        return "fp32"
    return "fp16" if precision == "auto" else precision


def autocast(device: str, precision: str) -> Any:
    """A context manager: CUDA autocast for fp16/bf16, a no-op otherwise."""
    import contextlib

    import torch

    if device.startswith("cuda") and precision in ("fp16", "bf16"):
        dtype = torch.float16 if precision == "fp16" else torch.bfloat16
        return torch.autocast("cuda", dtype=dtype)
    return contextlib.nullcontext()


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (its type name when empty), for one-line errors."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def sha256_text(*parts: Any) -> str:
    """Hex SHA-256 of the ``repr`` of ``parts`` (a fingerprint for configs without a file)."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


class DenseAdapter:
    """Base class for gcl_bench's dense adapters (open_clip, E5).

    Subclasses set :attr:`name`, :attr:`family`, :attr:`query_fields`, :attr:`doc_fields`,
    :attr:`prefixes` and implement :meth:`encode_field`, :meth:`fingerprint` and
    :meth:`field_cache_key`. The BEIR methods and :meth:`describe` come from here.
    """

    name: str = "dense"
    family: str = "dense"
    similarity: str = "cos"
    query_fields: dict[str, float]
    doc_fields: dict[str, float]
    prefixes: dict[str, str]
    checkpoint: str | None = None
    training_data: dict[str, Any] | None = None
    """What the weights were trained on (set from the registry entry; None: not known)."""
    device: str = "cpu"
    precision: str = "fp32"
    context_length: int | None = None

    # -- per-field interface used by gcl_bench.encode -------------------------------------
    def encode_field(
        self, side: str, field: str, values: Sequence[Any], batch_size: int = 256
    ) -> np.ndarray:  # pragma: no cover - abstract
        """Encode one field of ``values``: float32 (n, D), rows L2-normalised, NaN where unusable."""
        raise NotImplementedError

    def fingerprint(self) -> str:  # pragma: no cover - abstract
        """A string that changes whenever the weights change (the embedding cache key)."""
        raise NotImplementedError

    def field_cache_key(self, side: str, field: str) -> dict[str, Any]:  # pragma: no cover
        """Everything besides weights and inputs that changes ``encode_field(side, field)``."""
        raise NotImplementedError

    def fields(self, side: str) -> dict[str, float]:
        """The weighted fields of ``side`` ("query" or "doc")."""
        check_side_field(side)
        return self.query_fields if side == "query" else self.doc_fields

    def checkpoint_sha256(self) -> str | None:
        """SHA-256 of the checkpoint file, when the weights came from one."""
        return None

    # -- BEIR protocol -----------------------------------------------------------------------
    def encode_queries(
        self, queries: Sequence[Mapping[str, Any] | str], batch_size: int = 256, **kwargs: Any
    ) -> np.ndarray:
        """BEIR: ``queries`` are dicts with ``text`` (or plain strings) -> float32 (n, D)."""
        rows = [{"text": q} if isinstance(q, str) else q for q in queries]
        return self._encode_side("query", rows, batch_size)

    def encode_corpus(
        self, corpus: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
        batch_size: int = 256, **kwargs: Any,
    ) -> np.ndarray:
        """BEIR: ``corpus`` dicts with ``title`` / ``image`` (and ``id``) -> float32 (n, D)."""
        if isinstance(corpus, Mapping):  # BEIR's {doc_id: {...}} form
            corpus = [{"id": doc_id, **doc} for doc_id, doc in corpus.items()]
        return self._encode_side("doc", list(corpus), batch_size)

    def _encode_side(self, side: str, rows: list[Mapping[str, Any]], batch_size: int) -> np.ndarray:
        weights = self.fields(side)
        if not rows:
            return np.zeros((0, self.embedding_dim()), dtype=np.float32)
        fields = [
            FieldEmbeddings(field, self.encode_field(side, field, [row.get(field) for row in rows], batch_size), weight)
            for field, weight in weights.items()
            if weight > 0
        ]
        fused = fuse_fields(fields, len(rows))
        if not fused.has_field.all():
            bad = [str(rows[i].get("id", i)) for i in np.flatnonzero(~fused.has_field)[:5]]
            what = "documents" if side == "doc" else "queries"
            raise GclBenchError(
                f"{int((~fused.has_field).sum())} {what} have none of the fields "
                f"{format_fields(weights)} usable (first ids: {', '.join(bad)})"
            )
        return fused.embeddings

    def embedding_dim(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The results.json ``model`` section."""
        return {
            "name": self.name,
            "family": self.family,
            "checkpoint": self.checkpoint,
            "checkpoint_sha256": self.checkpoint_sha256(),
            "fingerprint": self.fingerprint(),
            "query_fields": dict(self.query_fields),
            "doc_fields": dict(self.doc_fields),
            "context_length": self.context_length,
            "prefixes": dict(self.prefixes),
            "similarity": self.similarity,
            "embedding_dim": self.embedding_dim(),
            "device": self.device,
            "precision": self.precision,
        }
