"""BM25 index cache: built once per corpus, read back memory-mapped, checked, atomic; chunked
tokenisation gives the serial results; the numba compile note."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gcl_bench.models import bm25_index
from gcl_bench.models.bm25 import BM25Retriever
from gcl_bench.models.bm25_tokens import make_stemmer, tokenize_corpus

WORDS = ["red", "blue", "cotton", "dresses", "dress", "jacket", "denim", "wool", "scarf", "summer", "boots",
         "leather", "the", "with", "pockets", "running", "runner", "shoes", "linen", "shirt", "ÉTÉ", "größe"]
QUERIES = ["red dress", "running shoes", "wool scarf with pockets", "größe", "xylophone", "the", "denim jacket"]


def corpus(count: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(0, 7)))) for _ in range(count)]


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "cache"))
    bm25_index.release_held()
    yield tmp_path / "cache" / "bm25"
    bm25_index.release_held()


def entries(root: Path) -> list[Path]:
    return sorted(path for path in root.glob("*/*") if path.is_dir()) if root.exists() else []


# -- chunked tokenisation ----------------------------------------------------------------------
def test_chunked_tokenisation_gives_each_document_the_serial_terms() -> None:
    import bm25s

    texts = corpus(500)
    serial = bm25s.tokenize(texts, stopwords="en", stemmer=make_stemmer("english"), show_progress=False)
    chunked = tokenize_corpus(texts, "en", "english", workers=2)
    assert set(chunked.vocab) == set(serial.vocab)
    terms = {value: key for key, value in serial.vocab.items()}
    chunk_terms = {value: key for key, value in chunked.vocab.items()}
    assert [[terms[i] for i in doc] for doc in serial.ids] == [[chunk_terms[i] for i in doc] for doc in chunked.ids]


def test_chunked_index_retrieves_exactly_what_the_serial_index_does() -> None:
    texts = corpus(800, seed=1)
    serial = BM25Retriever()
    serial.tokenize_workers = 1
    chunked = BM25Retriever()
    chunked.tokenize_workers = 2
    expected = serial.search_arrays(texts, QUERIES, top_k=50)
    found = chunked.search_arrays(texts, QUERIES, top_k=50)
    assert expected[0].tobytes() == found[0].tobytes()
    assert np.array_equal(expected[1], found[1])
    assert (expected[1][0] >= 0).sum() > 0, "the queries match something"


# -- the cache -----------------------------------------------------------------------------------
def test_index_is_built_once_then_loaded_then_reused(empty_cache: Path) -> None:
    texts = corpus(300)
    plain = BM25Retriever().search_arrays(texts, QUERIES, top_k=20)
    retriever = BM25Retriever()
    statuses = []
    for forget in (False, True, False):
        if forget:
            bm25_index.release_held()
        scores, indices = retriever.search_arrays(texts, QUERIES, top_k=20, cache=True)
        statuses.append(retriever.retrieval_info["bm25_index"]["status"])
        assert scores.tobytes() == plain[0].tobytes() and np.array_equal(indices, plain[1])
    assert statuses == ["built", "loaded", "reused"]
    (entry,) = entries(empty_cache)
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["key"]["count"] == 300
    for name in [*manifest["files"], "manifest.json"]:
        assert (entry / f"{name}.xxh3").is_file(), name
    index, _ = bm25_index.read_index(entry, manifest["key"])
    assert isinstance(index.scores["data"], np.memmap), "read back memory-mapped"


def test_other_texts_or_settings_are_other_entries_and_one_index_is_held(empty_cache: Path) -> None:
    texts = corpus(200)
    BM25Retriever().search_arrays(texts, QUERIES, top_k=5, cache=True)
    BM25Retriever(k1=1.2).search_arrays(texts, QUERIES, top_k=5, cache=True)
    BM25Retriever().search_arrays(texts[:-1] + ["a changed title"], QUERIES, top_k=5, cache=True)
    assert len(entries(empty_cache)) == 3
    assert len(bm25_index._held) == 1


@pytest.mark.parametrize("victim", ["data.csc.index.npy", "vocab.index.json", "manifest.json"])
def test_a_damaged_file_is_a_miss_rebuilt_and_named(empty_cache: Path, victim: str) -> None:
    texts = corpus(300)
    retriever = BM25Retriever()
    expected = retriever.search_arrays(texts, QUERIES, top_k=20, cache=True)
    (entry,) = entries(empty_cache)
    data = bytearray((entry / victim).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (entry / victim).write_bytes(bytes(data))
    bm25_index.release_held()
    found = retriever.search_arrays(texts, QUERIES, top_k=20, cache=True)
    use = retriever.retrieval_info["bm25_index"]
    assert use["status"] == "rebuilt" and use["damaged"].endswith(victim)
    assert found[0].tobytes() == expected[0].tobytes() and np.array_equal(found[1], expected[1])
    bm25_index.release_held()
    retriever.search_arrays(texts, QUERIES, top_k=20, cache=True)
    assert retriever.retrieval_info["bm25_index"]["status"] == "loaded", "the rebuilt entry is sound"


def test_an_interrupted_write_leaves_nothing_that_is_read(empty_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bm25s

    real_save = bm25s.BM25.save

    def save_then_crash(self, save_dir, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        real_save(self, save_dir, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(bm25s.BM25, "save", save_then_crash)
    texts = corpus(100)
    with pytest.raises(KeyboardInterrupt):
        BM25Retriever().search_arrays(texts, QUERIES, top_k=5, cache=True)
    assert entries(empty_cache) == [] and not list(empty_cache.glob("*/.*"))
    monkeypatch.setattr(bm25s.BM25, "save", real_save)
    retriever = BM25Retriever()
    retriever.search_arrays(texts, QUERIES, top_k=5, cache=True)
    assert retriever.retrieval_info["bm25_index"]["status"] == "built"


def test_run_all_splits_builds_one_index_per_corpus_and_says_so(
    empty_cache: Path, tmp_path: Path, sample_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from gcl_bench.caches import cache_usage
    from gcl_bench.cli import main

    def run(*extra: str) -> dict[str, str]:
        try:
            main(["run", "--model", "bm25", "--split", "all", "--data-dir", str(sample_dir),
                  "--output-dir", str(tmp_path / "out"), *extra])
        except SystemExit as exit_:
            assert exit_.code in (0, None)
        return {split: json.loads((tmp_path / "out" / split / "results.json").read_text())["cache"]
                .get("bm25_index", {}).get("status") for split in ("in_domain", "novel_query", "novel_document", "zero_shot")}

    assert run() == {"in_domain": "built", "novel_query": "reused", "novel_document": "built", "zero_shot": "reused"}
    assert len(entries(empty_cache)) == 2
    assert "in_domain: BM25 index built and cached" in capsys.readouterr().err
    bm25_index.release_held()
    assert run() == {"in_domain": "loaded", "novel_query": "reused", "novel_document": "loaded", "zero_shot": "reused"}
    assert "in_domain: BM25 index loaded from the cache" in capsys.readouterr().err
    assert {row.kind: row.files for row in cache_usage()}["bm25"] > 0
    bm25_index.release_held()
    assert set(run("--no-cache").values()) == {None}
    assert len(entries(empty_cache)) == 2


# -- the compile note ------------------------------------------------------------------------------
class FakeDispatcher:
    def __init__(self, signatures: list[str]) -> None:
        self.signatures = signatures
        self._cache = None


def test_compile_note_is_sent_once_and_only_for_a_kernel_that_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    from gcl_bench import kernels

    notes: list[str] = []
    monkeypatch.setattr(kernels, "_announced", False)
    monkeypatch.setattr(kernels, "_sink", notes.append)
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere/numba")
    assert not kernels.note_if_compiling(FakeDispatcher(["(float32[:],)"]))
    assert kernels.note_if_compiling(FakeDispatcher(["(float32[:],)"]), FakeDispatcher([]))
    assert not kernels.note_if_compiling(FakeDispatcher([]))
    assert notes == ["compiling kernels, once (cached under /somewhere/numba)"]


COMPILE_PROBE = """
import numpy as np
from gcl_bench.kernels import will_compile
from gcl_bench.metrics._kernels import descending_within_rows
before = will_compile(descending_within_rows)
descending_within_rows(np.array([1, 3, 2], dtype=np.int64), np.array([0, 3], dtype=np.int64))
print(before, will_compile(descending_within_rows))
"""


def test_a_kernel_compiles_once_into_the_gcl_bench_cache(tmp_path: Path) -> None:
    import os

    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    env["GCL_BENCH_CACHE"] = str(tmp_path)
    runs = [subprocess.run([sys.executable, "-c", COMPILE_PROBE], env=env, capture_output=True, text=True, check=True)
            for _ in range(2)]
    assert [run.stdout.split() for run in runs] == [["True", "False"], ["False", "False"]]
    assert list((tmp_path / "numba").rglob("*descending_within_rows*.nbi"))
