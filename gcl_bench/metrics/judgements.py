"""Judgements ``{qid: {doc_id: grade}}`` validated once and turned into arrays for the joins.

:class:`Judgements` holds, for the judged queries with at least one positive grade (in the
dict's order): each query's positive judgements (doc ids, grades), g_max(q), the number of
grades >= 1 and the ideal ordering of its grades (for nDCG); with a corpus, where each judged
document is in it (for :meth:`JudgedRun.from_arrays`).

Imports numpy, :mod:`gcl_bench.errors` and the metrics layer's private modules.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError
from gcl_bench.kernels import note_if_compiling
from gcl_bench.metrics._dict_inputs import as_dict, check_keys
from gcl_bench.metrics._kernels import descending_within_rows

__all__ = ["Judgements", "Qrels", "read_judgements"]

Qrels = Mapping[str, Mapping[str, int]]

_INT64_MAX = np.iinfo(np.int64).max


@dataclass
class Judgements:
    """Validated judgements, ready to be joined with runs; build with :meth:`from_dict`.

    Converting a judgements dict (and finding its documents in a corpus) is the part of scoring
    that has to touch every judged document id in Python. When several runs, or one search over
    a corpus, are scored against the same judgements, prepare them once and pass this object
    wherever a qrels dict is accepted.

    Attributes:
        query_ids: the judged queries with at least one positive grade, in the dict's order.
        dicts: their ``{doc_id: grade}`` dicts.
        max_grades, num_relevant: g_max(q) and the number of grades >= 1, per query.
        positive_rows, positive_grades: the positive judgements in the order of ``dicts``'
            items (so rows are non-decreasing): the query (row) and grade of each;
            ``positive_mask`` marks which of the kept queries' items they are.
        ideal_grades, ideal_positions: the same judgements with each query's grades sorted
            best first (the ideal ordering), and the position of each in its query's ordering.
        collection_max_grade, judged, without_positive: as in :class:`MetricResult`.
        judged_ids: every judged query id (with or without a positive grade).
        all_dicts: the ``{doc_id: grade}`` dicts of every judged query, with or without a
            positive grade (BEIR's annotated corpus, for ``hole@k``, is all their documents).
    """

    query_ids: list[str]
    dicts: list[dict]
    max_grades: np.ndarray
    num_relevant: np.ndarray
    positive_mask: np.ndarray
    positive_rows: np.ndarray
    positive_grades: np.ndarray
    ideal_grades: np.ndarray
    ideal_positions: np.ndarray
    collection_max_grade: int
    judged: int
    without_positive: int
    judged_ids: set = field(default_factory=set)
    all_dicts: list[dict] = field(default_factory=list, repr=False)
    _corpus: tuple[Any, int, np.ndarray] | None = field(default=None, repr=False)
    _judged_docs: set | None = field(default=None, repr=False)
    _judged_corpus: tuple[Any, int, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, qrels: Qrels | Judgements, doc_ids: Sequence[str] | None = None) -> Judgements:
        """Validate ``{qid: {doc_id: grade}}``; with ``doc_ids``, also locate the judged documents
        in that corpus for :meth:`JudgedRun.from_arrays` (pass the same ``doc_ids`` object there)."""
        judgements = read_judgements(qrels)
        if doc_ids is not None:
            judgements.corpus_rows(doc_ids)
        return judgements

    def corpus_rows(self, doc_ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row in ``doc_ids`` of each positive judgement (-1 if not in the corpus); cached for
        the last corpus object seen. Raises GclBenchError if the corpus ids are not unique."""
        if self._corpus is not None and self._corpus[0] is doc_ids and self._corpus[1] == len(doc_ids):
            return self._corpus[2]
        rows = _rows_in_corpus(doc_ids, self.positive_doc_ids())
        self._corpus = (doc_ids, len(doc_ids), rows)
        return rows

    def judged_doc_ids(self) -> set:
        """Every document with a judgement, of any grade (0 included), for any judged query."""
        if self._judged_docs is None:
            self._judged_docs = set(chain.from_iterable(self.all_dicts))
        return self._judged_docs

    def judged_corpus_rows(self, doc_ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Rows in ``doc_ids`` of :meth:`judged_doc_ids` that are in the corpus (cached like
        :meth:`corpus_rows`)."""
        cached = self._judged_corpus
        if cached is not None and cached[0] is doc_ids and cached[1] == len(doc_ids):
            return cached[2]
        rows = _rows_in_corpus(doc_ids, list(self.judged_doc_ids()))
        rows = np.sort(rows[rows >= 0])
        self._judged_corpus = (doc_ids, len(doc_ids), rows)
        return rows

    def positive_doc_ids(self) -> list[str]:
        """Doc ids of the positive judgements, aligned with ``positive_rows``."""
        if self.positive_mask.all():
            return list(chain.from_iterable(self.dicts))
        return list(compress(chain.from_iterable(self.dicts), self.positive_mask.tolist()))


def _rows_in_corpus(doc_ids: Sequence[str] | np.ndarray, wanted: list[str]) -> np.ndarray:
    """Row in ``doc_ids`` of each of ``wanted`` (-1 if absent); the corpus ids must be unique.

    A column backed by Arrow (``doc_ids.arrow``) is searched by Arrow's hash join: no Python string
    per corpus id is made (a million ids as a dict would take hundreds of MB)."""
    arrow = getattr(doc_ids, "arrow", None)
    if arrow is not None:
        rows = _rows_in_arrow(arrow, wanted)
        if rows is not None:
            return rows
    ids = doc_ids.tolist() if isinstance(doc_ids, np.ndarray) else doc_ids
    position = dict(zip(ids, range(len(ids))))
    if len(position) != len(ids):
        seen: set = set()
        duplicate = next(d for d in ids if d in seen or seen.add(d))
        raise GclBenchError(f"document ids are not unique: {duplicate!r} occurs more than once")
    return np.array(list(map(position.get, wanted, repeat(-1))), dtype=np.int64)


def _rows_in_arrow(arrow: Any, wanted: list[str]) -> np.ndarray | None:
    """:func:`_rows_in_corpus` over an Arrow string column; None when its ids are not unique (the
    caller's path then names the repeated id)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    if arrow.null_count or len(pc.unique(arrow)) != len(arrow):
        return None
    found = pc.index_in(pa.array(wanted, type=arrow.type), value_set=arrow)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _bad_grade(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, np.integer)):
        return value < 0 or value > _INT64_MAX
    if isinstance(value, (float, np.floating)):
        return not (np.isfinite(value) and value == int(value) and 0 <= value < 2.0**62)
    return True


def _grade_error(query_ids: list[str], dicts: list[dict], lengths: np.ndarray, flat: int) -> GclBenchError:
    row = int(np.searchsorted(np.cumsum(lengths), flat, side="right"))
    start = int(lengths[:row].sum())
    doc, value = list(dicts[row].items())[flat - start]
    return GclBenchError(
        f"judgement of document {doc!r} for query {query_ids[row]!r} is {value!r}: "
        "grades must be non-negative integers"
    )


def _checked_grades(query_ids: list[str], dicts: list[dict], lengths: np.ndarray) -> np.ndarray:
    """All grades, flat in the dicts' order, as int64; GclBenchError naming the first bad one."""
    values = list(chain.from_iterable(map(dict.values, dicts)))
    grades = np.array(values) if values else np.zeros(0, dtype=np.int64)
    kind = grades.dtype.kind
    if kind == "f":
        bad = ~(np.isfinite(grades) & (grades == np.floor(grades)) & (grades >= 0) & (grades < 2.0**62))
    elif kind in "iu" and grades.ndim == 1:
        bad = (grades < 0) | (grades > _INT64_MAX) if kind == "i" else grades > _INT64_MAX
    else:
        bad = np.fromiter(map(_bad_grade, values), dtype=bool, count=len(values))
        if not bad.any():  # e.g. a mix numpy could not put in one numeric array
            bad[:] = True
    if bad.any():
        raise _grade_error(query_ids, dicts, lengths, int(np.argmax(bad)))
    return grades.astype(np.int64)


def read_judgements(qrels: Qrels | Judgements) -> Judgements:
    """Validate a judgements dict into :class:`Judgements` (a :class:`Judgements` passes through)."""
    if isinstance(qrels, Judgements):
        return qrels
    if not isinstance(qrels, Mapping):
        raise GclBenchError(f"judgements must be a mapping query_id -> {{doc_id: grade}}, got {type(qrels).__name__}")
    all_ids = list(qrels)
    all_dicts = [as_dict(docs, "the judgements", key) for key, docs in qrels.items()]
    check_keys(all_ids, all_dicts, "judgements")
    lengths = np.fromiter(map(len, all_dicts), dtype=np.int64, count=len(all_dicts))
    grades = _checked_grades(all_ids, all_dicts, lengths)

    rows = np.repeat(np.arange(len(all_dicts)), lengths)
    positive = np.flatnonzero(grades > 0)
    counts = np.bincount(rows[positive], minlength=len(all_dicts))
    keep = np.flatnonzero(counts > 0)
    if keep.size == 0:
        raise GclBenchError("the judgements contain no query with a positive grade")
    new_row = np.full(len(all_dicts), -1, dtype=np.int64)
    new_row[keep] = np.arange(keep.size)
    positive_rows, positive_grades = new_row[rows[positive]], grades[positive]
    num_relevant = counts[keep].astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(num_relevant)))
    note_if_compiling(descending_within_rows)
    ideal_grades = descending_within_rows(positive_grades, offsets)
    return Judgements(
        query_ids=[all_ids[i] for i in keep],
        dicts=[all_dicts[i] for i in keep],
        max_grades=ideal_grades[offsets[:-1]],
        num_relevant=num_relevant,
        positive_mask=(grades > 0)[counts[rows] > 0],
        positive_rows=positive_rows,
        positive_grades=positive_grades,
        ideal_grades=ideal_grades,
        ideal_positions=np.arange(positive_rows.size) - offsets[positive_rows],
        collection_max_grade=int(grades.max()),
        judged=len(all_ids),
        without_positive=len(all_ids) - int(keep.size),
        judged_ids=set(all_ids),
        all_dicts=all_dicts,
    )
