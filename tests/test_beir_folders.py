"""BEIR folders keep BEIR's semantics: title and text, splits named by qrels files, output folders."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import orjson
import pytest

from gcl_bench.data import load_split, split_names
from gcl_bench.encode import encode_split
from gcl_bench.errors import GclBenchError
from gcl_bench.models.bm25 import BM25Retriever
from gcl_bench.runner import RunSettings, lexical_retrieve, run_evaluation
from tests.faults.harness import run_cli

DOCS = [
    {"_id": "d1", "title": "Aspirin", "text": "a drug that lowers fever"},
    {"_id": "d2", "title": "", "text": "glaciers retreat in warm summers"},
    {"_id": "d3", "title": "Volcano", "text": ""},
    {"_id": "d4", "title": "Photosynthesis", "text": "plants turn light into sugar"},
]
QUERIES = [{"_id": "q1", "text": "glaciers summers"}, {"_id": "q2", "text": "fever drug"},
           {"_id": "q3", "text": "volcano"}]


def write_beir(folder: Path, train: bool = False) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_bytes(b"\n".join(orjson.dumps(d) for d in DOCS) + b"\n")
    (folder / "queries.jsonl").write_bytes(b"\n".join(orjson.dumps(q) for q in QUERIES) + b"\n")
    header = "query-id\tcorpus-id\tscore\n"
    (folder / "qrels" / "test.tsv").write_text(header + "q1\td2\t1\nq2\td1\t2\n")
    (folder / "qrels" / "dev.tsv").write_text(header + "q3\td3\t1\n")
    if train:
        (folder / "qrels" / "train.tsv").write_text(header + "q2\td1\t1\n")
    return folder


@pytest.fixture()
def beir(tmp_path: Path) -> Path:
    return write_beir(tmp_path / "scifact-mini")


def test_documents_keep_title_and_text_apart(beir: Path) -> None:
    split = load_split(beir)
    assert list(split.doc_titles) == ["Aspirin", "", "Volcano", "Photosynthesis"]
    assert list(split.doc_texts) == ["a drug that lowers fever", "glaciers retreat in warm summers", "", "plants turn light into sugar"]
    assert split.corpus_dicts[1] == {"id": "d2", "title": "", "text": "glaciers retreat in warm summers", "image": None}
    assert split.doc_search_texts == ["Aspirin a drug that lowers fever", "glaciers retreat in warm summers",
                                      "Volcano", "Photosynthesis plants turn light into sugar"]
    assert split.report.docs_without_fields == []  # d2 has no title but a text


def test_marqo_products_have_no_text_field(sample_dir: Path) -> None:
    split = load_split(None, "zero_shot")
    assert split.doc_texts is None
    assert split.doc_search_texts is split.doc_titles
    assert {d["text"] for d in split.corpus_dicts[:20]} == {""}


def test_split_names_the_qrels_file(beir: Path) -> None:
    dev = load_split(beir, "dev")
    assert dev.name == "dev" and dev.qrels == {"q3": {"d3": 1}} and dev.meta["eval_set"] == "dev"
    assert load_split(beir).qrels == load_split(beir, "test").qrels == {"q1": {"d2": 1}, "q2": {"d1": 2}}
    with pytest.raises(GclBenchError, match=r"no qrels/zero_shot.tsv.*found: test, dev"):
        load_split(beir, "zero_shot")


def test_split_names_for_the_command_line(beir: Path, tmp_path: Path) -> None:
    assert split_names(beir, None) == ["test"]
    assert split_names(beir, "all") == ["test", "dev"]
    assert split_names(beir, "dev,test") == ["dev", "test"]
    with_train = write_beir(tmp_path / "with-train", train=True)
    assert split_names(with_train, "all") == ["test", "dev"]  # all but train
    assert split_names(with_train, "train") == ["train"]
    assert split_names(None, "all") == ["in_domain", "novel_query", "novel_document", "zero_shot"]
    assert split_names(None, "novel_corpus") == ["novel_document"]


def test_bm25_indexes_title_and_text(beir: Path) -> None:
    split = load_split(beir)
    retrieval = lexical_retrieve(BM25Retriever(), split, top_k=4)
    best = [split.doc_ids[row] for row in retrieval.indices[:, 0]]
    assert best == ["d2", "d1"]  # both found only through words of their text
    via_beir_dicts = BM25Retriever().search({d["id"]: {"title": d["title"], "text": d["text"]} for d in split.corpus_dicts},
                                            dict(zip(split.query_ids, split.query_texts)), 4)
    assert max(via_beir_dicts["q1"], key=via_beir_dicts["q1"].get) == "d2"


class HashingFields:
    """A field adapter that encodes by hashing (a stand-in for a forward pass)."""

    name = "hash"

    def __init__(self, doc_fields: dict) -> None:
        self.query_fields = {"text": 1.0}
        self.doc_fields = doc_fields
        self.seen: dict[str, list] = {}

    def fingerprint(self) -> str:
        return "hashing-fields"

    def field_cache_key(self, side: str, field: str) -> dict:
        return {}

    def encode_field(self, side: str, field: str, values: list, batch_size: int, progress=None) -> np.ndarray:
        self.seen.setdefault(f"{side}/{field}", []).extend(values)
        rows = []
        for value in values:
            seed = int.from_bytes(hashlib.sha256(str(value).encode()).digest()[:8], "little")
            vector = np.random.default_rng(seed).standard_normal(8)
            rows.append(vector / np.linalg.norm(vector))
        return np.asarray(rows, dtype=np.float32)


def test_dense_doc_field_text(beir: Path, tmp_path: Path, sample_dir: Path) -> None:
    split = load_split(beir)
    model = HashingFields({"title": 0.5, "text": 0.5})
    encoded = encode_split(model, split, cache_root=tmp_path / "emb")
    assert model.seen["doc/text"] == ["a drug that lowers fever", "glaciers retreat in warm summers",
                                      "plants turn light into sugar"]
    assert model.seen["doc/title"] == ["Aspirin", "Volcano", "Photosynthesis"]
    assert encoded.info["documents"]["indexed"] == 4
    # Marqo-GS products have no text: the field is absent, fusion uses the title alone
    marqo = load_split(None, "zero_shot")
    with_text = encode_split(HashingFields({"title": 0.5, "text": 0.5}), marqo, cache_root=tmp_path / "emb")
    title_only = encode_split(HashingFields({"title": 1.0}), marqo, cache_root=tmp_path / "emb")
    np.testing.assert_allclose(with_text.doc_embeddings, title_only.doc_embeddings, atol=1e-6)
    assert with_text.info["documents"]["empty_texts"] == marqo.num_docs


class RecordingPlugin:
    """A BEIR dense model that records the corpus dicts it is given."""

    def __init__(self) -> None:
        self.corpus: list[dict] = []

    def encode_queries(self, queries: list, batch_size: int, **kw: object) -> np.ndarray:
        return np.ones((len(queries), 4), dtype=np.float32)

    def encode_corpus(self, corpus: list[dict], batch_size: int, **kw: object) -> np.ndarray:
        self.corpus.extend(corpus)
        return np.ones((len(corpus), 4), dtype=np.float32)


def test_plugins_get_title_and_text(beir: Path, tmp_path: Path) -> None:
    plugin = RecordingPlugin()
    encode_split(plugin, load_split(beir), cache_root=tmp_path / "emb")
    assert [(d["title"], d["text"]) for d in plugin.corpus] == [(d["title"], d["text"]) for d in DOCS]


def test_output_folder_is_named_after_the_beir_dataset(beir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(["run", "--model", "bm25", "--data-dir", beir, "--split", "all", "-q"])
    assert result.code == 0, result.stderr
    for split in ("test", "dev"):
        assert (tmp_path / "results" / "scifact-mini" / split / "bm25" / "results.json").is_file()
    api = run_evaluation(RunSettings(model="bm25", data_dir=str(beir), split="dev"))
    assert api is not None and api["output_dir"] == str(Path("results") / "scifact-mini" / "dev" / "bm25")
