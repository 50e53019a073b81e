"""The join of judgements with a BEIR-style run dict ``{qid: {doc_id: score}}``.

A run is never sorted document by document in Python: its scores are read once into an array
(``np.fromiter`` over ``dict.values``), the scores of the positive judgements are looked up with
``dict.get``, and :func:`~gcl_bench.metrics._ranking.rank_hits` ranks them. Document ids of the
run are read only where scores tie with a judged document's (the tie break needs them).

The ranks of every retrieved document with a judgement of any grade (for ``hole@k``) are
ranked the same way, but only when asked for: :func:`join_dicts` returns a function for them.
So is the second ranking of the same run in search order (the dict's order on ties, scores
compared as float64; the reference protocol's ERR, RBP, MRR, accuracy and hole).

Imports numpy and the metrics layer's private modules.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import chain, islice, repeat

import numpy as np

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics._arrays import Hits
from gcl_bench.metrics._dict_inputs import as_dict, check_keys
from gcl_bench.metrics._ranking import float32_scores, rank_hits
from gcl_bench.metrics.judgements import Judgements

Run = Mapping[str, Mapping[str, float]]

#: ``() -> (hits, lengths)``: the ranks of the retrieved documents that have a judgement of any
#: grade, as hits of grade 1, and the length of each kept list (the joins return one)
JudgedRanks = Callable[[], tuple[Hits, np.ndarray]]

#: ``() -> (hits, judged_ranks)``: the same run ranked in search order (ties in the run's own
#: order), its hits and its :data:`JudgedRanks` (the joins return one; it ranks only when called)
SearchOrder = Callable[[], tuple[Hits, JudgedRanks]]


def check_top_k(top_k: int | None) -> int | None:
    """None (keep whole lists) or a positive integer."""
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise GclBenchError(f"top_k must be a positive integer, got {top_k!r}")
    return int(top_k)


def join_dicts(
    judgements: Judgements, run: Run, top_k: int | None,
) -> tuple[Hits, dict[str, int], JudgedRanks, SearchOrder]:
    """The hits of ``run`` (rows in judgement order), the counts ``missing_from_run``,
    ``tied_lists`` and ``ignored_run_queries``, the function that ranks the judged documents, and
    the one that ranks the run again in search order."""
    if not isinstance(run, Mapping):
        raise GclBenchError(f"the run must be a mapping query_id -> {{doc_id: score}}, got {type(run).__name__}")
    lists = list(map(run.get, judgements.query_ids))
    missing = lists.count(None)
    lists = [
        {} if docs is None else as_dict(docs, "the run", qid)
        for qid, docs in zip(judgements.query_ids, lists)
    ]
    check_keys(judgements.query_ids, lists, "run")
    ignored = sum(1 for qid in run if qid not in judgements.judged_ids)

    lengths, offsets, scores = _list_form(lists)
    nan = np.isnan(scores)
    if nan.any():
        row = int(np.searchsorted(offsets, int(np.argmax(nan)), side="right")) - 1
        raise GclBenchError(f"the run has a NaN score for query {judgements.query_ids[row]!r}")

    # scores of the positive judgements, looked up in the run (NaN = not retrieved)
    positive_ids = judgements.positive_doc_ids()
    row_dicts = chain.from_iterable(map(repeat, lists, judgements.num_relevant.tolist()))
    judged_scores = np.array(list(map(dict.get, row_dicts, positive_ids, repeat(np.nan))), dtype=np.float64)
    retrieved = np.flatnonzero(~np.isnan(judged_scores))

    def judged_names(which: np.ndarray) -> list[str]:
        return [positive_ids[i] for i in retrieved[which].tolist()]

    def names_at(rows: np.ndarray, positions: np.ndarray) -> list[str]:
        return _dict_keys_at(lists, offsets, rows, positions)

    longest = int(lengths.max(initial=0))
    keep = longest if top_k is None else min(top_k, longest)
    hits, tied_lists = rank_hits(
        float32_scores(scores), offsets, judgements.positive_rows[retrieved],
        float32_scores(judged_scores[retrieved]), judgements.positive_grades[retrieved],
        judged_names, names_at, keep,
    )
    counts = {"missing_from_run": missing, "tied_lists": tied_lists, "ignored_run_queries": ignored}

    def search_order() -> tuple[Hits, JudgedRanks]:
        ranked, _ = rank_hits(scores, offsets, judgements.positive_rows[retrieved], judged_scores[retrieved],
                              judgements.positive_grades[retrieved], judged_names, names_at, keep,
                              in_list_order=True)
        return ranked, lambda: _judged_ranks(judgements, lists, keep, in_list_order=True)

    return hits, counts, lambda: _judged_ranks(judgements, lists, keep), search_order


def _list_form(lists: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lengths, offsets and float64 scores of the run's lists laid end to end."""
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    try:
        scores = np.fromiter(chain.from_iterable(map(dict.values, lists)), dtype=np.float64, count=int(offsets[-1]))
    except (TypeError, ValueError) as exc:
        raise GclBenchError(f"the run contains a score that is not a number ({exc})") from None
    return lengths, offsets, scores


def _judged_ranks(
    judgements: Judgements, lists: list[dict], keep: int, in_list_order: bool = False,
) -> tuple[Hits, np.ndarray]:
    """Ranks of the retrieved documents judged with any grade (in trec_eval's order, or in
    search order), and the kept list lengths."""
    lengths, offsets, scores = _list_form(lists)
    names = list(chain.from_iterable(lists))
    positions = np.flatnonzero(np.fromiter(map(judgements.judged_doc_ids().__contains__, names),
                                           dtype=bool, count=len(names)))
    rows = np.searchsorted(offsets, positions, side="right") - 1
    run_scores = scores if in_list_order else float32_scores(scores)

    def judged_names(which: np.ndarray) -> list[str]:
        return [names[i] for i in positions[which].tolist()]

    def names_at(_rows: np.ndarray, at: np.ndarray) -> list[str]:
        return [names[i] for i in at.tolist()]

    hits, _ = rank_hits(run_scores, offsets, rows, run_scores[positions],
                        np.ones(positions.size, dtype=np.int64), judged_names, names_at, keep, in_list_order)
    return hits, np.minimum(lengths, keep)


def _dict_keys_at(lists: list[dict], offsets: np.ndarray, rows: np.ndarray, positions: np.ndarray) -> list[str]:
    """Doc ids at flat positions of the concatenated run dicts; reads only the rows' prefixes."""
    within = positions - offsets[rows]
    order = np.lexsort((within, rows))
    rows_sorted, within_sorted = rows[order], within[order]
    cuts = (np.flatnonzero(np.diff(rows_sorted)) + 1).tolist()
    names: list[str] = [""] * len(order)
    for start, stop in zip([0, *cuts], [*cuts, len(order)]):
        wanted = within_sorted[start:stop].tolist()
        prefix = list(islice(lists[int(rows_sorted[start])], wanted[-1] + 1))
        for i, w in zip(order[start:stop].tolist(), wanted):
            names[i] = prefix[w]
    return names
