"""The encode stage with deterministic fake encoders that count their forward calls."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from gcl_bench.data.split import Split
from gcl_bench.encode import EncodedSplit, encode_split
from gcl_bench.errors import GclBenchError
from gcl_bench.index import build_index, search

DIM = 16


def fake_vector(*parts: object) -> np.ndarray:
    """A unit vector that depends only on ``parts`` (a stand-in for a model's forward pass)."""
    seed = int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


class FakeAdapter:
    """gcl_bench's per-field adapter protocol, encoding by hashing; records every call."""

    def __init__(self, fingerprint: str = "fake-1", query_fields: dict | None = None,
                 doc_fields: dict | None = None, fail_after: int | None = None, prefix: str = "") -> None:
        self.name = "fake"
        self.query_fields = query_fields or {"text": 1.0}
        self.doc_fields = doc_fields or {"image": 0.9, "title": 0.1}
        self._fingerprint = fingerprint
        self.fail_after = fail_after
        self.prefix = prefix
        self.calls: list[tuple[str, str, int]] = []

    def fingerprint(self) -> str:
        return self._fingerprint

    def field_cache_key(self, side: str, field: str) -> dict:
        return {"context_length": 77, "prefix": self.prefix}

    def vector(self, side: str, field: str, value: str) -> np.ndarray:
        content = Path(value).read_bytes() if field == "image" else value
        return fake_vector(self._fingerprint, side, self.prefix, content)

    def encode_field(self, side: str, field: str, values: list, batch_size: int, progress=None) -> np.ndarray:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise RuntimeError("interrupted")
        self.calls.append((side, field, len(values)))
        rows = []
        for start in range(0, len(values), batch_size):  # one "forward pass" per batch
            rows.extend(self.vector(side, field, v) for v in values[start:start + batch_size])
            if progress is not None:
                progress(len(values[start:start + batch_size]))
        return np.stack(rows)

    def items(self, side: str | None = None, field: str | None = None) -> int:
        return sum(n for s, f, n in self.calls if side in (None, s) and field in (None, f))


class DecodeFailures(FakeAdapter):
    """Returns an all-NaN row for values it cannot use (the adapter convention for a bad image)."""

    def __init__(self, broken: set, partial: bool = False, **kw: object) -> None:
        super().__init__(**kw)
        self.broken = broken
        self.partial = partial

    def vector(self, side: str, field: str, value: str) -> np.ndarray:
        vector = super().vector(side, field, value)
        if value in self.broken:
            vector = vector.copy()
            vector[: 1 if self.partial else None] = np.nan
        return vector


def make_split(tmp_path: Path, num_docs: int = 23, num_queries: int = 9) -> Split:
    images = tmp_path / "images"
    images.mkdir(parents=True, exist_ok=True)
    titles, paths = [], []
    for i in range(num_docs):
        titles.append("" if i % 5 == 1 else f"red shoe {i}")
        if i % 4 == 2:
            paths.append(None if i % 8 == 2 else str(images / f"gone_{i}.png"))  # missing image
        else:
            path = images / f"img_{i}.png"
            path.write_bytes(f"pixels {i}".encode())
            paths.append(str(path))
    # doc 6: no image (i % 4 == 2) and ... give it an empty title too -> no usable field
    titles[6] = "   "
    query_texts = [f"query {j}" for j in range(num_queries)]
    query_texts[0] = titles[0]  # same text on both sides
    return Split(
        name="tiny",
        doc_ids=[f"d{i:03d}" for i in range(num_docs)],
        doc_titles=titles,
        doc_images=paths,
        query_ids=[f"q{j}" for j in range(num_queries)],
        query_texts=query_texts,
        qrels={f"q{j}": {"d000": 1} for j in range(num_queries)},
    )


def expected_docs(adapter: FakeAdapter, split: Split) -> tuple[np.ndarray, list[int]]:
    """Independent re-statement of the fusion rule: renormalised weighted average, L2-normalised."""
    rows, kept = [], []
    for i, (title, image) in enumerate(zip(split.doc_titles, split.doc_images)):
        total, weight = np.zeros(DIM), 0.0
        if "title" in adapter.doc_fields and title.strip():
            total += adapter.doc_fields["title"] * adapter.vector("doc", "title", title)
            weight += adapter.doc_fields["title"]
        if "image" in adapter.doc_fields and image and os.path.exists(image):
            total += adapter.doc_fields["image"] * adapter.vector("doc", "image", image)
            weight += adapter.doc_fields["image"]
        if weight:
            vector = total / weight
            rows.append(vector / np.linalg.norm(vector))
            kept.append(i)
    return np.array(rows), kept


@pytest.fixture()
def cache_root(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def run(adapter: object, split: Split, cache_root: Path, **kw: object) -> EncodedSplit:
    result = encode_split(adapter, split, batch_size=4, cache_root=cache_root, shard_size=kw.pop("shard_size", 5), **kw)
    assert result is not None
    return result


def test_fields_are_fused_with_renormalised_weights(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    adapter = FakeAdapter()
    encoded = run(adapter, split, cache_root)
    want, kept = expected_docs(adapter, split)
    np.testing.assert_allclose(encoded.doc_embeddings, want, atol=1e-6)
    queries = np.stack([adapter.vector("query", "text", t) for t in split.query_texts])
    np.testing.assert_allclose(encoded.query_embeddings, queries, atol=1e-6)
    assert encoded.query_embeddings.dtype == encoded.doc_embeddings.dtype == np.float32
    # doc 6 has neither title nor image: left out and reported, never a zero vector
    assert 6 not in kept and encoded.doc_rows.tolist() == kept
    docs = encoded.info["documents"]
    assert docs["without_fields_ids"] == ["d006"] and docs["excluded"] == 1
    assert docs["total"] == 23 and docs["indexed"] == 22
    assert encoded.info["cache"]["hit"] is False and encoded.info["dim"] == DIM
    # search results map back to split rows
    scores, rows = search(build_index(encoded.doc_embeddings, device="cpu"), encoded.query_embeddings, 30)
    split_rows = encoded.to_split_rows(rows)
    assert (split_rows[:, 22:] == -1).all() and 6 not in split_rows
    best = split_rows[:, 0]
    np.testing.assert_allclose(scores[:, 0], np.max(encoded.query_embeddings @ want.T, axis=1), atol=1e-5)
    assert set(best) <= set(kept)


def test_second_run_does_no_forward_pass(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    first = run(FakeAdapter(), split, cache_root)
    again = FakeAdapter()
    second = run(again, split, cache_root)
    assert again.calls == []
    assert second.info["cache"]["hit"] is True and second.info["cache"]["items_encoded"] == 0
    assert all(entry["hit"] for entry in second.info["cache"]["entries"].values())
    np.testing.assert_array_equal(first.doc_embeddings, second.doc_embeddings)
    np.testing.assert_array_equal(first.query_embeddings, second.query_embeddings)


def test_new_field_weights_reuse_every_vector(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    run(FakeAdapter(), split, cache_root)
    reweighted = FakeAdapter(doc_fields={"image": 0.3, "title": 0.7})
    encoded = run(reweighted, split, cache_root)
    assert reweighted.calls == []
    np.testing.assert_allclose(encoded.doc_embeddings, expected_docs(reweighted, split)[0], atol=1e-6)


@pytest.mark.parametrize("change", ["fingerprint", "prefix", "dtype"])
def test_changed_model_or_settings_never_reuse_vectors(tmp_path: Path, cache_root: Path, change: str) -> None:
    split = make_split(tmp_path)
    run(FakeAdapter(), split, cache_root)
    adapter = FakeAdapter(fingerprint="fake-2" if change == "fingerprint" else "fake-1",
                          prefix="query: " if change == "prefix" else "")
    encoded = run(adapter, split, cache_root, dtype="float16" if change == "dtype" else "float32")
    assert adapter.items("doc", "title") == 18 and adapter.items("doc", "image") == 17
    assert adapter.items("query", "text") == 9
    assert encoded.info["cache"]["hit"] is False
    want = expected_docs(adapter, split)[0]
    atol = 2e-3 if change == "dtype" else 1e-6
    np.testing.assert_allclose(encoded.doc_embeddings.astype(np.float32), want, atol=atol)
    if change == "dtype":
        assert encoded.doc_embeddings.dtype == np.float16 and encoded.query_embeddings.dtype == np.float32


def test_changed_texts_or_images_are_encoded_again(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    run(FakeAdapter(), split, cache_root)
    split.doc_titles[0] = "blue shoe"
    image = Path(split.doc_images[0])
    image.write_bytes(b"new pixels, new size")
    adapter = FakeAdapter()
    encoded = run(adapter, split, cache_root)
    assert adapter.items("doc", "title") == 18 and adapter.items("doc", "image") == 17
    assert adapter.items("query") == 0
    np.testing.assert_allclose(encoded.doc_embeddings, expected_docs(adapter, split)[0], atol=1e-6)


def test_query_and_document_with_the_same_text_do_not_share(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    adapter = FakeAdapter(doc_fields={"title": 1.0})
    encoded = run(adapter, split, cache_root)
    assert split.query_texts[0] == split.doc_titles[0]
    entries = encoded.info["cache"]["entries"]
    assert entries["query/text"]["key_hash"] != entries["doc/title"]["key_hash"]
    np.testing.assert_allclose(encoded.query_embeddings[0], adapter.vector("query", "text", split.query_texts[0]))
    assert not np.allclose(encoded.query_embeddings[0], encoded.doc_embeddings[0])


def test_interrupted_encode_resumes_from_the_last_shard(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    # shards of 5: queries 9 -> 2 calls, then the image field (17 items) breaks after 2 shards
    with pytest.raises(RuntimeError, match="interrupted"):
        run(FakeAdapter(fail_after=4), split, cache_root)
    adapter = FakeAdapter()
    encoded = run(adapter, split, cache_root)
    assert adapter.items("query") == 0
    assert adapter.items("doc", "image") == 17 - 10 and adapter.items("doc", "title") == 18
    entries = encoded.info["cache"]["entries"]
    assert entries["doc/image"]["shards_cached"] == 2 and entries["doc/image"]["shards_encoded"] == 2
    np.testing.assert_allclose(encoded.doc_embeddings, expected_docs(adapter, split)[0], atol=1e-6)


def test_a_manifest_for_another_key_is_refused(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    encoded = run(FakeAdapter(), split, cache_root)
    entries = encoded.info["cache"]["entries"]
    image_dir = next(cache_root.glob(f"*/{entries['doc/image']['key_hash']}"))
    title_dir = next(cache_root.glob(f"*/{entries['doc/title']['key_hash']}"))
    for name in ("manifest.json", "manifest.json.xxh3"):  # the other entry's manifest, copied whole
        (image_dir / name).write_bytes((title_dir / name).read_bytes())
    with pytest.raises(GclBenchError, match="different key") as err:
        run(FakeAdapter(), split, cache_root)
    assert err.value.path.endswith("manifest.json")


def test_cache_disabled_writes_nothing(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    for _ in range(2):
        adapter = FakeAdapter()
        encoded = run(adapter, split, cache_root, cache=False)
        assert adapter.items("doc", "image") == 17
    assert not cache_root.exists() and encoded.info["cache"]["enabled"] is False


def test_progress_reports_every_shard(tmp_path: Path, cache_root: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    run(FakeAdapter(), make_split(tmp_path), cache_root, progress=lambda *a: seen.append(a))
    assert seen[-1] == ("doc/title", 18, 18) and ("query/text", 9, 9) in seen


@pytest.mark.parametrize(("adapter", "message"), [
    (FakeAdapter(doc_fields={"colour": 1.0}), "fake.*unknown field 'colour'"),
    (FakeAdapter(doc_fields={"title": 0.0}), "fake.*must not all be zero"),
    (FakeAdapter(doc_fields={"title": -1.0}), "fake.*weight of 'title' must be a non-negative"),
    (object(), "neither"),
])
def test_bad_field_settings(tmp_path: Path, cache_root: Path, adapter: object, message: str) -> None:
    with pytest.raises(GclBenchError, match=message):
        run(adapter, make_split(tmp_path), cache_root)


def test_no_document_with_a_field_is_an_error(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    split.doc_images = [None] * split.num_docs
    with pytest.raises(GclBenchError, match="no document has any"):
        run(FakeAdapter(doc_fields={"image": 1.0}), split, cache_root)


# --- plug-in encoders (BEIR protocol) -------------------------------------------------------


class Plugin:
    """A BEIR-style dense model: encode_queries / encode_corpus over dicts."""

    def __init__(self, similarity: str | None = "cos", fingerprint: str | None = "plug-1",
                 output: object = None) -> None:
        if similarity is not None:
            self.similarity = similarity
        if fingerprint is not None:
            self.fingerprint = lambda: fingerprint
        self.output = output
        self.calls = 0

    def _encode(self, items: list, side: str) -> object:
        self.calls += 1
        rows = np.stack([3.0 * fake_vector(side, *item) for item in items])
        return self.output(rows, side) if self.output else rows

    def encode_queries(self, queries: list, batch_size: int, **kw: object) -> object:
        return self._encode([(q["id"], q["text"]) for q in queries], "query")

    def encode_corpus(self, corpus: list[dict], batch_size: int, **kw: object) -> object:
        return self._encode([(d["id"], d["title"], d["image"]) for d in corpus], "doc")


@pytest.mark.parametrize("similarity", ["cos", "dot"])
def test_plugin_similarity(tmp_path: Path, cache_root: Path, similarity: str) -> None:
    split = make_split(tmp_path)
    encoded = run(Plugin(similarity), split, cache_root)
    norms = np.linalg.norm(encoded.doc_embeddings, axis=1)
    np.testing.assert_allclose(norms, 1.0 if similarity == "cos" else 3.0, rtol=1e-5)
    assert encoded.doc_rows is None and encoded.doc_embeddings.shape == (23, DIM)
    assert encoded.info["documents"]["without_fields_ids"] == ["d006"]
    assert encoded.info["similarity"] == similarity


def test_plugin_torch_output_and_cache(tmp_path: Path, cache_root: Path) -> None:
    import torch

    split = make_split(tmp_path)
    first = run(Plugin(output=lambda rows, side: torch.from_numpy(rows).double()), split, cache_root)
    again = Plugin()
    second = run(again, split, cache_root)
    assert again.calls == 0 and second.info["cache"]["hit"]
    np.testing.assert_allclose(first.doc_embeddings, second.doc_embeddings)


def test_plugin_without_fingerprint_is_not_cached(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    for _ in range(2):
        plugin = Plugin(fingerprint=None)
        encoded = run(plugin, split, cache_root)
        # called one batch (4) at a time: 9 queries in shards 5+4, 23 documents in 5+5+5+5+3
        assert plugin.calls == (2 + 1) + (4 * 2 + 1)
    assert encoded.info["cache"]["enabled"] is False and not cache_root.exists()


@pytest.mark.parametrize(("output", "message"), [
    (lambda rows, side: rows[:, 0], r"shape \(\d+,\)"),
    (lambda rows, side: rows[:-1], "rows for"),
    (lambda rows, side: rows.astype(np.int64), "dtype int64"),
    (lambda rows, side: np.where(np.arange(DIM) == 3, np.nan, rows), "NaN"),
    (lambda rows, side: rows[:, :8] if side == "doc" else rows, "dimensions differ"),
    (lambda rows, side: rows * 0, "zero embedding"),
])
def test_plugin_output_is_validated(tmp_path: Path, cache_root: Path, output: object, message: str) -> None:
    with pytest.raises(GclBenchError, match=message) as err:
        run(Plugin(output=output, fingerprint=None), make_split(tmp_path), cache_root)
    assert "Plugin" in str(err.value)


def test_values_the_adapter_cannot_use_count_as_missing(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    broken = {split.doc_images[0], split.doc_images[1]}  # doc 1 has an empty title as well
    adapter = DecodeFailures(broken)
    encoded = run(adapter, split, cache_root)
    assert encoded.info["unusable_per_field"] == {"query/text": 0, "doc/image": 2, "doc/title": 0}
    assert encoded.info["documents"]["without_fields_ids"] == ["d001", "d006"]
    split.doc_images[0] = split.doc_images[1] = None
    want, kept = expected_docs(adapter, split)
    np.testing.assert_allclose(encoded.doc_embeddings, want, atol=1e-6)
    assert encoded.doc_rows.tolist() == kept
    assert np.isfinite(encoded.doc_embeddings).all()


@pytest.mark.parametrize(("broken", "partial", "message"), [
    ("image", True, "NaN or infinite"),
    ("query", False, "queries could not be encoded"),
])
def test_partial_nan_rows_and_unusable_queries_are_errors(
    tmp_path: Path, cache_root: Path, broken: str, partial: bool, message: str
) -> None:
    split = make_split(tmp_path)
    value = split.doc_images[0] if broken == "image" else split.query_texts[3]
    with pytest.raises(GclBenchError, match=message):
        run(DecodeFailures({value}, partial=partial), split, cache_root)


class NoProgressAdapter(FakeAdapter):
    """A field adapter whose encode_field takes no ``progress``: the stage slices it by batch."""

    def encode_field(self, side: str, field: str, values: list, batch_size: int) -> np.ndarray:
        return super().encode_field(side, field, values, batch_size)


@pytest.mark.parametrize("model", [FakeAdapter, NoProgressAdapter, Plugin])
def test_progress_is_reported_after_every_batch_not_every_shard(tmp_path: Path, cache_root: Path, model: type) -> None:
    split = make_split(tmp_path)
    reports: list[tuple[str, int, int]] = []
    encoded = encode_split(model(), split, batch_size=2, cache_root=cache_root, shard_size=5,
                           progress=lambda label, done, total: reports.append((label, done, total)))
    assert encoded is not None
    by_label: dict[str, list[tuple[int, int]]] = {}
    for label, done, total in reports:
        by_label.setdefault(label, []).append((done, total))
    for label, seen in by_label.items():
        total = seen[0][1]
        done = [d for d, _ in seen]
        assert done == sorted(done) and done[-1] == total, (label, seen)
        assert all(t == total for _, t in seen)
        # batches of 2 inside shards of 5: every 2 items (and each shard's end) is reported
        steps = {b - a for a, b in zip([0, *done], done)} - {0}
        assert steps <= {1, 2}, (label, seen)
        assert len(set(done)) >= -(-total // 2), (label, seen)
    expected = {"query/text"} | ({"doc/corpus"} if model is Plugin else {"doc/image", "doc/title"})
    assert set(by_label) == expected


def test_cached_entries_report_no_progress(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    run(FakeAdapter(), split, cache_root)
    reports: list[tuple[str, int, int]] = []
    encode_split(FakeAdapter(), split, batch_size=2, cache_root=cache_root, shard_size=5,
                 progress=lambda *args: reports.append(args))
    assert reports == []


def test_similarity_dot_is_refused_for_field_adapters_and_overrides_plugins(tmp_path: Path, cache_root: Path) -> None:
    split = make_split(tmp_path)
    with pytest.raises(GclBenchError, match="--similarity dot applies to plug-in encoders"):
        run(FakeAdapter(), split, cache_root, similarity="dot")
    assert run(FakeAdapter(), split, cache_root, similarity="cos").info["similarity"] == "cos"
    dot = run(Plugin(similarity="cos"), split, cache_root, similarity="dot")
    assert dot.info["similarity"] == "dot"
    np.testing.assert_allclose(np.linalg.norm(dot.query_embeddings, axis=1), 3.0, rtol=1e-5)  # not normalised
