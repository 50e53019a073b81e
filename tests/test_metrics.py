"""Metrics agree with pytrec_eval (trec_eval) per query, and ERR/RBP with the formulas.

Random runs here are built to contain ties: scores drawn from a few values, and pairs of float64
scores that differ but round to the same float32 (trec_eval compares float32 scores and breaks
ties by document id descending).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import pytrec_eval

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics import (
    CURVE_CUTOFFS,
    DEFAULT_METRICS,
    JudgedRun,
    Judgements,
    average_precision,
    err,
    err_chapelle,
    evaluate,
    ndcg,
    parse_metric,
    precision,
    rbp,
    rbp_binary,
    recall,
    reciprocal_rank,
)

TOL = 1e-9


def random_case(seed: int, n_queries: int = 40, n_docs: int = 300, max_grade: int = 5):
    """Judgements and a run with ties, short lists, missing and unjudged queries."""
    rng = np.random.default_rng(seed)
    # ids of different lengths, so string order differs from numeric order ("d10" < "d9")
    doc_ids = [f"d{i}" for i in rng.permutation(n_docs)]
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for q in range(n_queries):
        qid = f"q{q}"
        judged = rng.choice(n_docs, size=int(rng.integers(1, 40)), replace=False)
        grades = rng.integers(0, max_grade + 1, size=judged.size)
        if q % 13 == 5:
            grades[:] = 0  # a judged query without a positive grade
        qrels[qid] = {doc_ids[d]: int(g) for d, g in zip(judged, grades)}
        if q % 11 == 3:
            continue  # judged but missing from the run
        size = int(rng.integers(0 if q % 17 == 0 else 1, 60))
        retrieved = rng.choice(n_docs, size=size, replace=False)
        # bias the run towards judged documents
        retrieved[: size // 2] = rng.choice(judged, size=size // 2, replace=True)
        retrieved = list(dict.fromkeys(retrieved.tolist()))
        base = rng.choice([0.25, 0.5, 0.75, 1.0, 1.5], size=len(retrieved))
        scores = base + rng.normal(scale=0.3, size=len(retrieved)) * (rng.random(len(retrieved)) < 0.5)
        # float64 values one float64 step apart: equal after float32 rounding
        near = rng.random(len(retrieved)) < 0.2
        scores[near] = 0.5 + 1e-12 * rng.integers(1, 5, size=int(near.sum()))
        run[qid] = {doc_ids[d]: float(s) for d, s in zip(retrieved, scores)}
    run["not_judged"] = {doc_ids[0]: 1.0}
    return qrels, run


def trec_order(docs: dict[str, float]) -> list[str]:
    """trec_eval's order: float32 score descending, then doc id descending."""
    with np.errstate(over="ignore"):
        return [d for d, _ in sorted(docs.items(), key=lambda x: (np.float32(x[1]), x[0]), reverse=True)]


def truncate(run: dict[str, dict[str, float]], k: int) -> dict[str, dict[str, float]]:
    return {q: {d: docs[d] for d in trec_order(docs)[:k]} for q, docs in run.items()}


def positive_queries(qrels):
    return [q for q, docs in qrels.items() if any(g > 0 for g in docs.values())]


def pytrec_per_query(qrels, run, measures):
    return pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trec_metrics_match_pytrec_eval_per_query(seed):
    qrels, run = random_case(seed)
    names = ["ndcg", "ndcg@1", "ndcg@3", "ndcg@10", "map", "map@5", "map@20", "recall@5",
             "recall@20", "precision@5", "precision@20", "mrr"]
    result = JudgedRun.from_dicts(qrels, run).compute(names)
    reference = pytrec_per_query(
        qrels, run, {"ndcg", "ndcg_cut.1,3,10", "map", "map_cut.5,20", "recall.5,20", "P.5,20",
                     "recip_rank"}
    )
    trec_name = {"ndcg": "ndcg", "ndcg@1": "ndcg_cut_1", "ndcg@3": "ndcg_cut_3",
                 "ndcg@10": "ndcg_cut_10", "map": "map", "map@5": "map_cut_5",
                 "map@20": "map_cut_20", "recall@5": "recall_5", "recall@20": "recall_20",
                 "precision@5": "P_5", "precision@20": "P_20", "mrr": "recip_rank"}
    assert result.query_ids == positive_queries(qrels)
    for i, qid in enumerate(result.query_ids):
        for name in names:
            expected = reference[qid][trec_name[name]] if qid in reference else 0.0
            assert result.per_query[name][i] == pytest.approx(expected, abs=TOL), (qid, name)
    for name in names:
        assert result.means[name] == pytest.approx(np.mean(result.per_query[name]), abs=1e-15)
    assert result.tied_lists > 0


@pytest.mark.parametrize("k", [1, 3, 10])
def test_mrr_at_k_matches_pytrec_eval_on_a_truncated_run(k):
    qrels, run = random_case(3)
    result = JudgedRun.from_dicts(qrels, run).compute([f"mrr@{k}"])
    reference = pytrec_per_query(qrels, truncate(run, k), {"recip_rank"})
    for i, qid in enumerate(result.query_ids):
        expected = reference[qid]["recip_rank"] if qid in reference else 0.0
        assert result.per_query[f"mrr@{k}"][i] == pytest.approx(expected, abs=TOL)


def test_top_k_equals_scoring_the_truncated_run():
    qrels, run = random_case(4)
    names = ["ndcg", "map", "mrr", "recall@10", "err", "rbp@0.8"]
    cut = JudgedRun.from_dicts(qrels, run, top_k=7).compute(names)
    reference = JudgedRun.from_dicts(qrels, truncate(run, 7)).compute(names)
    for name in names:
        np.testing.assert_allclose(cut.per_query[name], reference.per_query[name], atol=1e-12)
    trec = pytrec_per_query(qrels, truncate(run, 7), {"ndcg"})
    for i, qid in enumerate(cut.query_ids):
        assert cut.per_query["ndcg"][i] == pytest.approx(trec.get(qid, {"ndcg": 0.0})["ndcg"], abs=TOL)


# ---------------------------------------------------------------- ERR and RBP (GCL benchmark)
def loop_err(grades: dict[str, int], docs: dict[str, float], k: int | None = None, g_max=None) -> float:
    """The cascade formula, written out: rank by trec order, R = (2^g - 1) / 2^g_max."""
    g_max = max(grades.values()) if g_max is None else g_max
    total, reach = 0.0, 1.0
    for rank, doc in enumerate(trec_order(docs)[:k], start=1):
        stop = (2 ** grades.get(doc, 0) - 1) / 2**g_max
        total += reach * stop / rank
        reach *= 1 - stop
    return total


def loop_rbp(grades: dict[str, int], docs: dict[str, float], p: float, binary: bool = False) -> float:
    g_max = max(grades.values())
    total = 0.0
    for rank, doc in enumerate(trec_order(docs), start=1):
        grade = grades.get(doc, 0)
        utility = float(grade >= 1) if binary else grade / g_max
        total += utility * p ** (rank - 1)
    return (1 - p) * total


def fraction_err(gains: list[int], g_max: int) -> Fraction:
    """ERR in exact rational arithmetic from the probability that the user stops at each rank."""
    stops = [Fraction(2**g - 1, 2**g_max) for g in gains]
    return sum(
        (stops[r] * math.prod((1 - s for s in stops[:r]), start=Fraction(1)) / (r + 1)
         for r in range(len(stops))),
        start=Fraction(0),
    )


def test_err_and_rbp_hand_computed():
    # ranking: d2 (0.9), then d4 and d1 tied at 0.5 -> d4 before d1 (doc id descending)
    qrels = {"q": {"d1": 2, "d2": 1, "d3": 0}}
    run = {"q": {"d1": 0.5, "d2": 0.9, "d4": 0.5}}
    result = JudgedRun.from_dicts(qrels, run).compute(["err", "err@2", "rbp@0.8", "rbp_binary@0.5"])
    # gains 1, 0, 2 with g_max 2: R = 1/4, 0, 3/4 -> ERR = 1/4 + (3/4)(3/4)/3 = 0.4375
    assert result.means["err"] == pytest.approx(0.4375, abs=1e-15)
    assert result.means["err@2"] == pytest.approx(0.25, abs=1e-15)
    # RBP = 0.2 * (1/2 + 0 + 1 * 0.8^2) = 0.228
    assert result.means["rbp@0.8"] == pytest.approx(0.228, abs=1e-15)
    # binary: 0.5 * (1 + 0 + 0.25) = 0.625
    assert result.means["rbp_binary@0.5"] == pytest.approx(0.625, abs=1e-15)
    assert result.tied_lists == 1


@pytest.mark.parametrize("seed", [5, 6])
def test_err_and_rbp_match_loop_implementations(seed):
    qrels, run = random_case(seed, max_grade=100)
    names = ["err", "err@1", "err@10", "rbp@0.7", "rbp@0.8", "rbp@0.9", "rbp_binary@0.8",
             "err_chapelle@10", "err_chapelle@1000"]
    result = JudgedRun.from_dicts(qrels, run).compute(names)
    top = max(g for docs in qrels.values() for g in docs.values())
    for i, qid in enumerate(result.query_ids):
        docs = run.get(qid, {})
        grades = qrels[qid]
        expected = {
            "err": loop_err(grades, docs), "err@1": loop_err(grades, docs, 1),
            "err@10": loop_err(grades, docs, 10), "rbp@0.7": loop_rbp(grades, docs, 0.7),
            "rbp@0.8": loop_rbp(grades, docs, 0.8), "rbp@0.9": loop_rbp(grades, docs, 0.9),
            "rbp_binary@0.8": loop_rbp(grades, docs, 0.8, binary=True),
            "err_chapelle@10": loop_err(grades, docs, 10, g_max=top),
            "err_chapelle@1000": loop_err(grades, docs, 1000, g_max=top),
        }
        for name in names:
            assert result.per_query[name][i] == pytest.approx(expected[name], abs=1e-12), (qid, name)


def test_chapelle_err_against_exact_rationals():
    rng = np.random.default_rng(7)
    gains = rng.integers(0, 5, size=(25, 12))
    gains[3] = 0
    for k in (1, 5, 12, 50):
        values = err_chapelle(gains, max_grade=4, k=k)
        for row, value in zip(gains, values):
            assert value == pytest.approx(float(fraction_err(row[:k].tolist(), 4)), abs=1e-14)
    per_query_max = gains.max(axis=1)
    per_query_max[per_query_max == 0] = 1
    for row, top, value in zip(gains, per_query_max, err(gains, per_query_max)):
        assert value == pytest.approx(float(fraction_err(row.tolist(), int(top))), abs=1e-14)


# ---------------------------------------------------------------- array functions
def test_array_functions_on_a_small_matrix():
    gains = np.array([[3, 0, 1, 0], [0, 0, 0, 2]])
    ideal = np.array([[1, 3, 2, 0], [2, 0, 0, 0]])
    expected_dcg = 3 + 1 / 2
    expected_idcg = 3 + 2 / np.log2(3) + 1 / 2
    assert ndcg(gains, ideal, 3)[0] == pytest.approx(expected_dcg / expected_idcg)
    assert ndcg(gains, ideal)[1] == pytest.approx((2 / np.log2(5)) / 2)
    num_relevant = [3, 1]
    np.testing.assert_allclose(average_precision(gains, num_relevant), [(1 + 2 / 3) / 3, 1 / 4])
    np.testing.assert_allclose(reciprocal_rank(gains, k=3), [1.0, 0.0])
    np.testing.assert_allclose(recall(gains, num_relevant, 3), [2 / 3, 0.0])
    np.testing.assert_allclose(precision(gains, 10), [0.2, 0.1])
    np.testing.assert_allclose(rbp(gains, [3, 2], 0.5), [0.5 * (1 + 0.25 / 3), 0.5 * 0.125])
    np.testing.assert_allclose(rbp_binary(gains, 0.5), [0.5 * 1.25, 0.5 * 0.125])


# ---------------------------------------------------------------- search arrays
def to_arrays(run: dict, qids: list[str], doc_ids: list[str], rng: np.random.Generator):
    """Pack a dict run into padded (indices, scores), rows shuffled and padding interleaved."""
    position = {d: i for i, d in enumerate(doc_ids)}
    depth = max(len(docs) for docs in run.values()) + 2
    indices = np.full((len(qids), depth), -1, dtype=np.int64)
    scores = np.full((len(qids), depth), -np.inf)
    for row, qid in enumerate(qids):
        items = list(run[qid].items())
        cols = rng.permutation(depth)[: len(items)]
        for col, (doc, score) in zip(cols, items):
            indices[row, col] = position[doc]
            scores[row, col] = score
    return indices, scores


@pytest.mark.parametrize("seed", [8, 9])
def test_from_arrays_equals_from_dicts(seed):
    qrels, run = random_case(seed)
    rng = np.random.default_rng(seed)
    doc_ids = sorted({d for docs in run.values() for d in docs} | {"extra1", "extra2"})
    qids = [q for q in run if q != "not_judged"] + ["not_judged"]
    indices, scores = to_arrays(run, qids, doc_ids, rng)
    names = ["ndcg@10", "ndcg", "err", "rbp@0.9", "map", "mrr@10", "recall@10", "precision@5",
             "err_chapelle@5", "rbp_binary@0.7", "hole@5", "hole@100", "accuracy@3"]
    from_arrays = JudgedRun.from_arrays(qrels, qids, doc_ids, indices, scores).compute(names)
    from_dicts = JudgedRun.from_dicts(qrels, run).compute(names)
    assert from_arrays.query_ids == from_dicts.query_ids
    for name in names:
        np.testing.assert_allclose(from_arrays.per_query[name], from_dicts.per_query[name], atol=1e-12)
    for attr in ("missing_from_run", "tied_lists", "without_positive", "ignored_run_queries"):
        assert getattr(from_arrays, attr) == getattr(from_dicts, attr), attr
    float32 = JudgedRun.from_arrays(qrels, qids, np.array(doc_ids), indices, scores.astype(np.float32))
    dict_gains = JudgedRun.from_dicts(qrels, run).gains
    depth = dict_gains.shape[1]
    np.testing.assert_array_equal(float32.gains[:, :depth], dict_gains)
    assert not float32.gains[:, depth:].any()


def test_sorted_and_shuffled_lists_rank_alike():
    qrels, run = random_case(12)
    rng = np.random.default_rng(12)
    best_first = {q: {d: docs[d] for d in trec_order(docs)} for q, docs in run.items()}
    shuffled = {q: dict(sorted(docs.items(), key=lambda _: rng.random())) for q, docs in run.items()}
    gains = JudgedRun.from_dicts(qrels, run).gains
    np.testing.assert_array_equal(JudgedRun.from_dicts(qrels, best_first).gains, gains)
    np.testing.assert_array_equal(JudgedRun.from_dicts(qrels, shuffled).gains, gains)
    doc_ids = sorted({d for docs in run.values() for d in docs})
    position = {d: i for i, d in enumerate(doc_ids)}
    qids = [q for q in qrels if q in run]
    depth = max(len(run[q]) for q in qids)
    indices = np.full((len(qids), depth), -1, dtype=np.int64)
    scores = np.full((len(qids), depth), -np.inf)
    for row, qid in enumerate(qids):  # best first, padding at the end, as a search returns
        for col, doc in enumerate(best_first[qid]):
            indices[row, col], scores[row, col] = position[doc], run[qid][doc]
    from_arrays = JudgedRun.from_arrays(qrels, qids, doc_ids, indices, scores)
    np.testing.assert_array_equal(from_arrays.gains, gains)
    assert from_arrays.tied_lists == JudgedRun.from_dicts(qrels, run).tied_lists


def test_lists_of_equal_scores_are_ranked_by_doc_id_like_pytrec_eval():
    rng = np.random.default_rng(13)
    doc_ids = [f"d{i}" for i in range(80)]
    qrels = {f"q{q}": {doc_ids[d]: int(rng.integers(0, 4)) + (q == 0) for d in rng.choice(80, 30, replace=False)}
             for q in range(6)}
    run = {q: {doc_ids[d]: 0.0 for d in rng.choice(80, 50, replace=False)} for q in qrels}
    result = JudgedRun.from_dicts(qrels, run).compute(["ndcg", "map", "mrr", "precision@10"])
    reference = pytrec_per_query(qrels, run, {"ndcg", "map", "recip_rank", "P.10"})
    for i, qid in enumerate(result.query_ids):
        for name, trec in (("ndcg", "ndcg"), ("map", "map"), ("mrr", "recip_rank"), ("precision@10", "P_10")):
            assert result.per_query[name][i] == pytest.approx(reference[qid][trec], abs=TOL), (qid, name)
    assert result.tied_lists == result.num_queries


def test_a_tie_across_the_top_k_cut_counts_as_a_tied_list():
    qrels = {"q": {"a": 1, "c": 2}}
    run = {"q": {"a": 1.0, "b": 0.5, "c": 0.5, "d": 0.1}}
    # "c" > "b": c is ranked second and kept by top_k=2, so the tie decided what was kept
    assert [JudgedRun.from_dicts(qrels, run, top_k=k).tied_lists for k in (1, 2, 3, None)] == [0, 1, 1, 1]
    assert JudgedRun.from_dicts(qrels, run, top_k=2).gains.tolist() == [[1, 2]]


def test_every_metric_family_has_a_function():
    from gcl_bench.metrics._families import METRIC_FAMILIES
    from gcl_bench.metrics.names import _FAMILIES

    assert set(METRIC_FAMILIES) == set(_FAMILIES)


def test_counts_and_evaluate():
    qrels = {"a": {"x": 1}, "b": {"y": 0}, "c": {"z": 2}}
    run = {"a": {"x": 0.1, "w": 0.1}, "d": {"x": 1.0}}
    result = JudgedRun.from_dicts(qrels, run).compute(["mrr"])
    assert result.query_ids == ["a", "c"]
    assert result.query_counts() == {"judged": 3, "scored": 1, "missing_from_run": 1, "without_positive": 1}
    assert result.ignored_run_queries == 1
    assert result.tied_lists == 1
    # tie: "x" > "w", so x is ranked first
    assert result.per_query["mrr"].tolist() == [1.0, 0.0]
    assert evaluate(qrels, run, ["mrr"]) == {"mrr": 0.5}
    assert list(result.to_frame().columns) == ["mrr"]
    assert set(evaluate(qrels, run)) == set(DEFAULT_METRICS)
    assert CURVE_CUTOFFS == (1, 5, 10, 20, 50, 100, 200, 500, 1000)


def test_integral_float_grades_are_accepted():
    qrels, run = random_case(10)
    as_floats = {q: {d: float(g) for d, g in docs.items()} for q, docs in qrels.items()}
    assert evaluate(as_floats, run, ["ndcg@10", "err"]) == evaluate(qrels, run, ["ndcg@10", "err"])


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "name",
    ["bleu", "ndcg@0", "ndcg@x", "ndcg@010", "ndcg@", "recall", "precision",
     "rbp", "rbp@1.5", "rbp@0", "rbp@1", "rbp@abc", "map@-1", "mrr@1.5", "err@@2", " ndcg", 3],
)
def test_bad_metric_names_are_refused(name):
    with pytest.raises(GclBenchError):
        parse_metric(name)


def test_good_metric_names_parse():
    assert parse_metric("ndcg@10").k == 10
    assert parse_metric("rbp@0.8").p == 0.8
    assert parse_metric("rbp_binary@.5").p == 0.5
    assert parse_metric("err").k is None
    assert parse_metric("err_chapelle@20").family == "err_chapelle"


@pytest.mark.parametrize("grade", [-1, 1.5, "2", None, float("nan"), 2**70])
def test_bad_grades_are_refused(grade):
    qrels = {"q": {"a": 1, "b": grade}}
    with pytest.raises(GclBenchError, match="'b'"):
        evaluate(qrels, {"q": {"a": 1.0}}, ["ndcg@10"])


@pytest.mark.parametrize(
    ("qrels", "run"),
    [
        ({"q": {"a": 0}}, {"q": {"a": 1.0}}),  # no positive grade anywhere
        ({"q": {"a": 1}}, {"q": {"a": float("nan")}}),
        ({"q": {"a": 1}}, {"q": {"a": "high"}}),
        ({"q": {"a": 1}}, {"q": ["a"]}),
        ({"q": {"a": 1}}, [("q", "a")]),
        ({"q": [1]}, {"q": {"a": 1.0}}),
        ({1: {"a": 1}}, {1: {"a": 1.0}}),
        ({"q": {1: 1}}, {"q": {1: 1.0}}),
    ],
)
def test_bad_inputs_are_refused(qrels, run):
    with pytest.raises(GclBenchError):
        evaluate(qrels, run, ["ndcg@10"])


def test_bad_arrays_are_refused():
    qrels = {"q": {"a": 1}}
    good = np.array([[0, 1]]), np.array([[0.5, 0.4]])
    JudgedRun.from_arrays(qrels, ["q"], ["a", "b"], *good)
    bad_cases = [
        (["q"], ["a", "b"], np.array([[0, 0]]), good[1]),  # a document twice
        (["q"], ["a", "a"], *good),  # duplicate corpus ids
        (["q"], ["a", "b"], np.array([[0, 2]]), good[1]),  # index past the corpus
        (["q", "r"], ["a", "b"], *good),  # wrong number of query ids
        (["q"], ["a", "b"], good[0], np.array([[0.5]])),  # shape mismatch
        (["q"], ["a", "b"], good[0], np.array([[np.nan, 0.1]])),
        (["q"], ["a", "b"], good[0].astype(float), good[1]),
    ]
    for query_ids, doc_ids, indices, scores in bad_cases:
        with pytest.raises(GclBenchError):
            JudgedRun.from_arrays(qrels, query_ids, doc_ids, indices, scores)
    with pytest.raises(GclBenchError):
        JudgedRun.from_dicts(qrels, {"q": {"a": 1.0}}, top_k=0)


def test_float32_rounding_signed_zero_and_overflow_tie_like_pytrec_eval():
    qrels = {"q": {"a": 1, "b": 2, "c": 3, "d": 1, "e": 2}}
    run = {"q": {"a": 0.0, "b": -0.0, "c": 1e300, "d": 2e300, "e": 0.1 + 1e-10, "f": 0.1}}
    names = ["ndcg", "map", "mrr@1", "err", "rbp@0.5"]
    result = JudgedRun.from_dicts(qrels, run).compute(names)
    trec = pytrec_per_query(qrels, run, {"ndcg", "map"})["q"]
    assert result.per_query["ndcg"][0] == pytest.approx(trec["ndcg"], abs=TOL)
    assert result.per_query["map"][0] == pytest.approx(trec["map"], abs=TOL)
    assert result.tied_lists == 1
    # trec order: d and c both overflow to inf (d > c), then f/e tie (f > e), then b/a tie (b > a)
    assert JudgedRun.from_dicts(qrels, run).gains.tolist() == [[1, 3, 0, 2, 2, 1]]
    loop = loop_err(qrels["q"], run["q"])
    assert result.per_query["err"][0] == pytest.approx(loop, abs=1e-12)


def test_empty_lists_and_padding_only_rows():
    qrels = {"a": {"x": 1}, "b": {"y": 2}}
    result = JudgedRun.from_dicts(qrels, {"a": {}, "b": {}}).compute(["ndcg", "err", "mrr", "rbp@0.8"])
    assert all(v == 0.0 for v in result.means.values())
    assert result.missing_from_run == 0
    empty = JudgedRun.from_arrays(qrels, ["a", "b"], ["x", "y"], np.zeros((2, 0), dtype=np.int64),
                                  np.zeros((2, 0)))
    assert empty.compute(["ndcg@10", "map"]).means == {"ndcg@10": 0.0, "map": 0.0}
    padded = JudgedRun.from_arrays(qrels, ["b", "a"], ["x", "y"], np.array([[-1, 1], [-1, -1]]),
                                   np.array([[np.nan, 0.3], [0.0, 0.0]]))
    result = padded.compute(["mrr", "precision@2"])
    assert result.per_query["mrr"].tolist() == [0.0, 1.0]
    assert result.per_query["precision@2"].tolist() == [0.0, 0.5]


def test_prepared_judgements_give_the_same_results():
    qrels, run = random_case(11)
    rng = np.random.default_rng(11)
    doc_ids = sorted({d for docs in run.values() for d in docs})
    qids = list(run)
    indices, scores = to_arrays(run, qids, doc_ids, rng)
    names = ["ndcg@10", "err", "map", "rbp@0.8"]
    prepared = Judgements.from_dict(qrels, doc_ids)
    expected = JudgedRun.from_arrays(qrels, qids, doc_ids, indices, scores).compute(names).means
    assert JudgedRun.from_arrays(prepared, qids, doc_ids, indices, scores).compute(names).means == expected
    assert JudgedRun.from_dicts(prepared, run).compute(names).means == evaluate(qrels, run, names)
    # another corpus object: the judged documents are located again
    reversed_ids = doc_ids[::-1]
    flipped = np.where(indices >= 0, len(doc_ids) - 1 - indices, -1)
    again = JudgedRun.from_arrays(prepared, qids, reversed_ids, flipped, scores).compute(names).means
    assert again == pytest.approx(expected, abs=1e-12)
