"""Fields and field fusion: the one rule that turns per-field embeddings into a side's embedding.

A *side* is ``query`` or ``doc``; each side has named *fields* (the query ``text``; a document's
``title``, ``image`` and, for BEIR folders, ``text``), each encoded by a text or an image tower (:data:`SIDE_FIELDS`). A side's
embedding is the weighted average of the embeddings of the fields an item has, the weights of the
fields it lacks dropped and the rest renormalised, then L2-normalised::

    e(x) = normalize( sum_f w_f [x has f] e_f(x) / sum_f w_f [x has f] )

with ``e_f(x)`` the L2-normalised embedding of field f of item x. This is how the GCL reference
evaluation (marqo-ai/GCL ``evals/``) combines fields, and how the GCL loss (paper §3) combines
them in training; the reference differs only in which documents it counts as lacking a text
field (:func:`reference_text_field`, used under the reference protocol, :mod:`gcl_bench.protocol`).
An item with no usable field has no embedding: it is reported, never given a zero vector.

- :func:`reference_text_field`: which documents the reference weights in a text field, and the texts;

- :func:`parse_fields` / :func:`format_fields`: ``"image:0.9,title:0.1"`` <-> ``{"image": 0.9, "title": 0.1}``;
- :func:`fuse_fields`: the rule on numpy arrays, in row blocks (corpora of millions of rows);
- :func:`fuse_fields_torch`: the same rule on torch tensors, differentiable (training).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError

SIDES: tuple[str, ...] = ("query", "doc")

SIDE_FIELDS: dict[str, dict[str, str]] = {
    "query": {"text": "text"},
    "doc": {"title": "text", "image": "image", "text": "text"},
}
"""Fields each side may use, and the tower (``text`` or ``image``) that encodes each. A document's
``text`` is a BEIR document's body; Marqo-GS products have none (the field is absent for them)."""

DEFAULT_QUERY_FIELDS: dict[str, float] = {"text": 1.0}
DEFAULT_DOC_FIELDS: dict[str, float] = {"image": 0.9, "title": 0.1}
"""The GCL evaluation's defaults (``evals/eval_gs_v1.py``): query text; image 0.9 + title 0.1."""

FUSION_BLOCK_ROWS = 65_536


def check_side_field(side: str, field: str | None = None) -> None:
    """Raise GclBenchError unless ``side`` (and ``field``) are valid."""
    if side not in SIDE_FIELDS:
        raise GclBenchError(f"side {side!r} is not one of {', '.join(SIDES)}")
    if field is not None and field not in SIDE_FIELDS[side]:
        raise GclBenchError(f"{side} field {field!r} is unknown (valid: {', '.join(SIDE_FIELDS[side])})")


def field_tower(side: str, field: str) -> str:
    """Which tower encodes ``field`` of ``side``: ``"text"`` or ``"image"``."""
    check_side_field(side, field)
    return SIDE_FIELDS[side][field]


def parse_fields(
    spec: str | Mapping[str, float] | Sequence[str] | None,
    side: str | None = None,
    default: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Parse a field spec such as ``"image:0.9,title:0.1"`` into ``{"image": 0.9, "title": 0.1}``.

    A field without a weight gets 1 (``"title"`` -> ``{"title": 1.0}``). A mapping or a list of
    ``name[:weight]`` items is accepted too. ``side`` ("query" or "doc") checks the names against
    :data:`SIDE_FIELDS`. Weights must be finite and non-negative with a positive sum; they are
    kept as given (fusion rescales them per item). ``None`` returns ``default``.
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


def active_fields(fields: Mapping[str, float]) -> dict[str, float]:
    """The fields with a positive weight (a zero weight means the field is not encoded at all)."""
    return {name: float(weight) for name, weight in fields.items() if weight > 0}


def format_fields(fields: Mapping[str, float]) -> str:
    """``{"image": 0.9, "title": 0.1}`` -> ``"image:0.9,title:0.1"`` (the CLI form)."""
    return ",".join(f"{name}:{weight:g}" for name, weight in fields.items())


def is_missing_text(value: Any) -> bool:
    """None, NaN or an empty/blank string: a text field the item does not have."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def reference_text_field(values: Sequence[Any], first: bool) -> tuple[np.ndarray, list[str]]:
    """Which items the GCL reference evaluation weights in one document text field, and the texts it encodes.

    The reference (marqo-ai/GCL ``evals/eval_dataset_loader.py``) encodes ``str(value)`` of every
    item's field and sets the field's weight to zero for a null value (None or NaN: not
    ``pandas.notna``) only when the field is not the side's first one (``first``). So a null
    value of the first field is encoded as the text ``"None"`` (``"nan"`` for NaN) with its
    weight, a null value of a later field is absent (its weight renormalised away, as
    :func:`fuse_fields` does for every missing field), and an empty or blank string is encoded
    as it is, with its weight, in any position (it is not null).

    Returns the (n,) bool mask of the items that have the field and the texts of those items.
    """
    null = np.fromiter((value is None or (isinstance(value, float) and math.isnan(value)) for value in values),
                       dtype=bool, count=len(values))
    present = np.ones(len(values), dtype=bool) if first else ~null
    texts = [str(value) for value, keep in zip(values, present) if keep]
    return present, texts


@dataclass
class FieldEmbeddings:
    """The embeddings of one field of a side, as :func:`fuse_fields` takes them.

    ``rows`` holds one L2-normalised row per item that has the field (all items when
    ``present`` is None; else the items where the (n,) bool ``present`` is True, in order). A row
    that is entirely NaN is a value the encoder could not use (an image that fails to decode) and
    counts as absent. ``rows`` may be a memory map: it is read block by block.
    """

    name: str
    rows: np.ndarray
    weight: float
    present: np.ndarray | None = None


@dataclass
class Fused:
    """The result of :func:`fuse_fields`.

    ``embeddings`` (k, D): one row per item with at least one usable field, in item order;
    ``has_field`` (n,) bool: which items those are; ``unusable`` field name -> how many of its
    rows were all-NaN.
    """

    embeddings: np.ndarray
    has_field: np.ndarray
    unusable: dict[str, int]


def fuse_fields(
    fields: Sequence[FieldEmbeddings],
    n: int,
    dtype: Any = np.float32,
    ids: Sequence[str] | None = None,
    block: int = FUSION_BLOCK_ROWS,
) -> Fused:
    """Fuse per-field embeddings of ``n`` items by the rule of this module, ``block`` rows at a time.

    ``e(x) = normalize(sum_f w_f [x has f] e_f(x) / sum_f w_f [x has f])``, accumulated in float32
    and returned as ``dtype``. Items without any usable field get no row (see :class:`Fused`).
    Fields with weight 0 are ignored. ``ids`` names items in errors.
    """
    fields = [f for f in fields if f.weight > 0]
    if not fields:
        raise GclBenchError("no field has a positive weight")
    dims = {f.name: int(f.rows.shape[1]) for f in fields if f.rows.ndim == 2 and f.rows.shape[0]}
    if len(set(dims.values())) > 1:
        raise GclBenchError(
            "field embeddings differ in dimension: " + ", ".join(f"{k}={v}" for k, v in dims.items())
        )
    dim = next(iter(dims.values()), int(fields[0].rows.shape[1]) if fields[0].rows.ndim == 2 else 0)
    masks, starts, valid, usable = [], [], [], []
    unusable: dict[str, int] = {}
    for f in fields:
        mask = np.ones(n, dtype=bool) if f.present is None else np.asarray(f.present, dtype=bool)
        if mask.shape != (n,) or int(mask.sum()) != f.rows.shape[0]:
            raise GclBenchError(
                f"field {f.name!r}: {f.rows.shape[0]} embedding rows for {int(mask.sum())} items that have it"
            )
        ok = ~np.isnan(np.asarray(f.rows[:, 0], dtype=np.float32)) if f.rows.shape[0] else np.zeros(0, bool)
        effective = mask.copy()
        effective[mask] = ok
        masks.append(mask)
        starts.append(np.concatenate([[0], np.cumsum(mask)]))
        valid.append(ok)
        usable.append(effective)
        unusable[f.name] = int((~ok).sum())
    has = np.zeros(n, dtype=bool)
    for effective in usable:
        has |= effective
    out = np.empty((int(has.sum()), dim), dtype=dtype)
    written = 0
    for a in range(0, n, block):
        b = min(n, a + block)
        acc = np.zeros((b - a, dim), dtype=np.float32)
        weight_sum = np.zeros(b - a, dtype=np.float32)
        for f, start, ok, effective in zip(fields, starts, valid, usable):
            local = effective[a:b]
            rows = f.rows[start[a] : start[b]][ok[start[a] : start[b]]]
            acc[local] += f.weight * np.asarray(rows, dtype=np.float32)
            weight_sum += f.weight * local
        keep = has[a:b]
        acc = acc[keep] / weight_sum[keep, None]
        norms = np.linalg.norm(acc, axis=1, keepdims=True)
        if (norms == 0).any():
            bad = np.flatnonzero(keep)[int(np.flatnonzero(norms[:, 0] == 0)[0])] + a
            name = repr(ids[bad]) if ids is not None else f"row {bad}"
            raise GclBenchError(f"item {name} has a zero combined embedding (its fields cancel out)")
        out[written : written + len(acc)] = acc / norms
        written += len(acc)
    return Fused(out, has, unusable)


def fuse_fields_torch(
    field_embeddings: Mapping[str, Any],
    weights: Mapping[str, float],
    present: Mapping[str, Any] | None = None,
) -> Any:
    """The rule of this module on torch tensors (differentiable; used by the GCL trainer).

    ``field_embeddings[f]`` is (N, D), each row L2-normalised; ``present[f]`` an optional (N,)
    bool mask of the rows that have field f. Row n is
    ``normalize(sum_f w_f present_f[n] e_f[n] / sum_f w_f present_f[n])``. A row without any
    present field raises ValueError (the trainer drops such rows first).
    """
    import torch
    import torch.nn.functional as F

    names = [name for name in weights if name in field_embeddings]
    if not names:
        raise ValueError("no field embeddings for the given weights")
    first = field_embeddings[names[0]]
    total = torch.zeros_like(first)
    norm = torch.zeros(first.shape[0], dtype=first.dtype, device=first.device)
    for name in names:
        weight = torch.full((first.shape[0],), float(weights[name]), dtype=first.dtype, device=first.device)
        if present is not None and name in present:
            weight = weight * present[name].to(device=first.device, dtype=first.dtype)
        total = total + weight[:, None] * field_embeddings[name]
        norm = norm + weight
    if bool((norm <= 0).any()):
        raise ValueError("a row has no present field with a positive weight")
    return F.normalize(total / norm[:, None], dim=-1)
