"""What an evaluation refuses before it encodes anything, so that no number it prints is silently wrong.

- :func:`check_settings`: numeric settings out of range (``--top-k 0``, ``--batch-size 0``,
  ``--num-workers -1``, ``--context-length 0``), each named by its ``gcl-bench run`` option.
- :func:`check_split`: a split whose judged products are mostly not in the corpus (more than
  :data:`UNREACHABLE_LIMIT` of them: the numbers would measure the gap between two files, not
  the model), or any of whose judged products is in the corpus only with leading zeros (ids that
  went through an integer column), unless ``allow_unreachable``; and a model that weights images over a corpus where
  no image is found (a titles-only number under the model's name), with ``--image-root`` or not.

Smaller versions of the same facts (some judged products unreachable, some images missing) are
not errors: they are printed at the end of the run (:mod:`gcl_bench.results.facts`).

May import: :mod:`gcl_bench.errors`, :mod:`gcl_bench.models.protocols`; the data and runner
types only for type checking.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gcl_bench.errors import GclBenchError
from gcl_bench.models.protocols import is_field_encoder

if TYPE_CHECKING:  # pragma: no cover
    from gcl_bench.data import Split
    from gcl_bench.runner import RunSettings

UNREACHABLE_LIMIT = 0.5
"""The share of judged products missing from the corpus above which a run stops."""

#: setting -> (its option, the smallest value it takes)
MINIMA = {"top_k": ("--top-k", 1), "batch_size": ("--batch-size", 1), "num_workers": ("--num-workers", 0),
          "context_length": ("--context-length", 1)}


def check_settings(settings: RunSettings) -> None:
    """Refuse a numeric setting below its minimum (an unset ``context_length`` is allowed)."""
    for name, (option, least) in MINIMA.items():
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


def check_split(settings: RunSettings, split: Split, model: Any) -> None:
    """Refuse a split whose numbers could not measure the model (see the module doc)."""
    meta = split.meta
    judged, outside = meta.get("judged_products") or 0, meta.get("judged_not_in_corpus") or 0
    if judged and outside > UNREACHABLE_LIMIT * judged and not settings.allow_unreachable:
        raise GclBenchError(
            f"{outside} of the {judged} judged products (e.g. {meta.get('judged_not_in_corpus_example')!r}) "
            f"are not in {Path(str(meta.get('corpus_file', 'the corpus'))).name}: they can never be retrieved "
            "and the metrics would be near 0; check that the judgements belong to this corpus "
            "(--allow-unreachable to score anyway)",
            meta.get("judgements"),
        )
    lost = meta.get("judged_without_leading_zeros")
    if lost and not settings.allow_unreachable:
        short, padded = meta["judged_without_leading_zeros_example"]
        raise GclBenchError(
            f"{lost} judged products are not in {Path(str(meta.get('corpus_file', 'the corpus'))).name} as written "
            f"but are there with leading zeros (e.g. {short!r} is {padded!r}): the judgement ids lost their "
            "leading zeros (read or written as integers); export them as text (--allow-unreachable to score anyway)",
            meta.get("judgements"),
        )
    weight = image_weight(model)
    if weight and split.num_docs and split.report.missing_images >= split.num_docs:
        example = meta.get("image_example")
        where = f"under --image-root {settings.image_root}" if settings.image_root else "(no --image-root given)"
        raise GclBenchError(
            f"none of the {split.num_docs} documents has an image {where}, e.g. {example!r} is not found, "
            f"but the model weights images {weight:g}: the result would be titles-only; give --image-root "
            "DIR where the images are, or --doc-fields title:1 for a titles-only evaluation",
            meta.get("corpus_file"),
        )
