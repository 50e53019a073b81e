"""Facts that change the numbers are printed at the end of a run, from what results.json records.

Judged products missing from the corpus (count, an example, the file), documents without any
usable field, missing images, empty titles, document texts a model does not read: each is a ``warning:`` line
on the console, also with ``--quiet``, and the lines are exactly those
:func:`gcl_bench.results.facts.facts` reads from the results.json the run wrote.
"""
from __future__ import annotations

import json
from pathlib import Path

from faults.harness import run_cli
from faults.inputs import CORPUS, GT, SPLIT, results, run_split, warnings_of, write_plugin
from gcl_bench.results.facts import WARNING, facts


def _printed_equals_recorded(result: object, out: Path) -> list[str]:
    printed = warnings_of(result)
    # --quiet keeps the warnings (the facts that change the numbers) and drops the notes
    recorded = [f"{fact.level}: {SPLIT}: {fact.text}" for fact in facts(results(out)) if fact.level == WARNING]
    assert printed == recorded
    return printed


def test_some_judged_products_missing_from_the_corpus_are_printed(tiny_dataset: Path, tmp_path: Path) -> None:
    corpus = json.loads((tiny_dataset / CORPUS).read_text())
    gt = json.loads((tiny_dataset / GT).read_text())
    judged = list(dict.fromkeys(doc for docs in gt.values() for doc in docs))
    gone = judged[:3]
    for doc in gone:
        del corpus[doc]
    (tiny_dataset / CORPUS).write_text(json.dumps(corpus))
    result = run_split(tiny_dataset, tmp_path / "out")
    assert result.code == 0, result.stderr
    line = next(w for w in _printed_equals_recorded(result, tmp_path / "out") if "never be retrieved" in w)
    assert line.startswith("warning:")
    assert f"3 of the {len(judged)} judged products of {GT} (e.g. {gone[0]!r}) are not in {CORPUS}" in line
    dataset = results(tmp_path / "out")["dataset"]
    assert (dataset["judged_not_in_corpus"], dataset["judged_not_in_corpus_example"]) == (3, gone[0])


def test_document_facts_are_printed_for_a_model_that_reads_them(tiny_dataset: Path, tmp_path: Path) -> None:
    corpus = json.loads((tiny_dataset / CORPUS).read_text())
    first, second = list(corpus)[:2]
    corpus[first]["title"] = "   "
    corpus[first]["image_local"] = None  # neither field: a document without any usable field
    (tiny_dataset / corpus[second]["image_local"]).unlink()  # a missing image
    (tiny_dataset / CORPUS).write_text(json.dumps(corpus))
    result = run_split(tiny_dataset, tmp_path / "out", model=write_plugin(tmp_path))
    assert result.code == 0, result.stderr
    printed = _printed_equals_recorded(result, tmp_path / "out")
    assert any("neither a usable title nor an image" in w and repr(first) in w for w in printed)
    assert any("documents have no image file" in w for w in printed)
    assert any("documents have an empty title" in w for w in printed)
    report = results(tmp_path / "out")["load_report"]
    assert report["docs_without_fields_ids"][:1] == [first] and report["missing_images"] >= 2


def test_image_facts_are_not_printed_for_a_model_that_reads_no_image(tiny_dataset: Path, tmp_path: Path) -> None:
    corpus = json.loads((tiny_dataset / CORPUS).read_text())
    (tiny_dataset / corpus[next(iter(corpus))]["image_local"]).unlink()
    result = run_split(tiny_dataset, tmp_path / "out")  # bm25: titles only
    assert result.code == 0, result.stderr
    assert not any("image" in w for w in _printed_equals_recorded(result, tmp_path / "out"))
    assert results(tmp_path / "out")["load_report"]["missing_images"] >= 1  # still recorded


def test_quiet_still_prints_the_warnings(tiny_dataset: Path, tmp_path: Path) -> None:
    quiet = run_split(tiny_dataset, tmp_path / "out")  # run_split is --quiet
    assert quiet.code == 0 and any(w.startswith("warning:") for w in warnings_of(quiet))
    loud = run_cli(["run", "--model", "bm25", "--split", SPLIT, "--data-dir", tiny_dataset,
                    "--output-dir", tmp_path / "loud"])
    assert [w for w in warnings_of(loud) if w.startswith("warning:")] == warnings_of(quiet)


def test_document_text_a_model_does_not_read_is_printed(tmp_path: Path) -> None:
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    docs = [{"_id": "1", "title": "red shoe", "text": "a long body"},
            {"_id": "2", "title": "", "text": "blue shoe"}, {"_id": "3", "title": "green hat"}]
    (folder / "corpus.jsonl").write_text("\n".join(map(json.dumps, docs)) + "\n")
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "shoe"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t2\t1\n")
    lexical = run_cli(["run", "--model", "bm25", "--data-dir", folder, "--output-dir", tmp_path / "bm25", "-q"])
    assert lexical.code == 0, lexical.stderr
    assert results(tmp_path / "bm25")["load_report"]["documents_with_text"] == 2
    assert not any("'text'" in w for w in warnings_of(lexical))  # BM25 reads title + text, as BEIR's
    titles = run_cli(["run", "--model", "open_clip:gcl-tiny", "--doc-fields", "title:1", "--data-dir", folder,
                      "--output-dir", tmp_path / "titles", "-q"])
    assert titles.code == 0, titles.stderr
    assert any("2 documents have a 'text' that this model does not read" in w for w in warnings_of(titles))


def test_evaluate_prints_missing_and_ignored_queries(tmp_path: Path) -> None:
    (tmp_path / "qrels.json").write_text(json.dumps({"q1": {"d1": 1}, "q2": {"d2": 1}}))
    (tmp_path / "run.json").write_text(json.dumps({"q1": {"d1": 1.0}, "q9": {"d2": 1.0}}))
    out = tmp_path / "summary.json"
    result = run_cli(["evaluate", "--qrels", tmp_path / "qrels.json", "--run", tmp_path / "run.json",
                      "--metrics", "ndcg@10", "--output", out])
    assert result.code == 0, result.stderr
    printed = warnings_of(result)
    assert printed == [f"{fact.level}: {fact.text}" for fact in facts(json.loads(out.read_text()))]
    assert printed[0] == "warning: 1 judged queries are missing from the run and score 0"
    assert any("1 queries of the run are not in the judgements" in line for line in printed)


def test_queries_that_retrieve_nothing_are_printed(tiny_dataset: Path, tmp_path: Path) -> None:
    queries_path = tiny_dataset / "query_1_product_id_1_queries.json"
    queries = json.loads(queries_path.read_text())
    queries["999"] = "zzzz qqqq"  # no word of any title: bm25 retrieves nothing
    queries_path.write_text(json.dumps(queries))
    gt = json.loads((tiny_dataset / GT).read_text())
    gt["zzzz qqqq"] = {next(iter(json.loads((tiny_dataset / CORPUS).read_text()))): 1}
    (tiny_dataset / GT).write_text(json.dumps(gt))
    result = run_split(tiny_dataset, tmp_path / "out")
    assert result.code == 0, result.stderr
    printed = _printed_equals_recorded(result, tmp_path / "out")
    assert "warning: zero_shot: 1 judged queries retrieved nothing (an empty list) and score 0" in printed
    assert results(tmp_path / "out")["queries"]["retrieved_nothing"] == 1
