"""Whether a loaded split can measure a model at all, or its numbers would be silently wrong.

:func:`check_scorable` refuses a split whose judged products are mostly not in the corpus (more
than :data:`UNREACHABLE_LIMIT` of them: the numbers would measure the gap between two files, not
the model) or any of whose judged products is in the corpus only with leading zeros (ids that
went through an integer column), unless ``allow_unreachable``; and a split without a single image
found for a model that weights images (a titles-only number under that model's name), with
``--image-root`` or not. Smaller versions of the same facts (some judged products unreachable,
some images missing) are not errors: they are printed at the end of the run
(:mod:`gcl_bench.results.facts`).

May import: :mod:`~gcl_bench.data.split`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from pathlib import Path

from gcl_bench.data.split import Split
from gcl_bench.errors import GclBenchError

UNREACHABLE_LIMIT = 0.5
"""The share of judged products missing from the corpus above which a run stops."""


def check_scorable(
    split: Split, *, allow_unreachable: bool = False, image_weight: float | None = None, image_root: str | None = None
) -> None:
    """Refuse ``split`` for a model that weights the document image ``image_weight`` (None: the
    model does not say) when its numbers could not measure that model (see the module doc)."""
    meta = split.meta
    corpus = Path(str(meta.get("corpus_file") or "the corpus")).name
    judged, outside = meta.get("judged_products") or 0, meta.get("judged_not_in_corpus") or 0
    if judged and outside > UNREACHABLE_LIMIT * judged and not allow_unreachable:
        raise GclBenchError(
            f"{outside} of the {judged} judged products (e.g. {meta.get('judged_not_in_corpus_example')!r}) "
            f"are not in {corpus}: they can never be retrieved and the metrics would be near 0; check that "
            "the judgements belong to this corpus (--allow-unreachable to score anyway)",
            meta.get("judgements"),
        )
    lost = meta.get("judged_without_leading_zeros")
    rewritten_on_purpose = meta.get("ids_rewritten") is not None  # the reference protocol's pandas ids
    if lost and not allow_unreachable and not rewritten_on_purpose:
        short, padded = meta["judged_without_leading_zeros_example"]
        raise GclBenchError(
            f"{lost} judged products are not in {corpus} as written but are there with leading zeros "
            f"(e.g. {short!r} is {padded!r}): the judgement ids lost their leading zeros (read or written "
            "as integers); export them as text (--allow-unreachable to score anyway)",
            meta.get("judgements"),
        )
    if image_weight and split.num_docs and split.report.missing_images >= split.num_docs:
        where = f"under --image-root {image_root}" if image_root else "(no --image-root given)"
        raise GclBenchError(
            f"none of the {split.num_docs} documents has an image {where}, e.g. {meta.get('image_example')!r} "
            f"is not found, but the model weights images {image_weight:g}: the result would be titles-only; "
            "give --image-root DIR where the images are, or --doc-fields title:1 for a titles-only evaluation",
            meta.get("corpus_file"),
        )
