"""A cache file changed on disk is a miss: rebuilt, with a note on the console, and the numbers are
the clean run's; never a hit."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest

from faults.harness import run_cli

PLUGINS = Path(__file__).with_name("plugin_models.py")
HASH_MODEL = f"{PLUGINS}:HashEncoder"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("GCL_BENCH_CACHE", str(root))
    return root


def _run(tiny: Path, out: Path, model: str = "bm25"):
    result = run_cli(["run", "--model", model, "--split", "zero_shot", "--data-dir", tiny, "--output-dir", out])
    assert result.code == 0, result.stderr
    return result, json.loads((out / "results.json").read_text())


def _same_numbers(first: Path, second: Path) -> None:
    assert (first / "run.json").read_bytes() == (second / "run.json").read_bytes()
    assert (first / "per_query.csv").read_bytes() == (second / "per_query.csv").read_bytes()


def _notes(result) -> str:  # noqa: ANN001
    """stderr as one line (the console wraps long paths anywhere, keeping the spaces)."""
    return result.stderr.replace("\n", "")


def _one(root: Path, pattern: str) -> Path:
    found = sorted(root.rglob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_an_edited_corpus_cache_is_rebuilt(tiny_dataset: Path, tmp_path: Path, cache: Path) -> None:
    _run(tiny_dataset, tmp_path / "clean")
    docs = _one(cache / "data", "docs.arrow")
    import pyarrow as pa

    titles = pa.ipc.open_file(pa.memory_map(str(docs))).read_all().column("title").to_pylist()
    data = docs.read_bytes()
    original = titles[0].encode()
    edited = bytes(reversed(original))  # same length: the file stays a valid Arrow file
    assert data.count(original) == 1
    docs.write_bytes(data.replace(original, edited))
    assert pa.ipc.open_file(pa.memory_map(str(docs))).read_all().column("title")[0].as_py() != titles[0]
    result, record = _run(tiny_dataset, tmp_path / "again")
    assert record["cache"]["dataset"]["corpus"] == "rebuilt"
    assert record["cache"]["dataset"]["damaged"] == [str(docs)]
    assert f"the dataset cache file {docs} did not match its checksum; rebuilt" in _notes(result)
    _same_numbers(tmp_path / "clean", tmp_path / "again")
    _, third = _run(tiny_dataset, tmp_path / "third")
    assert third["cache"]["dataset"] == {"split": "hit", "corpus": "hit"}


def test_edited_judgements_in_the_split_cache_are_rebuilt(tiny_dataset: Path, tmp_path: Path, cache: Path) -> None:
    _, clean = _run(tiny_dataset, tmp_path / "clean")
    split_json = _one(cache / "data", "split.json")
    stored = orjson.loads(split_json.read_bytes())
    query = next(iter(stored["qrels"]))
    stored["qrels"][query] = {doc: grade + 50 for doc, grade in stored["qrels"][query].items()}
    split_json.write_bytes(orjson.dumps(stored))
    result, record = _run(tiny_dataset, tmp_path / "again")
    assert record["cache"]["dataset"]["split"] == "rebuilt"
    assert str(split_json) in _notes(result)
    assert record["metrics"] == clean["metrics"]
    _same_numbers(tmp_path / "clean", tmp_path / "again")


def test_a_cache_entry_without_checksums_is_not_trusted(tiny_dataset: Path, tmp_path: Path, cache: Path) -> None:
    """What an older gcl_bench left: files without checksum sidecars."""
    _run(tiny_dataset, tmp_path / "clean")
    for sidecar in (cache / "data").rglob("*.xxh3"):
        sidecar.unlink()
    _, record = _run(tiny_dataset, tmp_path / "again")
    assert record["cache"]["dataset"]["split"] == "rebuilt" and record["cache"]["dataset"]["corpus"] == "rebuilt"
    _same_numbers(tmp_path / "clean", tmp_path / "again")
    assert len(list((cache / "data").rglob("*.xxh3"))) == 3


def _doc_shard(cache: Path) -> Path:
    for manifest in (cache / "embeddings").rglob("manifest.json"):
        if json.loads(manifest.read_text())["key"]["side"] == "doc":
            return manifest.parent / "shard_000000.npy"
    raise AssertionError("no document entry")


def test_flipped_bits_in_an_embedding_shard_are_encoded_again(tiny_dataset: Path, tmp_path: Path, cache: Path) -> None:
    _, clean = _run(tiny_dataset, tmp_path / "clean", model=HASH_MODEL)
    assert clean["cache"]["embeddings"]["hit"] is False
    shard = _doc_shard(cache)
    original = np.load(shard)
    data = bytearray(shard.read_bytes())
    for position in range(len(data) - 64, len(data), 4):  # the last rows' values: huge floats
        data[position + 3] ^= 0x7F
    shard.write_bytes(bytes(data))
    assert not np.array_equal(np.load(shard), original)  # still a readable .npy, with other numbers
    result, record = _run(tiny_dataset, tmp_path / "again", model=HASH_MODEL)
    embeddings = record["cache"]["embeddings"]
    assert embeddings["hit"] is False and embeddings["shards_repaired"] == 1
    assert "1 embedding cache shards were damaged (did not match their checksums); encoded again" in _notes(result)
    _same_numbers(tmp_path / "clean", tmp_path / "again")
    np.testing.assert_array_equal(np.load(shard), original)  # written back
    _, third = _run(tiny_dataset, tmp_path / "third", model=HASH_MODEL)
    assert third["cache"]["embeddings"]["hit"] is True


@pytest.mark.parametrize("damage", ["truncated shard", "lost checksum", "damaged manifest"])
def test_other_damage_to_the_embedding_cache(tiny_dataset: Path, tmp_path: Path, cache: Path, damage: str) -> None:
    _run(tiny_dataset, tmp_path / "clean", model=HASH_MODEL)
    shard = _doc_shard(cache)
    if damage == "truncated shard":
        shard.write_bytes(shard.read_bytes()[:-100])
    elif damage == "lost checksum":
        shard.with_name(shard.name + ".xxh3").unlink()
    else:
        manifest = shard.with_name("manifest.json")
        manifest.write_bytes(manifest.read_bytes().replace(b'"complete": true', b'"complete": false'))
    result, record = _run(tiny_dataset, tmp_path / "again", model=HASH_MODEL)
    _same_numbers(tmp_path / "clean", tmp_path / "again")
    entry = next(e for e in record["retrieval"]["encode"]["cache"]["entries"].values() if e["key_hash"] == shard.parent.name)
    manifest_only = damage == "damaged manifest"  # rewritten: its shards are checked on their own
    assert entry["hit"] is manifest_only and entry["shards_repaired"] == (0 if manifest_only else 1)
    assert ("encoded again" in _notes(result)) is not manifest_only
    _, third = _run(tiny_dataset, tmp_path / "third", model=HASH_MODEL)
    assert third["cache"]["embeddings"]["hit"] is True
