"""The four Marqo-GS evaluation splits: canonical names, aliases, file stems, corpora and query sets.

Every place that takes a split name goes through :func:`canonical_split`, so
``novel_corpus``, ``query_0_product_id_1`` and ``novel_document`` all mean the same split.
This is the only module that spells the split file stems; the file names built from them are
in :mod:`gcl_bench.data.files`. May import: :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from gcl_bench.errors import GclBenchError

SPLIT_SETS: dict[str, tuple[int, int]] = {
    "in_domain": (0, 0),
    "novel_query": (1, 0),
    "novel_document": (0, 1),
    "zero_shot": (1, 1),
}
"""Each split as (query set, product set): 0 = seen in training, 1 = novel (the GCL paper's 2x2),
in the order of the paper's tables. Everything else about a split follows from this table."""

SPLITS: tuple[str, ...] = tuple(SPLIT_SETS)
"""Canonical split names in the order of the GCL paper's tables."""

SPLIT_STEMS: dict[str, str] = {
    split: f"query_{queries}_product_id_{products}" for split, (queries, products) in SPLIT_SETS.items()
}
"""File stem of each split in the released folders (``<stem>.csv``, ``<stem>_gt_test.json``...)."""

CORPORA: tuple[str, ...] = ("corpus_1", "corpus_2")
"""The corpora of a sub-dataset: the training documents (product set 0), then the unseen ones."""

SPLIT_CORPUS: dict[str, str] = {split: CORPORA[products] for split, (_, products) in SPLIT_SETS.items()}
"""Which corpus file (without ``.json``) holds the documents of each split."""

SPLIT_QUERY_SET: dict[str, int] = {split: queries for split, (queries, _) in SPLIT_SETS.items()}
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
