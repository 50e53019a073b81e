"""`gcl-bench run` / `evaluate` end to end on the bundled sample, checked against pytrec_eval."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import pytrec_eval

from gcl_bench.cli import main
from gcl_bench.data import load_split
from gcl_bench.runner import run_dict_to_arrays


def run_cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@pytest.fixture(scope="module")
def bm25_zero_shot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bm25") / "zero_shot"
    assert run_cli(["run", "--model", "bm25", "--split", "zero_shot", "--output-dir", str(out), "--trec", "-q"]) == 0
    return out


def test_run_writes_the_three_outputs(bm25_zero_shot: Path) -> None:
    results = json.loads((bm25_zero_shot / "results.json").read_text())
    for key in ("metrics", "num_queries", "model", "dataset", "settings", "timings", "versions", "created", "curves"):
        assert key in results, key
    assert results["dataset"]["split"] == "zero_shot"
    assert results["dataset"]["eval_set"] == "test"
    assert results["model"]["name"] == "bm25"
    assert results["settings"]["top_k"] == 1000
    rows = list(csv.reader((bm25_zero_shot / "per_query.csv").open()))
    assert rows[0] == ["query_id", *results["metrics"]]
    assert len(rows) - 1 == results["num_queries"]
    # the per-query means are the reported means
    for column, name in enumerate(rows[0][1:], start=1):
        mean = np.mean([float(row[column]) for row in rows[1:]])
        assert mean == pytest.approx(results["metrics"][name], abs=1e-12)
    assert not [p for p in bm25_zero_shot.iterdir() if p.name.endswith(".tmp")]


def test_metrics_agree_with_pytrec_eval_on_the_written_run(bm25_zero_shot: Path) -> None:
    results = json.loads((bm25_zero_shot / "results.json").read_text())
    run = json.loads((bm25_zero_shot / "run.json").read_text())
    qrels = json.loads(Path(results["dataset"]["judgements"]).read_text())
    assert set(run) == set(qrels), "run.json keys are the gt file's keys"
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "map_cut.1000", "recall.100", "P.10"})
    per_query = evaluator.evaluate(run)
    expected = {
        "ndcg@10": np.mean([v["ndcg_cut_10"] for v in per_query.values()]),
        "map@1000": np.mean([v["map_cut_1000"] for v in per_query.values()]),
        "recall@100": np.mean([v["recall_100"] for v in per_query.values()]),
        "precision@10": np.mean([v["P_10"] for v in per_query.values()]),
    }
    for name, value in expected.items():
        assert results["metrics"][name] == pytest.approx(value, abs=1e-9), name


def test_evaluate_command_rescores_json_and_trec_runs(bm25_zero_shot: Path, tmp_path: Path) -> None:
    results = json.loads((bm25_zero_shot / "results.json").read_text())
    gt = results["dataset"]["judgements"]
    for run_file in ("run.json", "run.trec"):
        out = tmp_path / f"{run_file}.scores.json"
        code = run_cli(["evaluate", "--qrels", gt, "--run", str(bm25_zero_shot / run_file), "--output", str(out)])
        assert code == 0
        rescored = json.loads(out.read_text())["metrics"]
        for name, value in results["metrics"].items():
            assert rescored[name] == pytest.approx(value, abs=1e-12), (run_file, name)
    trec_lines = (bm25_zero_shot / "run.trec").read_text().splitlines()
    assert all(len(line.split()) == 6 for line in trec_lines)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--split", "no_such_split"], "no_such_split"),
        (["--model", "no-such-model"], "no-such-model"),
        (["--data-dir", "{missing}"], "missing"),
        (["--metrics", "ndcg@ten"], "ndcg@ten"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    (tmp_path / "missing").mkdir()
    base = {"--model": "bm25", "--split": "zero_shot"}
    flags = dict(zip(args[::2], args[1::2]))
    merged = {**base, **{k: v.replace("{missing}", str(tmp_path / "missing")) for k, v in flags.items()}}
    argv = ["run", *[x for pair in merged.items() for x in pair], "--output-dir", str(out), "-q"]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0]
    assert not out.exists() or not any(out.iterdir())


def test_run_dict_to_arrays_uses_trec_order_and_rejects_unknown_docs() -> None:
    doc_ids = ["a", "b", "c", "d"]
    run = {"q": {"a": 0.5, "c": 0.5, "b": 0.9, "d": 0.1}}
    retrieval = run_dict_to_arrays(run, ["q", "missing"], doc_ids, top_k=3)
    assert retrieval.indices.tolist() == [[1, 2, 0], [-1, -1, -1]]  # ties: doc id descending
    from gcl_bench.errors import GclBenchError

    with pytest.raises(GclBenchError, match="not in the corpus"):
        run_dict_to_arrays({"q": {"zz": 1.0}}, ["q"], doc_ids, top_k=3)


def test_dev_judgements_are_a_different_query_set() -> None:
    test = load_split(None, "in_domain", eval_set="test")
    dev = load_split(None, "in_domain", eval_set="dev")
    assert test.query_ids and dev.query_ids
    assert not set(test.query_ids) & set(dev.query_ids)


def test_second_dense_run_hits_the_embedding_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "cache"))
    outputs = []
    for attempt in ("first", "second"):
        out = tmp_path / attempt
        args = ["run", "--model", "open_clip:gcl-tiny", "--split", "novel_query", "--output-dir", str(out), "-q"]
        assert run_cli(args) == 0
        outputs.append(json.loads((out / "results.json").read_text()))
        outputs[-1]["run"] = json.loads((out / "run.json").read_text())
    first, second = outputs
    assert first["cache"]["embeddings"]["hit"] is False and first["cache"]["embeddings"]["items_encoded"] > 0
    assert second["cache"]["embeddings"] == {"enabled": True, "hit": True, "items_encoded": 0, "shards_repaired": 0}
    assert second["run"] == first["run"] and second["metrics"] == first["metrics"]


class OverlapSearch:
    """A BEIR-style lexical plug-in: counts shared words between query and title."""

    name = "overlap"

    def search(self, corpus: dict, queries: dict, top_k: int, *args: object, **kwargs: object) -> dict:
        assert isinstance(corpus, dict) and isinstance(queries, dict)
        run = {}
        for qid, text in queries.items():
            words = set(text.lower().split())
            scored = {
                doc_id: float(len(words & set(doc["title"].lower().split())))
                for doc_id, doc in corpus.items()
            }
            best = sorted(scored.items(), key=lambda item: -item[1])[: top_k + 5]  # more than asked
            run[qid] = {doc_id: score for doc_id, score in best if score > 0}
        return run


def test_lexical_plugin_in_beir_form(tmp_path: Path) -> None:
    from gcl_bench.metrics import evaluate
    from gcl_bench.runner import RunSettings, run_evaluation

    split = load_split(None, "zero_shot")
    settings = RunSettings(model="overlap", split="zero_shot", top_k=20, output_dir=str(tmp_path))
    results = run_evaluation(settings, model=OverlapSearch(), split=split)
    written = json.loads((tmp_path / "run.json").read_text())
    assert max(len(docs) for docs in written.values()) <= 20
    qrels = split.qrels
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"})
    expected = np.mean([v["ndcg_cut_10"] for v in evaluator.evaluate(written).values()])
    assert results["metrics"]["ndcg@10"] == pytest.approx(expected, abs=1e-9)
    assert results["metrics"] == pytest.approx(evaluate(qrels, written, list(results["metrics"])), abs=1e-12)


# ---------------------------------------------------------------- TREC both ways
def per_query_rows(path: Path) -> dict[str, dict[str, float]]:
    rows = list(csv.reader(path.open()))
    return {row[0]: {name: float(v) for name, v in zip(rows[0][1:], row[1:])} for row in rows[1:]}


TREC_MEASURES = {"ndcg@10": "ndcg_cut_10", "map@1000": "map_cut_1000", "recall@100": "recall_100",
                 "precision@10": "P_10"}


def test_trec_qrels_and_run_are_what_trec_eval_reads(bm25_zero_shot: Path) -> None:
    """qrels.trec + run.trec, parsed as trec_eval parses them, score like gcl-bench (per query)."""
    qrels_path, run_path = bm25_zero_shot / "qrels.trec", bm25_zero_shot / "run.trec"
    qid_map = json.loads((bm25_zero_shot / "run.trec.qids.json").read_text())
    assert json.loads((bm25_zero_shot / "qrels.trec.qids.json").read_text()) == qid_map
    with qrels_path.open() as handle:
        trec_qrels = pytrec_eval.parse_qrel(handle)
    with run_path.open() as handle:
        trec_run = pytrec_eval.parse_run(handle)
    results = json.loads((bm25_zero_shot / "results.json").read_text())
    gt = json.loads(Path(results["dataset"]["judgements"]).read_text())
    assert {qid_map[q]: docs for q, docs in trec_qrels.items()} == gt  # every grade, 0 included
    scores = pytrec_eval.RelevanceEvaluator(trec_qrels, {"ndcg_cut.10", "map_cut.1000", "recall.100", "P.10"}).evaluate(trec_run)
    mine = per_query_rows(bm25_zero_shot / "per_query.csv")
    assert len(scores) == results["num_queries"]
    for trec_qid, values in scores.items():
        for name, measure in TREC_MEASURES.items():
            assert mine[qid_map[trec_qid]][name] == pytest.approx(values[measure], abs=1e-9), (trec_qid, name)
    binary = shutil.which("trec_eval")
    if binary is not None:  # the reference binary too, when it is installed (4 decimals)
        out = subprocess.run([binary, "-q", "-m", "ndcg_cut.10", "-m", "P.10", str(qrels_path), str(run_path)],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            measure, trec_qid, value = line.split()
            if trec_qid != "all":
                name = {"ndcg_cut_10": "ndcg@10", "P_10": "precision@10"}[measure]
                assert mine[qid_map[trec_qid]][name] == pytest.approx(float(value), abs=5e-5)


def test_evaluate_reads_the_trec_pair_back(bm25_zero_shot: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    args = ["evaluate", "--qrels", str(bm25_zero_shot / "qrels.trec"), "--run", str(bm25_zero_shot / "run.trec"),
            "--output", str(out)]
    assert run_cli(args) == 0
    results = json.loads((bm25_zero_shot / "results.json").read_text())
    for name, value in json.loads(out.read_text())["metrics"].items():
        assert value == pytest.approx(results["metrics"][name], abs=1e-12), name


@pytest.mark.parametrize("copied", ["run.trec", "qrels.trec"])
def test_a_trec_file_copied_without_its_map_is_named(
    copied: str, bm25_zero_shot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {name: bm25_zero_shot / name for name in ("run.trec", "qrels.trec")}
    files[copied] = tmp_path / copied
    shutil.copy(bm25_zero_shot / copied, files[copied])  # without its .qids.json
    assert run_cli(["evaluate", "--qrels", str(files["qrels.trec"]), "--run", str(files["run.trec"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{tmp_path / copied}.qids.json is missing" in err[0]


def test_per_query_in_trec_eval_layout_and_metric_spellings(bm25_zero_shot: Path, tmp_path: Path) -> None:
    results = json.loads((bm25_zero_shot / "results.json").read_text())
    gt = results["dataset"]["judgements"]
    table, out = tmp_path / "per_query.txt", tmp_path / "scores.json"
    assert run_cli(["evaluate", "--qrels", gt, "--run", str(bm25_zero_shot / "run.json"),
                    "--metrics", "ndcg_cut_10,P@10,Recall@100", "--output", str(out),
                    "--per-query", str(table), "--per-query-format", "trec"]) == 0
    assert list(json.loads(out.read_text())["metrics"]) == ["ndcg@10", "precision@10", "recall@100"]
    mine = per_query_rows(bm25_zero_shot / "per_query.csv")
    lines = [line.split("\t") for line in table.read_text().splitlines()]
    assert all(len(fields) == 3 for fields in lines)
    per_query = [f for f in lines if f[1] != "all"]
    assert len(per_query) == 3 * results["num_queries"]
    for measure, qid, value in per_query:
        assert float(value) == mine[qid][measure]
    assert [(m, q) for m, q, _ in lines[-3:]] == [("ndcg@10", "all"), ("precision@10", "all"), ("recall@100", "all")]
    for measure, _, value in lines[-3:]:
        assert float(value) == pytest.approx(results["metrics"][measure], abs=1e-12)
