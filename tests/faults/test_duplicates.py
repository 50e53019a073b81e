"""A key twice in one input file: never merged in silence.

The rule (gcl_bench.data.repeats): a repeat with another value is an error naming the file and
the key; one with the same value is counted once, printed and recorded in results.json, and the
numbers equal the clean file's. A corpus refuses any repeated product id.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from faults.harness import expect_error, run_cli
from faults.inputs import (
    CORPUS,
    GT,
    QUERIES,
    baseline,
    repeat_first_entry,
    results,
    run_split,
    warnings_of,
)
from gcl_bench.data.corpus import read_corpus_json
from gcl_bench.errors import GclBenchError


# -- corpus ------------------------------------------------------------------------------------
def test_adjacent_product_ids_in_one_slice_are_an_error(tiny_dataset: Path, tmp_path: Path) -> None:
    doc = repeat_first_entry(tiny_dataset / CORPUS, replace=('"title":"', '"title":"other '))
    line = expect_error(run_split(tiny_dataset, tmp_path / "out"), CORPUS, repr(doc))
    assert "more than once" in line
    assert not (tmp_path / "out").exists()


def test_identical_adjacent_product_ids_are_an_error_too(tiny_dataset: Path, tmp_path: Path) -> None:
    doc = repeat_first_entry(tiny_dataset / CORPUS)
    expect_error(run_split(tiny_dataset, tmp_path / "out"), CORPUS, repr(doc))


def test_product_ids_far_apart_are_an_error(tiny_dataset: Path) -> None:
    path = tiny_dataset / CORPUS
    entries = json.loads(path.read_text())
    first = next(iter(entries))
    path.write_text(json.dumps(entries)[:-1] + f', "{first}": {{"title": "again", "image_local": null}}}}')
    for chunk in (64, 1 << 20):  # many slices (a hash check) and one slice (the brace count)
        with pytest.raises(GclBenchError, match=repr(first)):
            read_corpus_json(path, chunk_bytes=chunk, workers=1)


@pytest.mark.parametrize("shape", ["nested objects", "braces in titles", "pretty-printed CRLF"])
def test_corpora_that_need_the_closer_look_load_unchanged(tiny_dataset: Path, tmp_path: Path, shape: str) -> None:
    """Shapes that defeat the quick brace count still load exactly, with no false alarm."""
    clean = baseline(tiny_dataset, tmp_path)
    path = tiny_dataset / CORPUS
    entries = json.loads(path.read_text())
    if shape == "nested objects":
        for entry in entries.values():
            entry["attributes"] = {"colour": {"name": entry["colour"]}, "tags": [{"a": 1}, {"b": 2}]}
        path.write_text(json.dumps(entries))
    elif shape == "braces in titles":
        entries[next(iter(entries))]["title"] += " },"  # a title that ends like an entry
        path.write_text(json.dumps(entries))
    else:
        path.write_text(json.dumps(entries, indent=2).replace("\n", "\r\n"))
    result = run_split(tiny_dataset, tmp_path / "out")
    assert result.code == 0, result.stderr
    if shape != "braces in titles":  # that one changes a title, so it may change the numbers
        assert results(tmp_path / "out")["metrics"] == clean


# -- gt files ----------------------------------------------------------------------------------
def test_query_repeated_with_the_same_judgements_is_counted_once(tiny_dataset: Path, tmp_path: Path) -> None:
    clean = baseline(tiny_dataset, tmp_path)
    query = repeat_first_entry(tiny_dataset / GT)
    result = run_split(tiny_dataset, tmp_path / "out")
    assert result.code == 0, result.stderr
    line = next(w for w in warnings_of(result) if GT in w)
    assert line.startswith("warning:") and repr(query) in line and "counted once" in line
    saved = results(tmp_path / "out")
    assert saved["metrics"] == clean
    assert saved["load_report"]["repeated_keys"] == [
        {"file": str(tiny_dataset / GT), "what": "query", "count": 1, "first": repr(query),
         "rule": "counted once (every repeat has the same value)"}
    ]


def test_query_repeated_with_other_judgements_is_an_error(tiny_dataset: Path, tmp_path: Path) -> None:
    path = tiny_dataset / GT
    gt = json.loads(path.read_text())
    query, docs = next(iter(gt.items()))
    doc = next(iter(docs))
    repeat_first_entry(path, replace=(f'"{doc}":{docs[doc]}', f'"{doc}":{docs[doc] + 1}'))
    line = expect_error(run_split(tiny_dataset, tmp_path / "out"), GT, repr(query))
    assert "first" in line and "then" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("second_grade", ["same", "other"])
def test_product_twice_in_one_query_of_a_gt_file(tiny_dataset: Path, tmp_path: Path, second_grade: str) -> None:
    path = tiny_dataset / GT
    text = path.read_text()
    gt = json.loads(text)
    query, docs = next(iter(gt.items()))
    doc, grade = next(iter(docs.items()))
    again = grade if second_grade == "same" else grade + 3
    path.write_text(text.replace(f'"{doc}":{grade}', f'"{doc}":{grade},"{doc}":{again}', 1))
    result = run_split(tiny_dataset, tmp_path / "out")
    if second_grade == "other":
        expect_error(result, GT, f"({query!r}, {doc!r})")
        return
    assert result.code == 0, result.stderr
    assert results(tmp_path / "out")["metrics"] == baseline(tiny_dataset, tmp_path)
    assert any(f"({query!r}, {doc!r})" in w for w in warnings_of(result))


def test_query_id_repeated_in_a_queries_file_with_another_text(tiny_dataset: Path, tmp_path: Path) -> None:
    path = tiny_dataset / QUERIES
    text = path.read_text()
    qid = next(iter(json.loads(text)))
    path.write_text("{" + f'"{qid}":"something else",' + text[1:])
    (tiny_dataset / GT).write_text(json.dumps({qid: {"00311872": 3}}))  # keys resolve by query_id
    expect_error(run_split(tiny_dataset, tmp_path / "out"), QUERIES, repr(qid))


# -- judgement and run files given to evaluate ---------------------------------------------------
QRELS = {"q1": {"d1": 2, "d2": 1}, "q2": {"d3": 1}}
RUN = {"q1": {"d1": 0.9, "d2": 0.5, "d4": 0.7}, "q2": {"d3": 0.1, "d1": 0.05}}


def _evaluate(qrels: Path, run: Path, out: Path) -> tuple[object, dict]:
    result = run_cli(["evaluate", "--qrels", qrels, "--run", run, "--metrics", "ndcg@10,map", "--output", out])
    return result, (json.loads(out.read_text()) if out.exists() else {})


def _clean_means(tmp_path: Path) -> dict:
    (tmp_path / "clean_qrels.json").write_text(json.dumps(QRELS))
    (tmp_path / "clean_run.json").write_text(json.dumps(RUN))
    result, summary = _evaluate(tmp_path / "clean_qrels.json", tmp_path / "clean_run.json", tmp_path / "clean.json")
    assert result.code == 0, result.stderr
    return summary["metrics"]


QRELS_TEXT = {
    "trec": ("qrels.txt", "q1 0 d1 2\nq1 0 d2 1\nq2 0 d3 1\n", "q1 0 d1 {grade}\n"),
    "beir": ("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t1\nq2\td3\t1\n", "q1\td1\t{grade}\n"),
}


@pytest.mark.parametrize("form", sorted(QRELS_TEXT))
@pytest.mark.parametrize("grade", [2, 0])
def test_pair_twice_in_text_qrels(tmp_path: Path, form: str, grade: int) -> None:
    name, body, extra = QRELS_TEXT[form]
    qrels = tmp_path / name
    qrels.write_text(body + extra.format(grade=grade))
    (tmp_path / "run.json").write_text(json.dumps(RUN))
    result, summary = _evaluate(qrels, tmp_path / "run.json", tmp_path / "summary.json")
    if grade != 2:  # another grade than the first: which one is meant?
        line = expect_error(result, name, "('q1', 'd1')")
        assert "line 4" in line or "line 5" in line
        assert not (tmp_path / "summary.json").exists()
        return
    assert result.code == 0, result.stderr
    assert summary["metrics"] == _clean_means(tmp_path)
    assert summary["load_report"]["repeated_keys"][0]["first"] == "('q1', 'd1')"
    assert "('q1', 'd1')" in result.stderr and "counted once" in result.stderr


@pytest.mark.parametrize("score", [0.9, 0.2])
def test_document_twice_in_a_trec_run(tmp_path: Path, score: float) -> None:
    lines = [f"{q} Q0 {d} {r} {s} t" for q, docs in RUN.items() for r, (d, s) in enumerate(docs.items(), start=1)]
    run = tmp_path / "run.trec"
    run.write_text("\n".join([*lines, f"q1 Q0 d1 9 {score} t"]) + "\n")
    (tmp_path / "qrels.json").write_text(json.dumps(QRELS))
    result, summary = _evaluate(tmp_path / "qrels.json", run, tmp_path / "summary.json")
    if score != 0.9:
        expect_error(result, "run.trec", "line 6", "('q1', 'd1')")
        return
    assert result.code == 0, result.stderr
    assert summary["metrics"] == _clean_means(tmp_path)
    assert summary["load_report"]["repeated_keys"][0]["count"] == 1


@pytest.mark.parametrize(("text", "named"), [
    ('{"q1": {"d1": 0.9, "d2": 0.5, "d1": 0.1}, "q2": {"d3": 0.1}}', "('q1', 'd1')"),
    ('{"q1": {"d1": 0.9}, "q2": {"d3": 0.1}, "q1": {"d2": 0.5}}', "query 'q1'"),
])
def test_json_run_keys_repeated_with_other_values(tmp_path: Path, text: str, named: str) -> None:
    (tmp_path / "qrels.json").write_text(json.dumps(QRELS))
    (tmp_path / "run.json").write_text(text)
    result, _ = _evaluate(tmp_path / "qrels.json", tmp_path / "run.json", tmp_path / "summary.json")
    expect_error(result, "run.json", named)


def test_json_run_doc_twice_with_the_same_score_equals_the_clean_run(tmp_path: Path) -> None:
    text = json.dumps(RUN).replace('"d4": 0.7', '"d4": 0.7, "d4": 0.7')
    (tmp_path / "qrels.json").write_text(json.dumps(QRELS))
    (tmp_path / "run.json").write_text(text)
    result, summary = _evaluate(tmp_path / "qrels.json", tmp_path / "run.json", tmp_path / "summary.json")
    assert result.code == 0, result.stderr
    assert summary["metrics"] == _clean_means(tmp_path)
    assert "('q1', 'd4')" in result.stderr


def test_colons_in_ids_do_not_hide_a_repeat(tmp_path: Path) -> None:
    """Ids with ``:`` defeat the quick count; the closer look still finds the repeat."""
    (tmp_path / "qrels.json").write_text('{"q:1": {"doc:1": 1, "doc:2": 2, "doc:1": 2}}')
    (tmp_path / "run.json").write_text('{"q:1": {"doc:1": 0.5}}')
    result, _ = _evaluate(tmp_path / "qrels.json", tmp_path / "run.json", tmp_path / "summary.json")
    expect_error(result, "qrels.json", "('q:1', 'doc:1')")
