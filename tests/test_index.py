"""Exact and approximate search against an independent numpy brute force."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from gcl_bench.errors import GclBenchError
from gcl_bench.index import build_index, gpu, index_recall, search
from gcl_bench.index.engine import _flat_search


def brute_force(docs: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k by (score descending, row ascending), computed in float64 with numpy."""
    scores = queries.astype(np.float64) @ docs.astype(np.float64).T
    rows = np.arange(docs.shape[0])
    order = np.array([np.lexsort((rows, -row))[:k] for row in scores])
    return np.take_along_axis(scores, order, axis=1), order


def tied_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Small integer vectors: every inner product is exact in float32 and ties are everywhere."""
    rng = np.random.default_rng(seed)
    docs = rng.integers(-2, 3, size=(500, 8)).astype(np.float32)
    queries = rng.integers(-2, 3, size=(37, 8)).astype(np.float32)
    return docs, queries


def clustered(n: int, nq: int, dim: int = 32, clusters: int = 50, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    docs = centres[rng.integers(0, clusters, n)] + 0.3 * rng.standard_normal((n, dim)).astype(np.float32)
    queries = centres[rng.integers(0, clusters, nq)] + 0.3 * rng.standard_normal((nq, dim)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return docs, queries


@pytest.mark.parametrize("k", [1, 10, 120])
def test_flat_equals_brute_force_with_ties(k: int) -> None:
    docs, queries = tied_data()
    want_scores, want_rows = brute_force(docs, queries, k)
    scores, rows = search(build_index(docs, device="cpu"), queries, k)
    assert scores.dtype == np.float32 and rows.dtype == np.int64 and rows.shape == (37, k)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(scores, want_scores.astype(np.float32))


def test_flat_is_independent_of_batching_and_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    docs, queries = tied_data(1)
    want = search(build_index(docs, device="cpu"), queries, 50)
    import gcl_bench.index.engine as module

    monkeypatch.setattr(module, "_SCORE_BLOCK_BYTES", 4 * 37 * 7)  # forces many small doc blocks
    got = search(build_index(docs, device="cpu"), queries, 50, query_batch=5)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])


def test_flat_random_floats_match_float64_reference() -> None:
    docs, queries = clustered(3000, 40, dim=24)
    want_scores, want_rows = brute_force(docs, queries, 100)
    scores, rows = search(build_index(docs, device="cpu"), queries, 100)
    np.testing.assert_allclose(scores, want_scores, rtol=0, atol=1e-5)
    agree = np.mean([len(np.intersect1d(a, b)) / 100 for a, b in zip(rows, want_rows)])
    assert agree > 0.99


def _stream(docs: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    out = (np.full((len(queries), k), -np.inf, np.float32), np.full((len(queries), k), -1, np.int64))
    _flat_search(build_index(docs, device="cpu"), queries, k, *out, selector="stream")
    return out


@pytest.mark.parametrize("k", [1, 40, 600])
def test_torch_key_selector_matches_streaming_selector(k: int) -> None:
    """The torch block path (the GPU path, here on the CPU) gives the CPU stream's lists: ties
    broken by lower row, padding past the corpus, however the documents are blocked."""
    docs, queries = tied_data(2)
    want = _stream(docs, queries, k)
    for block_bytes in (1 << 30, 20 * 37 * 7):  # one block; blocks of 7 documents
        got = (np.empty((37, k), np.float32), np.empty((37, k), np.int64))
        gpu.search_shards([gpu.Shard("cpu", 0, len(docs))], docs, queries, k, *got,
                          functools.partial(gpu.shard_keys, block_bytes=block_bytes))
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[0], want[0])
    index = build_index(docs.astype(np.float16), device="cpu")
    half = (np.empty((37, k), np.float32), np.empty((37, k), np.int64))
    _flat_search(index, queries, k, *half, selector="keys")
    np.testing.assert_array_equal(half[1], want[1])  # small integers are exact in float16


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_corpus_sharded_over_devices_merges_to_the_single_search(parts: int) -> None:
    docs, queries = tied_data(3)
    docs = docs[:101]
    for k in (5, 30, 120):  # 120 > rows of every shard, and > the corpus: padded
        want_scores, want_rows = brute_force(docs, queries, min(k, 101))
        shards = gpu.make_shards(docs, ["cpu"] * parts)
        assert [(s.start, s.stop) for s in shards] == gpu.shard_bounds(101, parts)
        got = (np.empty((37, k), np.float32), np.empty((37, k), np.int64))
        gpu.search_shards(shards, docs, queries, k, *got)
        np.testing.assert_array_equal(got[1][:, :101], want_rows)
        np.testing.assert_array_equal(got[0][:, :101], want_scores.astype(np.float32))
        assert (got[1][:, 101:] == -1).all() and np.isneginf(got[0][:, 101:]).all()


def test_keys_order_as_score_then_lower_row() -> None:
    scores = np.array([[0.5, -0.0, 0.0, -1.5, np.inf, -np.inf, 0.5, 1e-30, -1e-30]], np.float32)
    rows = np.arange(scores.shape[1])
    keys = gpu.pack_keys(torch.from_numpy(scores), torch.from_numpy(rows)).numpy()
    order = np.lexsort((rows, -(scores[0] + 0.0)))  # -0.0 ties with 0.0
    np.testing.assert_array_equal(np.argsort(-keys[0], kind="stable"), order)
    back_scores, back_rows = gpu.unpack_keys(torch.from_numpy(keys))
    np.testing.assert_array_equal(back_rows.numpy(), rows[None])
    np.testing.assert_array_equal(back_scores.numpy(), scores + 0.0)
    merged = gpu.merge_keys([keys[:, :4], keys[:, 4:]], 3)
    np.testing.assert_array_equal(gpu.unpack_keys(torch.from_numpy(merged))[1].numpy(), [order[:3]])


def _reversed_ties_knn(queries: np.ndarray, docs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A k-NN that keeps the HIGHER row among equal scores (the worst order for this project)."""
    scores = queries.astype(np.float64) @ docs.astype(np.float64).T
    order = np.array([np.lexsort((-np.arange(len(docs)), -row))[:k] for row in scores])
    return np.take_along_axis(scores, order, 1).astype(np.float32), order


@pytest.mark.parametrize("knn", ["reversed", "faiss"])
def test_faiss_gpu_candidates_are_made_exact(knn: str) -> None:
    """faiss orders equal scores its own way: the candidates are re-sorted, and queries whose
    k-th score ties with a candidate left out are searched again exhaustively."""
    import faiss

    docs, queries = tied_data(4)
    search = _reversed_ties_knn if knn == "reversed" else (
        lambda q, d, k: faiss.knn(q, d, k, metric=faiss.METRIC_INNER_PRODUCT))
    redone = []
    exhaustive = gpu.shard_keys

    def counting_shard_keys(shard, host_docs, sub_queries, k):  # noqa: ANN001, ANN202
        redone.append(len(sub_queries))
        return exhaustive(shard, host_docs, sub_queries, k)

    for k in (3, 50):
        want = _stream(docs, queries, k)
        shards = gpu.make_shards(docs, ["cpu"] * 2)
        got = (np.empty((37, k), np.float32), np.empty((37, k), np.int64))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(gpu, "shard_keys", counting_shard_keys)
            gpu.search_shards(shards, docs, queries, k, *got, functools.partial(gpu.faiss_shard_keys, knn=search))
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[0], want[0])
    assert 0 < sum(redone) < 2 * 2 * 37  # tied cut-offs were redone, the others were not


def test_padding_when_k_exceeds_corpus() -> None:
    docs, queries = tied_data()
    docs = docs[:7]
    want_scores, want_rows = brute_force(docs, queries, 7)
    for kind in ("flat", "ivf", "hnsw"):
        scores, rows = search(build_index(docs, kind, device="cpu"), queries, 10)
        assert rows.shape == (37, 10)
        assert (rows[:, 7:] == -1).all() and np.isneginf(scores[:, 7:]).all()
        assert (np.sort(rows[:, :7], axis=1) == np.arange(7)).all(), kind
        if kind == "flat":
            np.testing.assert_array_equal(rows[:, :7], want_rows)


def test_no_queries_gives_empty_result() -> None:
    docs, _ = tied_data()
    scores, rows = search(build_index(docs, device="cpu"), np.zeros((0, 8), np.float32), 5)
    assert scores.shape == rows.shape == (0, 5)


def test_float16_corpus_and_memmap(tmp_path) -> None:  # noqa: ANN001
    docs, queries = clustered(2000, 30)
    half = docs.astype(np.float16)
    np.save(tmp_path / "docs.npy", half)
    mapped = np.load(tmp_path / "docs.npy", mmap_mode="r")
    index = build_index(mapped, device="cpu")
    assert index.dtype == "float16" and np.shares_memory(index.doc_embeddings, mapped)
    scores, rows = search(index, queries, 50)
    want_scores, want_rows = brute_force(half.astype(np.float32), queries, 50)
    np.testing.assert_allclose(scores, want_scores, atol=1e-5)
    assert index_recall(index, docs, queries, 50) > 0.95


@pytest.mark.parametrize(("kind", "params", "floor"), [
    ("ivf", {}, 0.95),
    ("hnsw", {}, 0.95),
    ("ivfpq", {"m": 32, "nlist": 8, "nbits": 5}, 0.6),
])
def test_approximate_indexes_reach_reasonable_recall(kind: str, params: dict, floor: float) -> None:
    docs, queries = clustered(3000, 60)
    index = build_index(docs, kind, device="cpu", **params)
    recall = index_recall(index, docs, queries, 20, sample=50)
    assert recall >= floor, (kind, recall)
    scores, rows = search(index, queries, 20)
    assert rows.dtype == np.int64 and (rows >= 0).all()
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first
    assert index.describe()["kind"] == kind


def test_flat_recall_is_one_and_sampled() -> None:
    docs, queries = clustered(500, 30)
    assert index_recall(build_index(docs, device="cpu"), docs, queries, 10, sample=7) == 1.0


@pytest.mark.parametrize(("build", "message"), [
    (lambda d, q: build_index(d[:0]), "empty corpus"),
    (lambda d, q: build_index(d, "annoy"), "unknown index kind"),
    (lambda d, q: build_index(d, "ivf", nlits=3), "unknown parameter"),
    (lambda d, q: search(build_index(d, device="cpu"), q[:, :4], 3), "dimension 4"),
    (lambda d, q: build_index(np.where(np.arange(8) == 3, np.nan, d)), "NaN"),
    (lambda d, q: search(build_index(d, device="cpu"), q, 0), "top_k"),
    (lambda d, q: build_index(d[0]), "2-D"),
])
def test_bad_input_is_one_clear_error(build, message: str) -> None:  # noqa: ANN001
    docs, queries = tied_data()
    with pytest.raises(GclBenchError, match=message):
        build(docs, queries)
