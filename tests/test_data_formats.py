"""The Hugging Face parquet export and BEIR folders load into the same Split as Marqo-GS folders."""
from __future__ import annotations

import io as bytes_io
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from gcl_bench.data import QUERY_SUFFIX, dataset_info, load_split, read_triplets
from gcl_bench.errors import GclBenchError


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = bytes_io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def hf_rows(split: str, n_queries: int = 5, per_query: int = 4) -> dict[str, list]:
    rows: dict[str, list] = {k: [] for k in ("image", "query", "product_id", "position", "title", "pair_id",
                                             "score_linear", "score_reciprocal", "no_score", "query_id")}
    for q in range(n_queries):
        for r in range(per_query):
            doc = (q + r) % 7
            rows["image"].append({"bytes": png((doc * 30, 0, 0)) if doc != 3 else None, "path": None})
            rows["query"].append(f"{split} q{q}")
            rows["product_id"].append(f"00{doc}")
            rows["position"].append(r + 1)
            rows["title"].append(f"title {doc}" if doc != 5 else "")
            rows["pair_id"].append(f"{q}-{r}")
            rows["score_linear"].append(float(per_query - r + q))
            rows["score_reciprocal"].append(1.0 / (r + 1))
            rows["no_score"].append(1)
            rows["query_id"].append(f"{q}")
    return rows


def write_hf(folder: Path) -> Path:
    (folder / "data").mkdir(parents=True)
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    for split in ("in_domain", "novel_document"):
        rows = hf_rows(split)
        half = len(rows["query"]) // 2
        for part, (lo, hi) in enumerate(((0, half), (half, len(rows["query"])))):
            cols = {k: v[lo:hi] for k, v in rows.items()}
            table = pa.table({k: pa.array(v, type=image_type) if k == "image" else pa.array(v) for k, v in cols.items()})
            pq.write_table(table, folder / "data" / f"{split}-{part:05d}-of-00002.parquet")
    return folder


def test_hf_parquet_export_loads_with_sampled_judgements(tmp_path: Path) -> None:
    folder = write_hf(tmp_path / "hf")
    loaded = load_split(folder, "in_domain", top_q=3, top_k=2)
    assert list(loaded.doc_ids) == ["000", "001", "002", "003", "004", "005", "006"][: loaded.num_docs]
    assert loaded.meta["format"] == "hf_parquet" and loaded.meta["sampled"] is True
    assert len(loaded.query_ids) == 3 and all(k.endswith(QUERY_SUFFIX) for k in loaded.query_ids)
    assert all(len(v) == 2 for v in loaded.qrels.values())
    images = list(loaded.doc_images)
    assert images[3] is None and loaded.report.missing_images == 1
    assert loaded.report.empty_titles == 1
    with Image.open(images[1]) as img:
        assert img.getpixel((0, 0)) == (30, 0, 0)
    again = load_split(folder, "in_domain", top_q=3, top_k=2)
    assert again.meta["load_cache"] == {"split": "hit", "corpus": "hit"}
    assert list(again.doc_images) == images and again.qrels == loaded.qrels
    info = dataset_info(folder)
    assert [r["split"] for r in info] == ["in_domain", "novel_document"]
    assert info[0]["queries"] == 5 and info[0]["documents"] == loaded.num_docs
    frame = read_triplets(folder, "in_domain")
    assert len(frame) == 20 and frame["product_id"].iloc[0] == "000"
    assert frame["image"].iloc[0] == images[0]
    with pytest.raises(GclBenchError, match="no parquet files for split zero_shot"):
        load_split(folder, "zero_shot")


def test_hf_parquet_folder_per_split(tmp_path: Path) -> None:
    folder = tmp_path / "hf2"
    (folder / "novel-query").mkdir(parents=True)
    rows = hf_rows("nq")
    rows.pop("image")
    pq.write_table(pa.table(rows), folder / "novel-query" / "novel-query-5.parquet")
    loaded = load_split(folder, "novel_query", top_q=2)
    assert loaded.doc_ids[0] == "000" and loaded.report.missing_images == loaded.num_docs
    rows["product_id"] = [int(p) for p in rows["product_id"]]  # "000" would become "0"
    pq.write_table(pa.table(rows), folder / "novel-query" / "novel-query-5.parquet")
    with pytest.raises(GclBenchError, match="'product_id' is int64"):
        load_split(folder, "novel_query", top_q=2)


def test_sampled_judgements_follow_the_hugging_face_reference(tmp_path: Path) -> None:
    """eval_hf_datasets_v1.py: grades over the split, a uniform draw of top_q query keys
    (``DataFrame.sample(n, random_state=1)``) sorted by summed grade, each query's top rows."""
    table = pa.table({k: v for k, v in hf_rows("zero_shot", n_queries=30, per_query=5).items() if k != "image"})
    folder = tmp_path / "export" / "data"
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "zero_shot-00000-of-00001.parquet")
    top_q, top_k = 7, 3
    loaded = load_split(folder.parent, "zero_shot", top_q=top_q, top_k=top_k)

    frame = table.to_pandas()
    frame["key"] = frame["query"] + QUERY_SUFFIX
    w = frame["score_linear"]
    frame["score_linear"] = (((w - w.min()) / (w.max() - w.min())) * 99 + 1).astype(int)
    sums = frame[["key", "score_linear"]].groupby("key").sum()
    drawn = sums.sample(n=top_q, random_state=1).sort_values(by="score_linear", ascending=False)
    expected_queries = list(drawn.index)
    indexed = frame.set_index("key")
    expected = {}
    for key in expected_queries:
        ranked = indexed.loc[[key]].sort_values(by="score_linear", ascending=False)
        expected[key] = {d: round(g) for d, g in zip(ranked["product_id"][:top_k], ranked["score_linear"][:top_k])}
    assert loaded.query_ids == expected_queries and loaded.qrels == expected
    assert loaded.meta["query_draw"] == "uniform"
    weighted = sums.sample(n=top_q, weights=sums["score_linear"], random_state=1)
    assert set(weighted.index) != set(expected_queries)  # the two reference draws differ here


def write_beir(folder: Path, ids: list[object] | None = None) -> Path:
    (folder / "qrels").mkdir(parents=True)
    ids = ids if ids is not None else ["007", "008", "9"]
    lines = [orjson.dumps({"_id": i, "title": f"doc {i}", "text": "body"}) for i in ids]
    (folder / "corpus.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    queries = [{"_id": "q1", "text": "first"}, {"_id": "q2", "text": "second"}]
    (folder / "queries.jsonl").write_bytes(b"\n".join(orjson.dumps(q) for q in queries))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq2\t007\t2\nq1\t9\t1\nq1\t008\t0\n")
    (folder / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t007\t1\n")
    return folder


def test_beir_folder(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "beir")
    loaded = load_split(folder)
    assert list(loaded.doc_ids) == ["007", "008", "9"]
    assert list(loaded.doc_titles) == ["doc 007", "doc 008", "doc 9"]
    assert loaded.query_ids == ["q2", "q1"] and loaded.query_texts == ["second", "first"]
    assert loaded.qrels == {"q2": {"007": 2}, "q1": {"9": 1, "008": 0}}
    assert loaded.meta["format"] == "beir"
    assert load_split(folder, eval_set="dev").qrels == {"q1": {"007": 1}}
    corpus = loaded.corpus_dicts
    assert corpus[0] == {"id": "007", "title": "doc 007", "text": "body", "image": None}
    assert dataset_info(folder)[0]["judgements_dev"] == 1
    nested = tmp_path / "root"
    write_beir(nested / "zero_shot")
    assert load_split(nested, "zero_shot").num_docs == 3


def test_beir_bad_input(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "collide", ids=[7, "7", "8"])
    with pytest.raises(GclBenchError, match="'7' occurs more than once") as err:
        load_split(folder)
    assert err.value.path == str(folder / "corpus.jsonl")
    folder = write_beir(tmp_path / "unknown")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq9\t007\t2\n")
    with pytest.raises(GclBenchError, match="first unresolvable key: 'q9'") as err:
        load_split(folder)
    assert err.value.path == str(folder / "qrels" / "test.tsv")
    (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "x"\n')
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t007\t2\n")
    with pytest.raises(GclBenchError, match="malformed JSON on line 1") as err:
        load_split(folder, use_cache=False)
    assert err.value.path == str(folder / "queries.jsonl")
    with pytest.raises(GclBenchError, match="no training triplets"):
        read_triplets(folder, "in_domain")


def test_beir_qrels_read_by_one_parser(tmp_path: Path) -> None:
    """The loader and ``gcl-bench evaluate`` read a BEIR qrels file with the same rules."""
    from gcl_bench.results import read_qrels

    folder = write_beir(tmp_path / "beir")
    qrels_path = folder / "qrels" / "test.tsv"
    qrels_path.write_text("query-id\tcorpus-id\tscore\nq2\t007\t2.0\nq1\t9\t1\n")
    assert load_split(folder, use_cache=False).qrels == read_qrels(qrels_path) == {"q2": {"007": 2}, "q1": {"9": 1}}
    qrels_path.write_text("query-id\tcorpus-id\tscore\nq2\t007\t2\nq1\t9\t-1\n")
    with pytest.raises(GclBenchError) as from_loader:
        load_split(folder, use_cache=False)
    with pytest.raises(GclBenchError) as from_evaluate:
        read_qrels(qrels_path)
    assert str(from_loader.value) == str(from_evaluate.value)
    assert str(from_loader.value) == f"{qrels_path}: line 3: grade '-1' of ('q1', '9') is not a non-negative integer"


def test_malformed_parquet_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "hf"
    folder.mkdir()
    bad = folder / "zero_shot-00000-of-00001.parquet"
    bad.write_bytes(b"PAR1 not really parquet" + np.arange(10).tobytes())
    with pytest.raises(GclBenchError, match="malformed parquet") as err:
        load_split(folder, "zero_shot")
    assert err.value.path == str(bad)
