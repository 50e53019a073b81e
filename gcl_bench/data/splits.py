"""The four Marqo-GS evaluation splits: canonical names, aliases, file stems, corpora and query sets.

Every place that takes a split name goes through :func:`canonical_split`, so
``novel_corpus``, ``query_0_product_id_1`` and ``novel_document`` all mean the same split.
This is the only module that spells the split file stems; the file names built from them are
in :mod:`gcl_bench.data.files`. May import: :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from gcl_bench.errors import GclBenchError

SPLITS: tuple[str, ...] = ("in_domain", "novel_query", "novel_document", "zero_shot")
"""Canonical split names in the order of the GCL paper's tables."""

SPLIT_STEMS: dict[str, str] = {
    "in_domain": "query_0_product_id_0",
    "novel_query": "query_1_product_id_0",
    "novel_document": "query_0_product_id_1",
    "zero_shot": "query_1_product_id_1",
}
"""File stem of each split in the released folders (``<stem>.csv``, ``<stem>_gt_test.json``...)."""

SPLIT_CORPUS: dict[str, str] = {
    "in_domain": "corpus_1",
    "novel_query": "corpus_1",
    "novel_document": "corpus_2",
    "zero_shot": "corpus_2",
}
"""Which corpus file (without ``.json``) holds the documents of each split."""

CORPORA: tuple[str, ...] = ("corpus_1", "corpus_2")
"""The corpora of a sub-dataset: the training documents, then the unseen ones."""

SPLIT_QUERY_SET: dict[str, int] = {
    "in_domain": 0,
    "novel_query": 1,
    "novel_document": 0,
    "zero_shot": 1,
}
"""Which query set a split's queries come from: 0 the seen (training) queries, 1 the novel ones."""

SPLIT_ALIASES: dict[str, str] = {
    "novel_corpus": "novel_document",
    "novel-corpus": "novel_document",
    "in-domain": "in_domain",
    "novel-query": "novel_query",
    "novel-document": "novel_document",
    "zero-shot": "zero_shot",
}
"""Other names accepted for a split (hyphenated forms appear in the Hugging Face export)."""

SPLIT_LABELS: dict[str, str] = {
    "in_domain": "In-domain",
    "novel_query": "Novel query",
    "novel_document": "Novel document",
    "zero_shot": "Zero-shot",
}
"""How tables and plots name each split (the GCL paper's column headings)."""

EVAL_SETS: tuple[str, ...] = ("test", "dev")


def canonical_split(name: str) -> str:
    """Return the canonical name of split ``name`` (a name, an alias or a file stem).

    Matching ignores case and surrounding white space. An unknown name raises
    :class:`GclBenchError` listing the valid names.
    """
    key = str(name).strip().lower()
    if key in SPLIT_STEMS:
        return key
    if key in SPLIT_ALIASES:
        return SPLIT_ALIASES[key]
    for split, stem in SPLIT_STEMS.items():
        if key == stem:
            return split
    valid = ", ".join(f"{s} ({SPLIT_STEMS[s]})" for s in SPLITS)
    raise GclBenchError(f"unknown split {name!r}; valid splits: {valid}; alias: novel_corpus")


def split_from_file_label(label: str) -> str | None:
    """The split a file or folder name such as ``in_domain-00000-of-00004`` or ``novel-query-5`` names, if any."""
    norm = label.strip().lower().replace("-", "_")
    names = list(SPLIT_STEMS) + ["novel_corpus"] + list(SPLIT_STEMS.values())
    for candidate in sorted(names, key=len, reverse=True):
        if norm == candidate or norm.startswith(candidate + "_") or norm.startswith(candidate + "."):
            return canonical_split(candidate)
    return None


def split_spellings(split: str) -> tuple[str, ...]:
    """Every name a file or folder may give ``split``: its canonical name, its aliases and its stem."""
    split = canonical_split(split)
    aliases = [alias for alias, target in SPLIT_ALIASES.items() if target == split]
    return (split, *aliases, SPLIT_STEMS[split])


def check_eval_set(eval_set: str) -> str:
    """Validate ``eval_set`` (``test`` or ``dev``)."""
    key = str(eval_set).strip().lower()
    if key not in EVAL_SETS:
        raise GclBenchError(f"unknown eval set {eval_set!r}; valid: test, dev")
    return key
