"""The embedding cache on its own: keys, hashes, shards, manifests."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gcl_bench.encode.cache import (
    EmbeddingCache,
    cache_key,
    hash_image_files,
    hash_texts,
    image_stamp,
)
from gcl_bench.errors import GclBenchError


def key(**change: object) -> dict:
    base = dict(model="m1", side="doc", field="title", settings={"context_length": 77}, dtype="float32",
                count=10, items_hash=hash_texts([str(i) for i in range(10)]))
    return cache_key(**{**base, **change})


def test_text_hash_is_unambiguous_and_ordered() -> None:
    assert hash_texts(["ab", "c"]) != hash_texts(["a", "bc"])
    assert hash_texts(["a", "b"]) != hash_texts(["b", "a"])
    assert hash_texts(["a", ""]) != hash_texts(["a"])
    assert hash_texts(["é"]) == hash_texts(["é"])


def test_image_stamp_follows_size_and_mtime(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    assert image_stamp(str(image)) is None and image_stamp(str(tmp_path)) is None
    image.write_bytes(b"1234")
    first = image_stamp(str(image))
    os.utime(image, ns=(1, 1_000_000_000))
    moved = image_stamp(str(image))
    assert first != moved
    image.write_bytes(b"12345")
    os.utime(image, ns=(1, 1_000_000_000))
    assert image_stamp(str(image)) != moved
    assert hash_image_files([first]) != hash_texts([first])


@pytest.mark.parametrize("change", [
    {"model": "m2"}, {"side": "query"}, {"field": "image"}, {"settings": {"context_length": 64}},
    {"dtype": "float16"}, {"count": 11}, {"items_hash": hash_texts(["x"])},
])
def test_every_key_component_changes_the_entry(tmp_path: Path, change: dict) -> None:
    store = EmbeddingCache(tmp_path)
    assert store.entry(key(**change), 4).path != store.entry(key(), 4).path


def test_shards_roundtrip_and_resume(tmp_path: Path) -> None:
    store = EmbeddingCache(tmp_path)
    entry = store.entry(key(), shard_size=4)
    entry.create()
    assert entry.num_shards == 3 and entry.missing_shards() == [0, 1, 2]
    vectors = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    entry.write_shard(0, vectors[0:4])
    entry.write_shard(2, vectors[8:10])
    assert entry.missing_shards() == [1]
    np.save(entry.shard_path(1), vectors[4:7])  # truncated shard: treated as missing
    assert entry.missing_shards() == [1]
    entry.write_shard(1, vectors[4:8])
    np.testing.assert_array_equal(entry.load(), vectors)
    # a new handle with another shard size keeps the stored layout
    again = store.entry(key(), shard_size=7)
    again.create()
    assert again.shard_size == 4 and again.complete and again.dim == 3
    np.testing.assert_array_equal(again.load(), vectors)
    assert not list(tmp_path.rglob("*.tmp"))


def test_manifest_of_another_key_is_refused(tmp_path: Path) -> None:
    store = EmbeddingCache(tmp_path)
    entry = store.entry(key(), 4)
    entry.create()
    other = store.entry(key(model="m2"), 4)
    other.path.mkdir(parents=True)
    for name in ("manifest.json", "manifest.json.xxh3"):  # a whole entry's manifest, copied
        (other.path / name).write_bytes((entry.path / name).read_bytes())
    with pytest.raises(GclBenchError, match="differs in: model") as err:
        other.create()
    assert err.value.path == str(other.manifest_path)


def test_bad_dtype_is_refused() -> None:
    with pytest.raises(GclBenchError, match="dtype"):
        key(dtype="int8")
