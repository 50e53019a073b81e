"""Judgements prepared once per split: validated and located in its corpus a single time.

Preparing :class:`~gcl_bench.metrics.judgements.Judgements` touches every judged document id and
every corpus id in Python (a second or so at a million documents); scoring a search output with
them prepared takes a fraction of that. :func:`split_judgements` keeps the prepared judgements of
each live split object (anything with ``qrels`` and ``doc_ids``: a
:class:`gcl_bench.data.Split`), so every scoring of the same split in one process (a sweep over
models, fusion weights or index settings) reuses them.

Imports the standard library and :mod:`gcl_bench.metrics.judgements`.
"""
from __future__ import annotations

import weakref
from typing import Any

from gcl_bench.metrics.judgements import Judgements

#: id(split) -> (a weak reference to the split, its qrels object, its prepared judgements)
_PREPARED: dict[int, tuple[weakref.ref, Any, Judgements]] = {}


def split_judgements(split: Any) -> Judgements:
    """``split.qrels`` prepared for ``split.doc_ids``, once per split object.

    A split whose ``qrels`` was replaced by another object is prepared again; one whose
    ``doc_ids`` was replaced has its corpus look-up redone by :meth:`Judgements.corpus_rows`
    (kept for the last corpus object it saw). The entry goes when the split is garbage-collected.
    """
    key = id(split)
    cached = _PREPARED.get(key)
    if cached is not None and cached[0]() is split and cached[1] is split.qrels:
        return cached[2]
    judgements = Judgements.from_dict(split.qrels, split.doc_ids)

    def forget(reference: weakref.ref) -> None:
        if _PREPARED.get(key, (None,))[0] is reference:
            del _PREPARED[key]

    _PREPARED[key] = (weakref.ref(split, forget), split.qrels, judgements)
    return judgements
