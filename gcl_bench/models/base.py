"""What gcl_bench's own dense adapters share: fields and weights, devices, and the BEIR methods.

A dense adapter encodes one *field* at a time (the query ``text``; a document's ``title`` or
``image``) into L2-normalised rows; a side's embedding is the weighted sum of its field embeddings,
L2-normalised again, with the weights of the fields a document lacks dropped (renormalised over
the fields it has). This is how the GCL reference evaluation (marqo-ai/GCL ``evals/``) combines
fields: ``encode_text/encode_image(normalize=True)`` per field, a weighted sum with the weights of
absent fields zeroed and the rest rescaled to sum to one, then ``F.normalize``.

The encode stage (``gcl_bench.encode``) calls :meth:`DenseAdapter.encode_field` per field so each
field is cached on its own and the weights are applied after the cache; BEIR callers use
:meth:`DenseAdapter.encode_queries` / :meth:`DenseAdapter.encode_corpus`, built on the same code.

Field values: ``text`` and ``title`` are strings; ``image`` is a file path or a PIL image. A value
the model cannot encode (``None``, an empty title, an image that cannot be read) gives a row of
NaN in :meth:`~DenseAdapter.encode_field`; :func:`combine_fields` treats such a row as an absent
field. A row with no usable field at all is never silently zero: it is reported.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError

#: Fields each side may use, and their kind.
SIDE_FIELDS: dict[str, dict[str, str]] = {
    "query": {"text": "text"},
    "doc": {"title": "text", "image": "image"},
}
SIDES = ("query", "doc")


def parse_fields(
    spec: str | Mapping[str, float] | Sequence[str] | None,
    side: str | None = None,
    default: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Parse a field spec such as ``"image:0.9,title:0.1"`` into ``{"image": 0.9, "title": 0.1}``.

    A field without a weight gets 1 (``"title"`` -> ``{"title": 1.0}``). A mapping or a list of
    ``name[:weight]`` items is accepted too. ``side`` ("query" or "doc") checks the names against
    :data:`SIDE_FIELDS`. Weights must be finite and non-negative with a positive sum; they are
    kept as given (the combination rescales them per document). ``None`` returns ``default``.
    """
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        if default is None:
            raise GclBenchError("no fields given")
        return dict(default)
    if isinstance(spec, Mapping):
        items = [(str(k), v) for k, v in spec.items()]
    else:
        parts = spec.split(",") if isinstance(spec, str) else list(spec)
        items = []
        for part in parts:
            name, sep, weight = str(part).strip().partition(":")
            items.append((name.strip(), weight.strip() if sep else 1.0))
    label = f"{side} fields" if side else "fields"
    fields: dict[str, float] = {}
    for name, weight in items:
        if not name:
            raise GclBenchError(f"{label} {spec!r}: empty field name (expected e.g. image:0.9,title:0.1)")
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise GclBenchError(f"{label} {spec!r}: weight {weight!r} of {name!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise GclBenchError(f"{label} {spec!r}: weight of {name!r} must be a non-negative number")
        if name in fields:
            raise GclBenchError(f"{label} {spec!r}: field {name!r} given twice")
        if side is not None and name not in SIDE_FIELDS[side]:
            valid = ", ".join(SIDE_FIELDS[side])
            raise GclBenchError(f"{label} {spec!r}: unknown field {name!r} (valid: {valid})")
        fields[name] = value
    if sum(fields.values()) <= 0:
        raise GclBenchError(f"{label} {spec!r}: the weights must not all be zero")
    return fields


def format_fields(fields: Mapping[str, float]) -> str:
    """``{"image": 0.9, "title": 0.1}`` -> ``"image:0.9,title:0.1"`` (the CLI form)."""
    return ",".join(f"{name}:{weight:g}" for name, weight in fields.items())


def combine_fields(
    field_embeddings: Mapping[str, np.ndarray], weights: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sum of per-field embeddings, L2-normalised; returns ``(embeddings, no_field)``.

    ``field_embeddings[f]`` is a float (n, D) array of L2-normalised rows, with NaN rows where
    the field is absent. Per row, the weights of absent fields are dropped and the rest rescaled
    to sum to one (the reference evaluation's rule); the sum is then L2-normalised. ``no_field``
    is a boolean (n,) mask of rows with no usable field (weight sum zero); those rows are zero in
    ``embeddings`` and the caller must report them.
    """
    names = [name for name in weights if weights[name] > 0]
    if not names:
        raise GclBenchError("no field has a positive weight")
    missing = [name for name in names if name not in field_embeddings]
    if missing:
        raise GclBenchError(f"no embeddings given for field {missing[0]!r}")
    first = np.asarray(field_embeddings[names[0]])
    n, dim = first.shape
    total = np.zeros((n, dim), dtype=np.float64)
    weight_sum = np.zeros(n, dtype=np.float64)
    for name in names:
        emb = np.asarray(field_embeddings[name], dtype=np.float64)
        if emb.shape != (n, dim):
            raise GclBenchError(
                f"field {name!r} embeddings have shape {emb.shape}, field {names[0]!r} has {(n, dim)}"
            )
        present = ~np.isnan(emb).any(axis=1)
        w = float(weights[name])
        total[present] += w * emb[present]
        weight_sum[present] += w
    no_field = weight_sum <= 0
    total[~no_field] /= weight_sum[~no_field, None]
    norms = np.linalg.norm(total, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (total / norms).astype(np.float32), no_field


def resolve_device(device: str | None = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; other values are checked.

    Under torchrun (``LOCAL_RANK`` set) ``"auto"`` and ``"cuda"`` pick this process's GPU,
    ``cuda:<LOCAL_RANK mod GPU count>``, so ranks on one node do not share a device.
    """
    import os

    import torch

    device = (device or "auto").lower()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and torch.cuda.is_available() and os.environ.get("LOCAL_RANK", "").isdigit():
        return f"cuda:{int(os.environ['LOCAL_RANK']) % torch.cuda.device_count()}"
    if device == "cpu":
        return device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GclBenchError(f"--device {device}: no CUDA device is available (use --device cpu)")
    try:
        torch.device(device)
    except (RuntimeError, ValueError):
        raise GclBenchError(f"--device {device!r} is not a torch device (auto, cpu, cuda, cuda:1)") from None
    return device


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
        field_embeddings = {}
        for field, weight in weights.items():
            if weight <= 0:
                continue
            values = [row.get(field) for row in rows]
            field_embeddings[field] = self.encode_field(side, field, values, batch_size)
        if not rows:
            return np.zeros((0, self.embedding_dim()), dtype=np.float32)
        embeddings, no_field = combine_fields(field_embeddings, weights)
        if no_field.any():
            bad = [str(rows[i].get("id", i)) for i in np.flatnonzero(no_field)[:5]]
            what = "documents" if side == "doc" else "queries"
            raise GclBenchError(
                f"{int(no_field.sum())} {what} have none of the fields "
                f"{format_fields(weights)} usable (first ids: {', '.join(bad)})"
            )
        return embeddings

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


def check_side_field(side: str, field: str | None = None) -> None:
    """Raise GclBenchError unless ``side`` (and ``field``) are valid."""
    if side not in SIDE_FIELDS:
        raise GclBenchError(f"side {side!r} is not one of {', '.join(SIDES)}")
    if field is not None and field not in SIDE_FIELDS[side]:
        raise GclBenchError(
            f"{side} field {field!r} is unknown (valid: {', '.join(SIDE_FIELDS[side])})"
        )


def is_missing_text(value: Any) -> bool:
    """None, NaN or an empty/blank string: a text field the document does not have."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()
