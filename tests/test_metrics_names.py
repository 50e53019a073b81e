"""Metric names in the spellings of trec_eval, ir_measures, BEIR and MTEB give, per query, the
value that tool computes under that name; spellings whose formula differs are refused with the
reason; unknown names get close matches.

Each tool ranks tied scores its own way: trec_eval (pytrec_eval) and gdeval by score then doc
id descending, BEIR and ir_measures' cwl_eval keep the run's order among equal scores, and
ir_measures' MS MARCO RR@k breaks ties by doc id ascending. The runs given to the tools that do
not use trec_eval's order therefore have ties only of equal float64 scores, listed in
trec_eval's order (or no ties at all, for RR@k), so that every tool sees the same ranking.
"""
from __future__ import annotations

import ir_measures
import numpy as np
import pytest
import pytrec_eval
from beir.retrieval import custom_metrics
from beir.retrieval.evaluation import EvaluateRetrieval

from gcl_bench.errors import GclBenchError
from gcl_bench.metrics import JudgedRun, canonical_metric_names, evaluate, parse_metric
from tests.test_metrics import random_case, trec_order

TOL = 1e-9


def ours(qrels, run, spelling: str) -> dict[str, float]:
    result = JudgedRun.from_dicts(qrels, run).compute([spelling])
    (values,) = result.per_query.values()
    return dict(zip(result.query_ids, values.tolist()))


def assert_per_query_equal(mine: dict[str, float], theirs: dict[str, float], tol: float = TOL) -> None:
    assert len(mine) > 20 and any(v > 0 for v in mine.values())
    for qid, value in mine.items():
        assert value == pytest.approx(theirs.get(qid, 0.0), abs=tol), qid


def tied_case(seed: int, max_grade: int = 4, numeric_ids: bool = False):
    """random_case with exact float64 ties only, each list written in trec_eval's order."""
    qrels, run = random_case(seed, max_grade=max_grade)
    rng = np.random.default_rng(seed + 100)
    rename = (lambda q: str(1000 + int(q[1:])) if q.startswith("q") else "999999") if numeric_ids else str
    tied = {}
    for qid, docs in run.items():
        scores = {d: float(rng.choice([0.2, 0.4, 0.6, 0.8])) for d in docs}
        tied[rename(qid)] = {d: scores[d] for d in trec_order(scores)}
    return {rename(q): docs for q, docs in qrels.items()}, tied


def strict_case(seed: int):
    """random_case with every list strictly decreasing in trec_eval's order (no ties at all)."""
    qrels, run = random_case(seed)
    return qrels, {q: {d: float(len(docs) - i) for i, d in enumerate(trec_order(docs))} for q, docs in run.items()}


def pytrec(qrels, run, measure: str, key: str) -> dict[str, float]:
    return {q: v[key] for q, v in pytrec_eval.RelevanceEvaluator(qrels, {measure}).evaluate(run).items()}


def irm(qrels, run, name: str) -> dict[str, float]:
    measure = ir_measures.parse_measure(name)
    return {m.query_id: m.value for m in ir_measures.iter_calc([measure], qrels, run)}


# --------------------------------------------------------------------------- trec_eval
TREC_EVAL = {  # spelling -> (pytrec_eval measure, result key)
    "ndcg_cut_10": ("ndcg_cut.10", "ndcg_cut_10"),
    "ndcg_cut.10": ("ndcg_cut.10", "ndcg_cut_10"),
    "ndcg": ("ndcg", "ndcg"),
    "P_10": ("P.10", "P_10"),
    "P.10": ("P.10", "P_10"),
    "recip_rank": ("recip_rank", "recip_rank"),
    "map_cut_1000": ("map_cut.1000", "map_cut_1000"),
    "map_cut.20": ("map_cut.20", "map_cut_20"),
    "map": ("map", "map"),
    "recall_100": ("recall.100", "recall_100"),
    "recall.5": ("recall.5", "recall_5"),
    "success_10": ("success.10", "success_10"),
    "success.1": ("success.1", "success_1"),
}


@pytest.mark.parametrize("spelling", list(TREC_EVAL))
def test_trec_eval_spellings_give_trec_evals_values(spelling: str) -> None:
    qrels, run = random_case(20)  # float32 near-ties included: trec_eval's own order
    measure, key = TREC_EVAL[spelling]
    assert_per_query_equal(ours(qrels, run, spelling), pytrec(qrels, run, measure, key))


# --------------------------------------------------------------------------- MTEB
MTEB = {  # spelling -> the pytrec_eval measure MTEB's RetrievalEvaluator reads it from
    "ndcg_at_10": ("ndcg_cut.10", "ndcg_cut_10"),
    "map_at_1000": ("map_cut.1000", "map_cut_1000"),
    "recall_at_100": ("recall.100", "recall_100"),
    "precision_at_10": ("P.10", "P_10"),
}


@pytest.mark.parametrize("spelling", list(MTEB))
def test_mteb_spellings_give_the_pytrec_eval_values_mteb_reports(spelling: str) -> None:
    qrels, run = random_case(21)
    measure, key = MTEB[spelling]
    assert_per_query_equal(ours(qrels, run, spelling), pytrec(qrels, run, measure, key))


def no_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    """BEIR rounds its means to 5 decimals; compare the exact values instead."""
    monkeypatch.setattr(custom_metrics, "round", lambda value, digits=None: value, raising=False)


def beir_custom(function, qrels, run, k: int) -> dict[str, float]:
    """BEIR's custom metric of each query alone (it sums over the run, divides by len(qrels))."""
    values = {}
    for qid in run:
        if qid in qrels:
            (value,) = function(qrels, {qid: run[qid]}, [k]).values()
            values[qid] = value * len(qrels)
    return values


def test_mteb_mrr_at_k_gives_the_beir_mrr_mteb_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    no_rounding(monkeypatch)
    qrels, run = tied_case(22)
    assert_per_query_equal(ours(qrels, run, "mrr_at_10"), beir_custom(custom_metrics.mrr, qrels, run, 10))


# --------------------------------------------------------------------------- BEIR
BEIR_EVALUATE = {"NDCG@10": 10, "MAP@1000": 1000, "Recall@100": 100, "P@10": 10}


@pytest.mark.parametrize("spelling", list(BEIR_EVALUATE))
def test_beir_spellings_give_beirs_values(spelling: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import beir.retrieval.evaluation as beir_evaluation

    monkeypatch.setattr(beir_evaluation, "round", lambda value, digits=None: value, raising=False)
    qrels, run = random_case(23)
    k = BEIR_EVALUATE[spelling]
    theirs = {}
    for qid, docs in run.items():
        if qid in qrels and docs:
            results = EvaluateRetrieval.evaluate(qrels, {qid: dict(docs)}, [k])
            theirs[qid] = next(group[spelling] for group in results if spelling in group)
    assert_per_query_equal(ours(qrels, run, spelling), theirs)


@pytest.mark.parametrize(("spelling", "function"), [("MRR@10", custom_metrics.mrr),
                                                    ("Hole@10", custom_metrics.hole),
                                                    ("Accuracy@5", custom_metrics.top_k_accuracy)])
def test_beir_custom_metric_spellings(spelling: str, function, monkeypatch: pytest.MonkeyPatch) -> None:
    no_rounding(monkeypatch)
    qrels, run = tied_case(24)
    k = int(spelling.split("@")[1])
    theirs = beir_custom(function, qrels, run, k)
    if spelling.startswith("Hole"):  # judged queries with no positive grade are not averaged here
        theirs = {q: v for q, v in theirs.items() if any(g > 0 for g in qrels[q].values())}
    assert_per_query_equal(ours(qrels, run, spelling), theirs)


# --------------------------------------------------------------------------- ir_measures
IR_MEASURES_TRIED = ["nDCG@10", "nDCG", "AP@1000", "AP", "RR", "R@100", "P@10", "Success@10",
                     "nDCG(dcg='log2')@5", "AP(rel=1)@20", "P(rel=1,judged_only=False)@5"]


@pytest.mark.parametrize("spelling", IR_MEASURES_TRIED)
def test_ir_measures_spellings_give_ir_measures_values(spelling: str) -> None:
    qrels, run = random_case(25)  # these are computed by pytrec_eval inside ir_measures
    assert_per_query_equal(ours(qrels, run, spelling), irm(qrels, run, spelling))


def test_ir_measures_rr_at_k_from_ms_marco() -> None:
    qrels, run = strict_case(26)  # MS MARCO's RR@k breaks ties by doc id ascending
    assert_per_query_equal(ours(qrels, run, "RR@10"), irm(qrels, run, "RR@10"))


@pytest.mark.parametrize("p", ["0.8", "0.5"])
def test_ir_measures_binary_rbp_from_cwl_eval(p: str) -> None:
    qrels, run = tied_case(27)
    spelling = f"RBP(rel=1,p={p})"
    assert parse_metric(spelling).name == f"rbp_binary@{p}"
    assert_per_query_equal(ours(qrels, run, spelling), irm(qrels, run, spelling))


def test_ir_measures_err_is_gdevals_on_grades_0_to_4() -> None:
    qrels, run = tied_case(28, max_grade=4, numeric_ids=True)  # gdeval reads numeric topics only
    theirs = irm(qrels, run, "ERR@10")
    # gdeval prints 5 decimals
    assert_per_query_equal(ours(qrels, run, "err_gdeval@10"), theirs, tol=5.1e-6)
    assert_per_query_equal(ours(qrels, run, "ERR()@10"), theirs, tol=5.1e-6)
    # with a grade 4 in the collection, gdeval's fixed scale is Chapelle's collection maximum
    assert max(g for docs in qrels.values() for g in docs.values()) == 4
    assert ours(qrels, run, "err_chapelle@10") == pytest.approx(ours(qrels, run, "err_gdeval@10"), abs=1e-15)


def test_gdeval_err_refuses_grades_above_4() -> None:
    qrels, run = random_case(29, max_grade=5)
    with pytest.raises(GclBenchError, match="grades 0..4"):
        evaluate(qrels, run, ["err_gdeval@10"])


# --------------------------------------------------------------------------- mapping, refusals
def test_spellings_map_to_canonical_names_used_in_outputs() -> None:
    qrels, run = random_case(30)
    means = evaluate(qrels, run, ["nDCG@10", "ndcg_cut_10", "NDCG@10", "ndcg_at_10", "P_10", "recip_rank"])
    assert list(means) == ["ndcg@10", "precision@10", "mrr"]
    assert canonical_metric_names("MAP@1000,Recall@100".split(",")) == ["map@1000", "recall@100"]
    assert parse_metric("NdCg_CuT_10").name == "ndcg@10"  # case-insensitive
    assert parse_metric("nDCG@10").given == "nDCG@10"


@pytest.mark.parametrize(
    ("spelling", "reason"),
    [
        ("ERR@10", "ambiguous"),  # ir_measures (gdeval) vs gcl_bench's err@10
        ("Err@20", "err_gdeval@20"),
        ("RBP(p=0.8)", "raw grade"),  # trectools: raw grades, tied scores averaged
        ("RBP", "raw grade"),
        ("RBP(rel=2,p=0.8)", "rel=2"),
        ("RBP(rel=1)@10", "cut at rank 10"),
        ("RBP@10", "cut at rank 10"),
        ("nDCG(dcg='exp-log2')@10", "not linear gain"),
        ("nDCG(judged_only=True)@10", "judged_only"),
        ("AP(rel=2)@100", "rel=2"),
        ("Judged@10", "hole@10"),
        ("R_cap@10", "min(R, k)"),
        ("ndcg_cut", "name one"),
        ("P", "name one"),
    ],
)
def test_spellings_with_another_formula_are_refused_with_the_reason(spelling: str, reason: str) -> None:
    with pytest.raises(GclBenchError, match=None) as info:
        parse_metric(spelling)
    assert reason in info.value.message


def test_ir_measures_graded_rbp_really_differs_from_ours() -> None:
    """What the refusal protects against: trectools' graded RBP weighs raw grades."""
    qrels = {"q": {"a": 3, "b": 1}}
    run = {"q": {"a": 0.9, "b": 0.8}}
    trectools_like = (1 - 0.8) * (3 * 1 + 1 * 0.8)  # raw grades
    assert evaluate(qrels, run, ["rbp@0.8"])["rbp@0.8"] == pytest.approx((1 - 0.8) * (1 + 0.8 / 3))
    assert evaluate(qrels, run, ["rbp@0.8"])["rbp@0.8"] != pytest.approx(trectools_like)


@pytest.mark.parametrize(("typo", "suggested"), [("ndgc@10", "ndcg@10"), ("recal@100", "recall@100"),
                                                ("ndcg_cut10", "ndcg@10"), ("Hole10", "hole@10")])
def test_unknown_names_get_close_matches(typo: str, suggested: str) -> None:
    with pytest.raises(GclBenchError) as info:
        parse_metric(typo)
    assert f"did you mean {suggested}" in info.value.message
