"""Judgements are prepared once per split and reused by every later scoring of it."""
from __future__ import annotations

import gc

import numpy as np
import pytest

from gcl_bench.data import Split
from gcl_bench.metrics import JudgedRun, split_judgements
from gcl_bench.metrics import judgements as judgements_module
from gcl_bench.runner import Retrieval, score_stage


def small_split() -> Split:
    qrels = {"q1": {"d2": 3, "d0": 1}, "q2": {"d1": 2}}
    return Split("tiny", ["d0", "d1", "d2", "d3"], ["a", "b", "c", "d"], [None] * 4,
                 ["q1", "q2"], ["first", "second"], qrels)


@pytest.fixture
def corpus_lookups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times judged documents were located in a corpus (one entry per look-up)."""
    calls: list[int] = []
    original = judgements_module._rows_in_corpus

    def counting(doc_ids, wanted):  # noqa: ANN001, ANN202 - the wrapped private signature
        calls.append(len(doc_ids))
        return original(doc_ids, wanted)

    monkeypatch.setattr(judgements_module, "_rows_in_corpus", counting)
    return calls


def test_scoring_a_split_twice_locates_its_judgements_once(corpus_lookups: list[int]) -> None:
    split = small_split()
    retrieval = Retrieval(np.array([[0.9, 0.5, 0.1], [0.8, 0.7, 0.0]], dtype=np.float32),
                          np.array([[2, 1, 0], [3, 1, -1]]))
    first = score_stage(split, retrieval, ["ndcg@10", "map@1000"])
    second = score_stage(split, retrieval, ["ndcg@10", "map@1000"])
    assert corpus_lookups == [4]
    assert split_judgements(split) is split_judgements(split)
    run = {"q1": {"d2": 0.9, "d1": 0.5, "d0": 0.1}, "q2": {"d3": 0.8, "d1": 0.7}}
    expected = JudgedRun.from_dicts(split.qrels, run).compute(["ndcg@10", "map@1000"]).means
    assert first.means == second.means
    assert first.means["ndcg@10"] == pytest.approx(expected["ndcg@10"])
    # hand-computed: q1 ranks d2 (3) first, d0 (1) third; q2 ranks d1 (2) second
    q1 = (3 + 1 / np.log2(4)) / (3 + 1 / np.log2(3))
    q2 = (2 / np.log2(3)) / 2
    assert first.means["ndcg@10"] == pytest.approx((q1 + q2) / 2)


def test_new_judgements_or_a_new_split_are_prepared_again(corpus_lookups: list[int]) -> None:
    split = small_split()
    prepared = split_judgements(split)
    split.qrels = {"q1": {"d3": 1}}
    again = split_judgements(split)
    assert again is not prepared and again.query_ids == ["q1"]
    other = small_split()
    assert split_judgements(other) is not again
    assert corpus_lookups == [4, 4, 4]


def test_a_collected_split_leaves_nothing_behind() -> None:
    from gcl_bench.metrics import per_split

    split = small_split()
    split_judgements(split)
    key = id(split)
    assert key in per_split._PREPARED
    del split
    gc.collect()
    assert key not in per_split._PREPARED
