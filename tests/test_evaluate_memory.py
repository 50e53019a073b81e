"""Run files read straight into list form (read_run_lists) and scored from it (JudgedRun.from_lists):
the same run, the same refusals and reports as read_run, the same numbers as the dict path and
pytrec_eval, and far less memory than the dicts."""
from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from gcl_bench.data.repeats import RepeatedKeys
from gcl_bench.errors import GclBenchError
from gcl_bench.metrics import JudgedRun, RunLists
from gcl_bench.results import TREC_QIDS_NAME, read_run
from gcl_bench.results import run_lists as run_lists_module
from gcl_bench.results.run_lists import read_run_lists


def as_dict(lists: RunLists) -> dict[str, dict[str, float]]:
    """The run of the list form, rebuilt as dicts in the lists' order."""
    run = {}
    for row, qid in enumerate(lists.query_ids):
        start, stop = int(lists.offsets[row]), int(lists.offsets[row + 1])
        run[qid] = dict(zip([lists.doc_ids[c] for c in lists.docs[start:stop].tolist()],
                            lists.scores[start:stop].tolist()))
    return run


def read_both(path: Path, by_rank: bool = False) -> tuple[object, object]:
    """(run, repeats) or the error line, from read_run and from read_run_lists."""
    outcomes = []
    for reader, rebuild in ((read_run, dict), (read_run_lists, as_dict)):
        repeats: list[RepeatedKeys] = []
        try:
            run = reader(path, repeats, by_rank=by_rank)
            outcomes.append((list(map(list, rebuild(run).items())), [r.to_dict() for r in repeats]))
        except GclBenchError as err:
            outcomes.append(str(err))
    return outcomes[0], outcomes[1]


TREC_LINES = "q1 Q0 d1 1 0.9 t\nq1 Q0 d2 2 0.5 t\nq2 Q0 d3 1 0.25 t\nq2 Q0 d1 2 0.25 t\n"
RUN_FILES = {
    "plain.json": '{"q1": {"d1": 0.9, "d2": 0.5}, "q2": {"d3": 0.1, "d1": 3}}',
    "spaced.json": '\n { "q1" :{ "d1":0.9 } ,\n\t"q2":{}\n}\n',
    "empty.json": " { } ",
    "escapes.json": json.dumps({'a "quoted" {query}': {'d}"{': 0.5, "doc\\x": 0.25}, "é ü": {"é": -1e-300}}),
    "colons.json": '{"q:1": {"doc:1": 0.5, "doc:2": 0.25}}',
    "same_repeat.json": '{"q1": {"d1": 0.9, "d2": 0.5, "d1": 0.9}}',
    "other_repeat.json": '{"q1": {"d1": 0.9, "d2": 0.5, "d1": 0.1}}',
    "query_repeat.json": '{"q1": {"d1": 0.9}, "q2": {"d3": 0.1}, "q1": {"d2": 0.5}}',
    "bool_score.json": '{"q1": {"d1": true}}',
    "string_score.json": '{"q1": {"d1": "0.5"}}',
    "list_value.json": '{"q1": [0.5]}',
    "deep.json": '{"q1": {"d1": {"x": 1}}}',
    "top_list.json": '[{"q1": {"d1": 1}}]',
    "truncated.json": '{"q1": {"d1": 0.5}, "q2": {"d3"',
    "trailing.json": '{"q1": {"d1": 0.5}} x',
    "two_objects.json": '{"q1": {"d1": 0.5}} {"q2": {"d1": 0.5}}',
    "nan.json": '{"q1": {"d1": NaN}}',
    "huge.json": '{"q1": {"d1": 1e400}}',
    "big_int.json": '{"q1": {"d1": 12345678901234567890}}',
    "plain.trec": TREC_LINES,
    "blank_lines.trec": "\n" + TREC_LINES.replace("\n", "\n\n"),
    "apart.trec": TREC_LINES + "q1 Q0 d4 3 0.1 t\n",
    "same_repeat.trec": TREC_LINES + "q2 Q0 d3 3 0.25 t\n",
    "other_repeat.trec": TREC_LINES + "q2 Q0 d3 3 0.5 t\n",
    "bad_score.trec": "q1 Q0 d1 1 high t\n",
    "inf_score.trec": "q1 Q0 d1 1 inf t\n",
    "five_fields.trec": "q1 Q0 d1 1 0.5\n",
    "ranks.trec": "q1 Q0 d1 3 0.5 t\nq1 Q0 d2 1 0.5 t\nq1 Q0 d3 2 0.5 t\nq1 Q0 d4 1 0.4 t\n",
    "bad_rank.trec": "q1 Q0 d1 first 0.5 t\n",
    "empty.trec": "",
}


@pytest.mark.parametrize("name", sorted(RUN_FILES))
@pytest.mark.parametrize("wrap", ["plain", "gzip+bom"])
@pytest.mark.parametrize("by_rank", [False, True])
def test_the_list_reader_reads_refuses_and_reports_as_read_run(
    tmp_path: Path, name: str, wrap: str, by_rank: bool,
) -> None:
    data = RUN_FILES[name].encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + data) if wrap != "plain" else data)
    old, new = read_both(path, by_rank)
    assert new == old


@pytest.mark.parametrize("block", [1, 2, 5, 13])
def test_json_objects_and_keys_cut_by_block_boundaries(tmp_path: Path, block: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_lists_module, "_BLOCK", block)
    path = tmp_path / "run.json"
    path.write_text(json.dumps({f"q{i} \\ \"{{": {f"d{j}": j / 7 for j in range(i)} for i in range(6)}))
    old, new = read_both(path)
    assert isinstance(new, tuple) and len(new[0]) == 6
    assert new == old


def test_a_trec_query_id_map_applies_and_a_collision_merges_as_read_run(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    path.write_text(TREC_LINES)
    (tmp_path / TREC_QIDS_NAME).write_text(json.dumps({"q1": "red shoe", "q2": "blue hat"}))
    old, new = read_both(path)
    assert new == old and [qid for qid, _ in new[0]] == ["red shoe", "blue hat"]
    (tmp_path / TREC_QIDS_NAME).write_text(json.dumps({"q1": "same", "q2": "same"}))
    assert read_both(path)[1] == read_both(path)[0]
    (tmp_path / TREC_QIDS_NAME).write_text(json.dumps({"q1": "red shoe"}))
    old, new = read_both(path)
    assert isinstance(new, str) and "query id 'q2' of run.trec is not in the map" in new and new == old


def random_case(rng: np.random.Generator) -> tuple[dict, dict]:
    n_queries, n_docs = int(rng.integers(1, 25)), 50
    qrels = {f"q{i}": {f"d{j}": int(rng.integers(0, 4)) for j in rng.choice(n_docs, rng.integers(1, 9), replace=False)}
             for i in range(n_queries)}
    qrels["q0"]["d0"] = 2  # at least one positive grade
    run = {}
    for i in rng.permutation(n_queries + 3).tolist():  # some judged queries missing, some not judged
        if rng.random() < 0.15:
            continue
        docs = rng.choice(n_docs, rng.integers(0, 40), replace=False)
        run[f"q{i}"] = {f"d{j}": float(rng.integers(0, 6)) / 5 for j in docs}  # many ties
    run.setdefault("q0", {"d0": 0.5})
    return qrels, run


METRICS = ["ndcg@10", "ndcg", "err", "err@5", "rbp@0.8", "map", "mrr@10", "recall@20", "precision@5",
           "hole@10", "accuracy@3", "err_chapelle"]


@pytest.mark.parametrize(("protocol", "float64_scores"), [("default", True), ("default", False), ("reference", True)])
@pytest.mark.parametrize("top_k", [None, 4])
def test_the_list_join_scores_as_the_dict_join(protocol: str, float64_scores: bool, top_k: int | None) -> None:
    rng = np.random.default_rng(7)
    for _ in range(25):
        qrels, run = random_case(rng)
        if not float64_scores:  # scores apart in float64, tied in float32
            run = {qid: {doc: score + 1e-12 * i for i, (doc, score) in enumerate(docs.items())}
                   for qid, docs in run.items()}
        from_dicts = JudgedRun.from_dicts(qrels, run, top_k=top_k, protocol=protocol).compute(METRICS)
        lists = RunLists.from_dict(run, float64_scores)
        from_lists = JudgedRun.from_lists(qrels, lists, top_k=top_k, protocol=protocol).compute(METRICS)
        for name in METRICS:
            assert np.array_equal(from_lists.per_query[name], from_dicts.per_query[name]), name
        assert from_lists.query_counts() == from_dicts.query_counts()
        assert from_lists.tied_lists == from_dicts.tied_lists


def test_the_list_join_agrees_with_pytrec_eval(tmp_path: Path) -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = np.random.default_rng(3)
    qrels, run = random_case(rng)
    qrels = {q: docs for q, docs in qrels.items() if max(docs.values()) > 0}
    (tmp_path / "run.json").write_text(json.dumps(run))
    ours = JudgedRun.from_lists(qrels, read_run_lists(tmp_path / "run.json")).compute(["ndcg@10", "map", "recall@20"])
    theirs = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10", "map", "recall_20"}).evaluate(run)
    for ours_name, their_name in (("ndcg@10", "ndcg_cut_10"), ("map", "map"), ("recall@20", "recall_20")):
        expected = [theirs.get(q, {}).get(their_name, 0.0) for q in ours.query_ids]
        np.testing.assert_allclose(ours.per_query[ours_name], expected, rtol=0, atol=1e-12)


def test_search_order_refuses_float32_scores() -> None:
    lists = RunLists.from_dict({"q1": {"d1": 0.5, "d2": 0.5}}, float64_scores=False)
    with pytest.raises(GclBenchError, match="search order compares scores as float64"):
        JudgedRun.from_lists({"q1": {"d2": 1}}, lists, protocol="reference").compute(["err"])


def test_a_document_listed_twice_is_refused_by_the_join() -> None:
    lists = RunLists(["q1"], ["d1", "d2"], np.array([0, 3]), np.array([0, 1, 0], dtype=np.int32),
                     np.array([0.9, 0.5, 0.1]))
    with pytest.raises(GclBenchError, match="document listed twice for query 'q1'"):
        JudgedRun.from_lists({"q1": {"d1": 1}}, lists)


def traced_peak(function, *args) -> int:  # noqa: ANN001 - any reader
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["run.json", "run.trec"])
def test_reading_into_lists_holds_a_fraction_of_the_dicts(tmp_path: Path, name: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The list form keeps ~12 bytes per entry and one id per distinct document; the dicts keep
    objects per entry. Measured as Python's traced allocations, which are deterministic."""
    monkeypatch.setattr(run_lists_module, "_BLOCK", 1 << 16)
    rng = np.random.default_rng(0)
    n_queries, depth = 200, 500
    docs = [f"B{d:09d}" for d in range(2_000)]
    run = {f"q{q}": dict(zip((docs[j] for j in rng.permutation(len(docs))[:depth]), rng.random(depth).tolist()))
           for q in range(n_queries)}
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(run))
    else:
        path.write_text("".join(f"{q} Q0 {d} {r} {s!r} t\n" for q, ranked in run.items()
                                for r, (d, s) in enumerate(ranked.items(), start=1)))
    entries = n_queries * depth
    as_lists = traced_peak(read_run_lists, path) / entries
    as_dicts = traced_peak(read_run, path) / entries
    assert as_lists < 40 < 100 < as_dicts
