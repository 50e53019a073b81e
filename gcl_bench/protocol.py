"""The evaluation protocols: ``default`` (gcl-bench's conventions) and ``reference`` (the GCL
reference evaluation's deterministic choices).

The published Marqo-GS-10M numbers were computed by marqo-ai/GCL's ``evals/eval_gs_v1.py``. On
clean data both protocols give its numbers; where the data is not clean they differ, and
``--protocol reference`` reproduces the reference's choices so a gap to a published number can be
told apart from a model difference. What the reference protocol changes, and where:

1. a document text field (``title``, BEIR's ``text``) of gcl-bench's own dense adapters: the
   reference encodes ``str(value)`` for every document and zeroes the field's weight only for a
   null value (None or NaN) of a field after the side's first one. So a null first field is
   encoded as the text ``"None"``, and an empty or blank string is encoded as it is, with its
   weight, in any position (:func:`gcl_bench.fields.reference_text_field`; the encode plan);
2. ties: ERR, RBP, MRR, accuracy and hole (the metrics the reference computes with a stable
   sort on the score) keep tied documents in search order, the order the run lists them; nDCG,
   MAP, recall and precision (pytrec_eval in the reference) keep trec_eval's order, score
   descending then doc id descending (:data:`gcl_bench.metrics._families.SEARCH_ORDER_FAMILIES`).
   Search order for the flat index is score descending, then corpus order (the lower document
   row first); other indexes and BM25 return their own order;
4. judgements sampled from a split CSV: product ids as pandas 2.2's ``read_csv`` then
   ``astype(str)`` make them, so an all-integer id column loses its leading zeros and those
   judgements never match the corpus (:mod:`gcl_bench.data.pandas_ids`);
5. judgements sampled from a split CSV: each query keeps its ``--top-k`` best-graded rows (the
   retrieval depth) instead of ``--judged-top-k`` (the runner).

Kept as gcl-bench does them under both protocols, because the reference's behaviour is a defect:
3 (exact ties at the top-k cutoff: ``torch.topk`` keeps an unspecified subset; gcl-bench keeps
the lower document rows), 6 (top-k larger than the corpus: the reference crashes or scores the
last document -3.4e38; gcl-bench returns the whole corpus), 7 (missing or corrupt images crash
the reference; gcl-bench renormalises the document's weights over its other fields) and 8 (gt
files keyed by raw query text crash the reference; gcl-bench resolves the keys).

May import: :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from gcl_bench.errors import GclBenchError

DEFAULT = "default"
REFERENCE = "reference"
PROTOCOLS: tuple[str, ...] = (DEFAULT, REFERENCE)


def check_protocol(protocol: str) -> str:
    """``protocol`` if it is one of :data:`PROTOCOLS`, else a GclBenchError naming them."""
    if protocol not in PROTOCOLS:
        raise GclBenchError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    return protocol


def sampled_judgement_depth(protocol: str, top_k: int, judged_top_k: int, judged_top_k_default: int) -> int:
    """Judged documents kept per sampled query: ``judged_top_k``, or under the reference protocol
    the retrieval depth ``top_k``. A ``judged_top_k`` other than its default and ``top_k`` is
    refused under the reference protocol (the two would contradict each other)."""
    if check_protocol(protocol) != REFERENCE:
        return judged_top_k
    if judged_top_k not in (judged_top_k_default, top_k):
        raise GclBenchError(f"--judged-top-k {judged_top_k} differs from --top-k {top_k}: under --protocol "
                            "reference sampled judgements are cut at --top-k, as the reference does")
    return top_k
