"""A plug-in that returns all-zero rows: the run goes on, and says so.

A zero document is left out of the index, like a document with no usable field: the numbers
equal those of the same run over a corpus without that document. A zero query retrieves nothing
and scores 0; the other queries score as they would without it. Both are counted in results.json
and printed. Every document zero is an error.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from faults.harness import expect_error
from faults.inputs import CORPUS, GT, SEPARATOR, results, run_split, warnings_of, write_plugin


def _per_query(out: Path) -> dict[str, dict[str, float]]:
    with open(out / "per_query.csv", newline="") as handle:
        return {row.pop("query_id"): {k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)}


@pytest.mark.parametrize("similarity", ["cos", "dot"])
def test_zero_documents_are_left_out_of_the_index(tiny_dataset: Path, tmp_path: Path, similarity: str) -> None:
    spec = write_plugin(tmp_path)
    corpus = json.loads((tiny_dataset / CORPUS).read_text())
    gt = json.loads((tiny_dataset / GT).read_text())
    judged = [doc for docs in gt.values() for doc in docs if doc in corpus][:2]
    titles = SEPARATOR.join(corpus[doc]["title"] for doc in judged)
    result = run_split(tiny_dataset, tmp_path / "out", "--model-arg", f"zero={titles}",
                       "--model-arg", f"similarity={similarity}", model=spec)
    assert result.code == 0, result.stderr
    saved = results(tmp_path / "out")
    zero = {*judged, *(doc for doc, entry in corpus.items() if not entry["title"].strip())}  # empty titles too
    documents = saved["retrieval"]["encode"]["documents"]
    assert documents["zero_vectors"] == len(zero) and set(documents["zero_vector_ids"]) == zero
    assert documents["indexed"] == len(corpus) - len(zero)
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert not any(doc in docs for docs in run.values() for doc in zero)
    line = next(w for w in warnings_of(result) if "all-zero embedding" in w)
    assert line.startswith("warning:") and f"{len(zero)} of {len(corpus)} documents" in line
    assert "left out of the index" in line

    # the same numbers as the same model over a corpus without those two documents
    for doc in judged:
        del corpus[doc]
    (tiny_dataset / CORPUS).write_text(json.dumps(corpus))
    without = run_split(tiny_dataset, tmp_path / "without", "--model-arg", f"similarity={similarity}", model=spec)
    assert without.code == 0, without.stderr
    assert results(tmp_path / "without")["metrics"] == saved["metrics"]


def test_zero_query_retrieves_nothing_and_scores_0(tiny_dataset: Path, tmp_path: Path) -> None:
    spec = write_plugin(tmp_path)
    clean = run_split(tiny_dataset, tmp_path / "clean", model=spec)
    assert clean.code == 0, clean.stderr
    query = next(iter(json.loads((tiny_dataset / GT).read_text())))
    result = run_split(tiny_dataset, tmp_path / "out", "--model-arg", f"zero={query}", model=spec)
    assert result.code == 0, result.stderr
    assert json.loads((tmp_path / "out" / "run.json").read_text())[query] == {}
    per_query, before = _per_query(tmp_path / "out"), _per_query(tmp_path / "clean")
    assert set(per_query[query].values()) == {0.0}
    assert {q: v for q, v in per_query.items() if q != query} == {q: v for q, v in before.items() if q != query}
    saved = results(tmp_path / "out")
    assert saved["retrieval"]["encode"]["queries"]["zero_vectors"] == 1
    assert saved["retrieval"]["encode"]["queries"]["zero_vector_ids"] == [query]
    assert any("1 queries have an all-zero embedding" in w and repr(query) in w for w in warnings_of(result))


def test_every_document_zero_is_an_error(tiny_dataset: Path, tmp_path: Path) -> None:
    spec = write_plugin(tmp_path)
    corpus = json.loads((tiny_dataset / CORPUS).read_text())
    titles = SEPARATOR.join(entry["title"] for entry in corpus.values())
    result = run_split(tiny_dataset, tmp_path / "out", "--model-arg", f"zero={titles}", model=spec)
    expect_error(result, "zeroing", "zero embedding")
    assert not (tmp_path / "out").exists()
