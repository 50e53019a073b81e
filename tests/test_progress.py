"""Live progress: every long stage reports per batch, the console shows and removes bars, and
the stage summary that stays is built from the results."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import orjson
import pytest
from rich.console import Console

from gcl_bench.commands.summary import index_recall_line, stage_cells, stage_table
from gcl_bench.data.corpus import read_corpus_json
from gcl_bench.index import build_index, search
from gcl_bench.models.bm25 import BM25Retriever
from gcl_bench.progress import Reporter, SilentReporter, format_rate, step_callback
from gcl_bench.results.facts import facts


class Recorder(SilentReporter):
    def __init__(self) -> None:
        self.updates: list[tuple[str, int, int]] = []

    def update(self, label: str, done: int, total: int) -> None:
        self.updates.append((label, done, total))

    def of(self, label: str) -> list[int]:
        return [done for step, done, _ in self.updates if step == label]


def assert_steady(done: list[int], total: int, at_least: int) -> None:
    assert done == sorted(done) and done[-1] == total and len(done) >= at_least, done


def test_corpus_parse_reports_each_slice(tmp_path: Path) -> None:
    path = tmp_path / "corpus_1.json"
    path.write_bytes(orjson.dumps({f"{i:05d}": {"title": f"red shoe {i}", "image_local": f"{i}.png"} for i in range(3000)}))
    size = path.stat().st_size
    for workers in (1, 2):
        seen: list[tuple[int, int]] = []
        read_corpus_json(path, chunk_bytes=8_000, workers=workers, progress=lambda done, total, seen=seen: seen.append((done, total)))
        assert {total for _, total in seen} == {size}
        assert_steady([done for done, _ in seen], size, at_least=size // 8_000 // (2 * workers))


def test_bm25_reports_indexing_and_each_query_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    import gcl_bench.models.bm25 as bm25

    monkeypatch.setattr(bm25, "QUERY_BATCH", 4)
    docs = [f"red shoe {i}" for i in range(30)] + ["blue hat"]
    queries = [f"shoe {i}" for i in range(10)] + ["zzz"]  # the last matches nothing
    seen = Recorder()
    scores, indices = BM25Retriever().search_arrays(docs, queries, 5, progress=seen.update)
    assert seen.of("index") == [0, 31]
    assert_steady(seen.of("search"), 11, at_least=3)
    plain = BM25Retriever().search_arrays(docs, queries, 5)
    np.testing.assert_array_equal(indices, plain[1])  # batching changes nothing
    np.testing.assert_array_equal(scores, plain[0])


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_search_reports_per_block(kind: str) -> None:
    rng = np.random.default_rng(0)
    docs = rng.standard_normal((500, 8)).astype(np.float32)
    queries = rng.standard_normal((40, 8)).astype(np.float32)
    seen: list[int] = []
    index = build_index(docs, kind=kind)
    batch = 16 if kind == "hnsw" else None
    search(index, queries, 10, query_batch=batch, progress=lambda done, total: seen.append(done))
    assert_steady(seen, 40, at_least=3 if kind == "hnsw" else 1)


def test_sample_build_reports_its_images(tmp_path: Path) -> None:
    from gcl_bench.data.sample import write_sample

    seen = Recorder()
    write_sample(tmp_path / "s", products=100, queries=20, image_size=8, progress=seen.update)
    assert_steady(seen.of("images"), 100, at_least=4)
    assert_steady(seen.of("files"), 6, at_least=6)  # corpora, rankings, four splits


def test_reporter_draws_bars_and_removes_finished_ones() -> None:
    out = io.StringIO()
    reporter = Reporter(Console(file=out, force_terminal=True, width=100))
    update = step_callback(reporter, "encode")
    update("doc/image", 64, 200)
    assert list(reporter._tasks) == ["encode doc/image"]
    with reporter.status("score 200 queries"):
        assert len(reporter._progress.tasks) == 2
    update("doc/image", 200, 200)
    assert reporter._tasks == {} and reporter._progress.tasks == []
    reporter.log("in_domain: 200 queries")
    reporter.close()
    assert "in_domain: 200 queries" in out.getvalue()


def test_format_rate() -> None:
    assert [format_rate(x) for x in (3.14159, 152.4, 2190.0, 45_000.0, 2.5e6)] == ["3.1", "152", "2.2k", "45k", "2.5M"]


RESULTS = {
    "timings": {"load": 3.35, "encode": 7.85, "index": 0.0003, "search": 8.18, "score": 5.95, "write": 0.12},
    "cache": {"dataset": {"split": "miss", "corpus": "miss"},
              "embeddings": {"enabled": True, "hit": False, "items_encoded": 2190}},
    "retrieval": {"encode": {"cache": {"entries": {"query/text": {"hit": True}, "doc/image": {"hit": False},
                                                   "doc/title": {"hit": False}}}},
                  "index": {"kind": "ivf"}, "index_recall": {"k": 100, "recall": 0.98765}},
}


def test_stage_cells_time_rate_and_cache_hits() -> None:
    cells = stage_cells(RESULTS)
    assert cells["load"] == "3.35" and cells["encode"] == "7.85" and cells["search"] == "8.18"
    assert cells["encoded"] == "2,190 at 279/s"  # 2190 / 7.85 s
    assert cells["cache hits"] == "1/3 fields"
    cached = dict(RESULTS, cache={"dataset": {"split": "hit", "corpus": "hit"},
                                  "embeddings": {"enabled": True, "items_encoded": 0}})
    assert stage_cells(cached)["encoded"] == "0" and stage_cells(cached)["cache hits"] == "split, corpus, 1/3 fields"
    nothing = dict(RESULTS, retrieval={}, cache={"dataset": {"split": "miss", "corpus": "miss"}})
    assert stage_cells(nothing)["cache hits"] == "none"


def test_stage_table_and_index_recall_line() -> None:
    out = io.StringIO()
    Console(file=out, width=120).print(stage_table({"in_domain": RESULTS, "zero_shot": RESULTS}))
    text = out.getvalue()
    assert text.count("2,190 at 279/s") == 2 and "index" in text and "cache hits" in text
    assert index_recall_line(RESULTS) == "index ivf: recall@100 against exact search 0.9877"
    assert index_recall_line({"retrieval": {}}) is None


def test_facts_say_when_a_requested_field_is_absent() -> None:
    encode = {"doc_fields": {"title": 0.5, "text": 0.5}, "documents": {"total": 1000, "empty_texts": 1000}}
    results = {"retrieval": {"encode": encode}, "dataset": {"num_docs": 1000}}
    assert [fact.text for fact in facts(results)] == [
        "doc field text is absent for 1000 of 1000 documents; their embedding fuses the other fields"]
    assert facts({"retrieval": {"encode": dict(encode, doc_fields={"title": 1.0})}}) == []
