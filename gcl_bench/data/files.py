"""The file names of each dataset folder layout, built in this one place.

- Marqo-GS sub-dataset folder, per split (:class:`MarqoFiles`): ``<stem>.csv``,
  ``<stem>_gt_<eval set>.json``, ``<stem>_queries.json`` and the split's corpus
  ``corpus_<n>.json`` (stems and corpora from :mod:`gcl_bench.data.splits`).
- BEIR folder (:class:`BeirFiles`): ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<eval set>.tsv``.
- Hugging Face export: gt files named after the split or its stem (:func:`hf_gt_candidates`).

Readers, the layout detection and the sample writer all take their paths from here. Each input
may also be stored gzip-compressed under its name plus ``.gz`` (``corpus_1.json.gz``): the
path given is then that one (:func:`on_disk`), and the readers decompress it as they read.
May import: :mod:`gcl_bench.data.splits`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gcl_bench.data.splits import SPLIT_CORPUS, SPLIT_STEMS

GZIP_SUFFIX = ".gz"


def on_disk(path: Path) -> Path:
    """``path``, or ``path.gz`` when only the gzip-compressed file exists."""
    if not path.exists():
        packed = path.with_name(path.name + GZIP_SUFFIX)
        if packed.exists():
            return packed
    return path


def gt_file_name(label: str, eval_set: str) -> str:
    """``<label>_gt_<eval_set>.json``: a judgement file named after a split stem or split name."""
    return f"{label}_gt_{eval_set}.json"


def corpus_file(folder: Path, corpus: str) -> Path:
    """The JSON file of corpus ``corpus`` (``corpus_1``, ``corpus_2``) in a Marqo-GS folder."""
    return on_disk(folder / f"{corpus}.json")


@dataclass(frozen=True)
class MarqoFiles:
    """The files of split ``split`` (a canonical name) in the Marqo-GS folder ``folder``."""

    folder: Path
    split: str

    @property
    def stem(self) -> str:
        return SPLIT_STEMS[self.split]

    @property
    def csv(self) -> Path:
        """The split's triplets, ``<stem>.csv``."""
        return on_disk(self.folder / f"{self.stem}.csv")

    @property
    def queries(self) -> Path:
        """The split's queries, ``<stem>_queries.json``."""
        return on_disk(self.folder / f"{self.stem}_queries.json")

    @property
    def corpus(self) -> Path:
        """The split's documents, ``corpus_1.json`` or ``corpus_2.json``."""
        return corpus_file(self.folder, SPLIT_CORPUS[self.split])

    def gt(self, eval_set: str) -> Path:
        """The split's judgements for ``eval_set``, ``<stem>_gt_<eval_set>.json``."""
        return on_disk(self.folder / gt_file_name(self.stem, eval_set))


@dataclass(frozen=True)
class BeirFiles:
    """The files of the BEIR folder ``folder``."""

    folder: Path

    @property
    def corpus(self) -> Path:
        return on_disk(self.folder / "corpus.jsonl")

    @property
    def queries(self) -> Path:
        return on_disk(self.folder / "queries.jsonl")

    def qrels(self, eval_set: str) -> Path:
        """``qrels/<eval_set>.tsv``."""
        return on_disk(self.folder / "qrels" / f"{eval_set}.tsv")


def hf_gt_candidates(folder: Path, split: str, eval_set: str) -> list[Path]:
    """Where a judgement file of a Hugging Face export may lie, in order of preference."""
    return [on_disk(folder / gt_file_name(split, eval_set)), MarqoFiles(folder, split).gt(eval_set)]
