"""BEIR's Hole@k and Accuracy@k: what "judged" means, checked against BEIR's own functions and by hand.

BEIR's hole counts a retrieved document as judged when it has a judgement of any grade, 0
included, for any query of the qrels (its "annotated corpus"), and divides by k even when fewer
than k documents were retrieved.
"""
from __future__ import annotations

import numpy as np
import pytest
from beir.retrieval import custom_metrics

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics import JudgedRun, accuracy, err_gdeval, evaluate, hole

QRELS = {
    "q1": {"a": 2, "b": 0},  # b is judged non-relevant: not a hole
    "q2": {"c": 1, "x": 0},  # x is judged (for q2 only)
}
RUN = {
    "q1": {"a": 0.9, "x": 0.8, "u1": 0.7, "b": 0.6, "u2": 0.5},  # x judged for q2: not a hole
    "q2": {"u3": 0.9, "c": 0.8},  # two documents retrieved, k = 5
}


@pytest.fixture()
def exact_beir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(custom_metrics, "round", lambda value, digits=None: value, raising=False)


def test_hole_counts_only_documents_without_any_judgement(exact_beir: None) -> None:
    per_query = JudgedRun.from_dicts(QRELS, RUN).compute(["hole@5", "hole@2", "accuracy@1"]).per_query
    # by hand: q1's top 5 holds u1, u2 unjudged; q2's top 5 holds u3 of its 2 documents, over k = 5
    np.testing.assert_array_equal(per_query["hole@5"], [2 / 5, 1 / 5])
    np.testing.assert_array_equal(per_query["hole@2"], [0.0, 1 / 2])
    np.testing.assert_array_equal(per_query["accuracy@1"], [1.0, 0.0])
    # BEIR's own functions on the same input (all queries have a positive grade and a list)
    beir = custom_metrics.hole(QRELS, RUN, [2, 5])
    assert beir["Hole@5"] == pytest.approx(per_query["hole@5"].mean(), abs=1e-15)
    assert beir["Hole@2"] == pytest.approx(per_query["hole@2"].mean(), abs=1e-15)
    assert custom_metrics.top_k_accuracy(QRELS, RUN, [1])["Accuracy@1"] == pytest.approx(0.5)


def test_hole_from_search_arrays_and_with_padding() -> None:
    doc_ids = ["a", "b", "c", "x", "u1", "u2", "u3"]
    pos = {d: i for i, d in enumerate(doc_ids)}
    indices = np.full((2, 5), -1)
    scores = np.zeros((2, 5))
    for row, qid in enumerate(("q1", "q2")):
        for col, (doc, score) in enumerate(RUN[qid].items()):
            indices[row, col], scores[row, col] = pos[doc], score
    arrays = JudgedRun.from_arrays(QRELS, ["q1", "q2"], doc_ids, indices, scores).compute(["hole@5", "hole@2"])
    dicts = JudgedRun.from_dicts(QRELS, RUN).compute(["hole@5", "hole@2"])
    for name in ("hole@5", "hole@2"):
        np.testing.assert_array_equal(arrays.per_query[name], dicts.per_query[name])


def test_hole_respects_top_k_and_a_query_missing_from_the_run() -> None:
    qrels = {**QRELS, "q3": {"a": 1}}
    values = JudgedRun.from_dicts(qrels, RUN, top_k=3).compute(["hole@5"]).per_query["hole@5"]
    np.testing.assert_array_equal(values, [1 / 5, 1 / 5, 0.0])  # q1 cut to a, x, u1


def test_array_functions() -> None:
    judged = np.array([[1, 0, 1, 0], [0, 1, -1, -1]])
    np.testing.assert_array_equal(hole(judged, 3), [1 / 3, 1 / 3])
    np.testing.assert_array_equal(hole(judged, 10), [2 / 10, 1 / 10])
    with pytest.raises(GclBenchError):
        hole(np.array([[1, -1, 0]]), 2)
    gains = np.array([[0, 0, 3], [0, 0, 0]])
    np.testing.assert_array_equal(accuracy(gains, 2), [0.0, 0.0])
    np.testing.assert_array_equal(accuracy(gains, 3), [1.0, 0.0])
    # gdeval: R = (2^g - 1) / 16
    np.testing.assert_allclose(err_gdeval(np.array([[4, 2]])), [15 / 16 + (1 / 16) * (3 / 16) / 2], rtol=1e-15)
    with pytest.raises(GclBenchError, match="0..4"):
        err_gdeval(np.array([[5]]))


def test_hole_is_computed_only_when_asked() -> None:
    judged = JudgedRun.from_dicts(QRELS, RUN)
    judged.compute(["ndcg@10"])
    assert judged._judged_ranks.cache_info().currsize == 0
    first = judged.compute(["hole@5"]).means
    assert judged._judged_ranks.cache_info().currsize == 1
    assert judged.compute(["hole@5"]).means == first == evaluate(QRELS, RUN, ["Hole@5"])
