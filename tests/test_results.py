"""The output set of a run (gcl_bench.results): what is written reads back the same, and every
judgement and run format reads into the same dicts, with errors that name the file and line."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gcl_bench.errors import GclBenchError
from gcl_bench.results import (
    PER_QUERY_NAME,
    RESULTS_NAME,
    RUN_NAME,
    SCHEMA_VERSION,
    TREC_QIDS_NAME,
    TREC_QRELS_NAME,
    TREC_QRELS_QIDS_NAME,
    TREC_RUN_NAME,
    missing_qid_map,
    per_query_csv,
    per_query_trec,
    read_per_query,
    read_qrels,
    read_results,
    read_run,
    run_to_dict,
    trec_qrels,
    trec_query_ids,
    trec_run,
    write_outputs,
)

QUERY_IDS = ["red shoe", "blue hat _{!@#~}_", "q3"]
DOC_IDS = ["007", "008", "9"]
SCORES = np.array([[0.9, 0.5, 0.1], [0.7, 0.0, 0.0], [0.3, 0.3, 0.0]], dtype=np.float32)
INDICES = np.array([[2, 0, 1], [1, -1, -1], [0, 1, -1]], dtype=np.int64)


def results_record(split: str = "zero-shot", **extra: object) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "metrics": {"ndcg@10": 0.5, "err": 0.25},
        "num_queries": 2,
        "model": {"name": "m"},
        "dataset": {"split": split, "eval_set": "test"},
        "settings": {"top_k": 3},
        **extra,
    }


@pytest.fixture()
def run_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    per_query = {"ndcg@10": np.array([0.25, 0.75]), "err": np.array([0.5, 0.0])}
    write_outputs(
        folder,
        results_record(),
        run_to_dict(QUERY_IDS, DOC_IDS, SCORES, INDICES),
        per_query_csv(QUERY_IDS[:2], per_query, ["ndcg@10", "err"]),
        trec_run(QUERY_IDS, DOC_IDS, SCORES, INDICES, "my model"),
    )
    return folder


def test_the_set_is_written_as_one_unit_and_reads_back(run_folder: Path) -> None:
    names = sorted(p.name for p in run_folder.iterdir())
    assert names == sorted([RESULTS_NAME, RUN_NAME, PER_QUERY_NAME, TREC_RUN_NAME, TREC_QIDS_NAME])
    record = read_results(run_folder / RESULTS_NAME)
    assert record.split == "zero_shot" and record.model_name == "m"
    assert record.metrics == {"ndcg@10": 0.5, "err": 0.25} and record.settings == {"top_k": 3}
    table = read_per_query(run_folder / PER_QUERY_NAME)
    assert table.query_ids == QUERY_IDS[:2]
    assert table.values("ndcg@10", expected_mean=0.5) == {"red shoe": 0.25, "blue hat _{!@#~}_": 0.75}
    run = json.loads((run_folder / RUN_NAME).read_text())
    def f32(value: float) -> float:  # scores are written exactly as searched (float32)
        return float(np.float32(value))

    assert run == {
        "red shoe": {"9": f32(0.9), "007": f32(0.5), "008": f32(0.1)},
        "blue hat _{!@#~}_": {"008": f32(0.7)},
        "q3": {"007": f32(0.3), "008": f32(0.3)},
    }
    # the TREC file has whitespace-free ids; its map turns them back into the judgement keys
    lines = (run_folder / TREC_RUN_NAME).read_text().splitlines()
    assert lines[0].split() == ["q0", "Q0", "9", "1", repr(float(np.float32(0.9))), "my_model"]
    assert len(lines) == 6 and all(len(line.split()) == 6 for line in lines)
    assert read_run(run_folder / TREC_RUN_NAME) == read_run(run_folder / RUN_NAME) == run


def test_results_file_checks(tmp_path: Path) -> None:
    path = tmp_path / RESULTS_NAME
    cases = [
        ([1, 2], "not a results file"),
        (results_record(schema_version=SCHEMA_VERSION + 1), f"schema_version {SCHEMA_VERSION + 1} is not supported"),
        (results_record(metrics={}), "has no 'metrics'"),
        (results_record(metrics={"err": "high"}), "non-numeric"),
        (results_record(split=""), "has no split"),
        (results_record(split="train"), "unknown split 'train'"),
    ]
    for content, message in cases:
        path.write_text(json.dumps(content))
        with pytest.raises(GclBenchError, match=message) as err:
            read_results(path)
        assert err.value.path == str(path)


def test_per_query_checks(tmp_path: Path) -> None:
    path = tmp_path / PER_QUERY_NAME
    path.write_text("query_id,err\na,0.5\nb,0.25\n")
    with pytest.raises(GclBenchError, match="mean err over its rows is 0.375000 but results.json says 0.400000"):
        read_per_query(path).values("err", expected_mean=0.4)
    with pytest.raises(GclBenchError, match="no column 'ndcg@10'"):
        read_per_query(path).values("ndcg@10")
    for text, message in [
        ("query_id,err\na,0.5\nb\n", "line 3 has 1 fields, expected 2"),
        ("query_id,err\na,0.5\na,0.5\n", "query id 'a' appears twice"),
        ("query_id,err\na,nan\n", "line 2: err is NaN"),
        ("query_id,err\na,high\n", r"line 2: err is not a number \('high'\)"),
        ("query_id,err\n", "no rows"),
    ]:
        path.write_text(text)
        with pytest.raises(GclBenchError, match=message) as err:
            read_per_query(path).values("err")
        assert err.value.path == str(path)
    path.write_text("qid,err\na,1\n")
    with pytest.raises(GclBenchError, match="must start with a 'query_id' column"):
        read_per_query(path)


QRELS = {"q1": {"007": 2, "9": 0}, "q2": {"008": 1}}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gt.json", json.dumps(QRELS)),
        ("qrels.trec", "q1 0 007 2\nq1 0 9 0\n\nq2 0 008 1\n"),
        ("msmarco.tsv", "q1\t0\t007\t2\nq1\t0\t9\t0\nq2\t0\t008\t1\n"),
        ("beir.tsv", "query-id\tcorpus-id\tscore\nq1\t007\t2\nq1\t9\t0.0\nq2\t008\t1\n"),
        ("no_header.tsv", "q1\t007\t2\nq1\t9\t0\nq2\t008\t1\n"),
        ("spaces.txt", "q1 007 2\nq1 9 0\nq2 008 1\n"),
    ],
)
def test_every_judgement_format_reads_the_same(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert read_qrels(path) == QRELS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("q1 0 007 2\nq1 0 9\n", r"line 2: expected 'qid iter docno grade', got 'q1 0 9'"),
        ("q1 0 007 -1\n", r"line 1: grade '-1' of \('q1', '007'\) is not a non-negative integer"),
        ("query-id\tcorpus-id\tscore\nq1\t007\t2\nq1\t9\thigh\n", r"line 3: grade 'high' of \('q1', '9'\) is not a number"),
        ("q1\t007\t2.5\n", r"line 1: grade '2.5' of \('q1', '007'\) is not a non-negative integer"),
        ("q1\t007\tnan\n", r"line 1: grade 'nan' of \('q1', '007'\) is not a non-negative integer"),
        ("q1\t007\t2\nq2\t008\n", "line 2: expected query-id, corpus-id, score; got 2 field"),
        ("query-id\tcorpus-id\tscore\n", "qrels file has no judgements"),
        ("", "empty qrels file"),
    ],
)
def test_malformed_judgements_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "qrels.txt"
    path.write_text(text)
    with pytest.raises(GclBenchError, match=message) as err:
        read_qrels(path)
    assert err.value.path == str(path)


def test_malformed_runs_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    path.write_text("q1 Q0 007 1 0.5 tag\nq1 Q0 9 2 high tag\n")
    with pytest.raises(GclBenchError, match="line 2: score 'high' is not a number"):
        read_run(path)
    path.write_text("q1 Q0 007 1 0.5\n")
    with pytest.raises(GclBenchError, match="line 1: expected 'qid Q0 docno rank score tag'"):
        read_run(path)
    path.write_text("q1 Q0 007 1 0.5 tag\n")
    (tmp_path / TREC_QIDS_NAME).write_text(json.dumps({"q0": "red shoe"}))
    with pytest.raises(GclBenchError, match="query id 'q1' of run.trec is not in the map") as err:
        read_run(path)
    assert err.value.path == str(tmp_path / TREC_QIDS_NAME)
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"q1": {"007": "high"}}))
    with pytest.raises(GclBenchError, match="score 'high' of document '007' for query 'q1' is not a finite number"):
        read_run(path)


def test_trec_qrels_share_the_runs_query_ids_and_keep_every_grade(tmp_path: Path) -> None:
    qrels = {"red shoe": {"9": 2, "007": 0}, "not searched": {"008": 1}}
    trec_ids = trec_query_ids([*QUERY_IDS, *qrels])
    assert trec_ids == {"red shoe": "q0", "blue hat _{!@#~}_": "q1", "q3": "q2", "not searched": "q3"}
    text = trec_qrels(qrels, trec_ids)
    assert text.splitlines() == ["q0 0 9 2", "q0 0 007 0", "q3 0 008 1"]
    folder = tmp_path / "out"
    run_text, _ = trec_run(QUERY_IDS, DOC_IDS, SCORES, INDICES, "m", trec_ids)
    write_outputs(folder, results_record(), {}, "query_id\n", (run_text, {t: k for k, t in trec_ids.items()}), text)
    assert (folder / TREC_QRELS_NAME).read_text() == text
    assert read_qrels(folder / TREC_QRELS_NAME) == qrels  # the map beside it restores the keys
    assert missing_qid_map(folder / TREC_QRELS_NAME) is None
    (folder / TREC_QRELS_QIDS_NAME).unlink()
    assert missing_qid_map(folder / TREC_QRELS_NAME) == folder / TREC_QRELS_QIDS_NAME
    assert missing_qid_map(folder / RESULTS_NAME) is None  # JSON needs no map


def test_trec_writers_refuse_what_the_format_cannot_hold() -> None:
    with pytest.raises(GclBenchError, match="white space"):
        trec_run(["q"], ["a b"], np.array([[1.0]]), np.array([[0]]), "m")
    with pytest.raises(GclBenchError, match="white space"):
        trec_qrels({"q": {"a\tb": 1}}, {"q": "q0"})
    with pytest.raises(GclBenchError, match="tab or a line break"):
        per_query_trec(["a\tb"], {"ndcg@10": np.array([0.5])}, {"ndcg@10": 0.5}, ["ndcg@10"])
