"""The Marqo-GS folder loader: splits, ids, judgements, images, the cache and bad input."""
from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest

from gcl_bench.data import (
    QUERY_SUFFIX,
    SPLIT_CORPUS,
    SPLIT_STEMS,
    SPLITS,
    canonical_split,
    dataset_info,
    load_split,
    read_triplets,
)
from gcl_bench.data.corpus import read_corpus_json
from gcl_bench.data.files import BeirFiles, MarqoFiles
from gcl_bench.data.splits import CORPORA, SPLIT_QUERY_SET
from gcl_bench.errors import GclBenchError

CSV_COLUMNS = ["query", "product_id", "position", "title", "pair_id", "score_linear",
               "score_reciprocal", "no_score", "query_id", "image_local"]


def write_json(path: Path, obj: object) -> None:
    path.write_bytes(orjson.dumps(obj))


def write_csv(path: Path, rows: list[dict], columns: list[str] = CSV_COLUMNS) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def make_products(prefix: str, count: int, image_dir: str = "/home/authors/gs/images") -> dict[str, dict]:
    return {
        f"{prefix}{i:04d}": {"title": f"{prefix} product {i}", "image_local": f"{image_dir}/{prefix}{i:04d}.jpg", "brand": "x"}
        for i in range(count)
    }


def write_marqo(folder: Path, gt: bool = True, queries_file: bool = True, n_products: int = 12) -> Path:
    """A tiny sub-dataset folder: corpora with leading-zero ids, four split CSVs, gt and queries files."""
    folder.mkdir(parents=True, exist_ok=True)
    corpora = {"corpus_1": make_products("0", n_products), "corpus_2": make_products("9", n_products)}
    for name, products in corpora.items():
        write_json(folder / f"{name}.json", products)
    for s_index, split in enumerate(SPLITS):
        stem = SPLIT_STEMS[split]
        ids = list(corpora[SPLIT_CORPUS[split]])
        rows = []
        for q in range(4):
            text = f"{split} query {q}"
            for r in range(3):
                doc = ids[(q * 3 + r) % len(ids)]
                rows.append({"query": text, "product_id": doc, "position": r + 1, "title": "t", "pair_id": f"{q}-{r}",
                             "score_linear": 100 - 10 * r - q, "score_reciprocal": 1 / (r + 1), "no_score": 1,
                             "query_id": f"q{s_index}{q:02d}", "image_local": corpora[SPLIT_CORPUS[split]][doc]["image_local"]})
        write_csv(folder / f"{stem}.csv", rows)
        if gt:
            for eval_set, qs in (("test", (0, 1)), ("dev", (2, 3))):
                judged = {f"{split} query {q}": {ids[(q * 3 + r) % len(ids)]: 3 - r for r in range(3)} for q in qs}
                write_json(folder / f"{stem}_gt_{eval_set}.json", judged)
        if queries_file:
            write_json(folder / f"{stem}_queries.json", [f"{split} query {q}" for q in range(4)])
    return folder


@pytest.fixture()
def marqo(tmp_path: Path) -> Path:
    return write_marqo(tmp_path / "marqo_gs_full_10m")


def split_state(split) -> tuple:
    meta = {k: v for k, v in split.meta.items() if k != "load_cache"}
    return (split.name, list(split.doc_ids), list(split.doc_titles), list(split.doc_images), split.query_ids,
            split.query_texts, split.qrels, meta, split.report.to_dict())


# ------------------------------------------------------------------ split names


def test_canonical_split_accepts_names_aliases_and_stems() -> None:
    for split, stem in SPLIT_STEMS.items():
        assert canonical_split(split) == split
        assert canonical_split(stem) == split
        assert canonical_split(f" {split.upper()} ") == split
    assert canonical_split("novel_corpus") == "novel_document"
    assert canonical_split("zero-shot") == "zero_shot"
    assert SPLITS == ("in_domain", "novel_query", "novel_document", "zero_shot")
    with pytest.raises(GclBenchError) as err:
        canonical_split("train")
    assert "in_domain" in str(err.value) and "zero_shot" in str(err.value)


def test_split_file_names_follow_the_release() -> None:
    """``query_{a}_product_id_{b}``: query set a (0 seen, 1 novel) against corpus b + 1."""
    for split in SPLITS:
        a, b = SPLIT_QUERY_SET[split], CORPORA.index(SPLIT_CORPUS[split])
        assert SPLIT_STEMS[split] == f"query_{a}_product_id_{b}"
        assert SPLIT_CORPUS[split] == f"corpus_{b + 1}"
    files = MarqoFiles(Path("gs"), "novel_document")
    assert files.csv == Path("gs/query_0_product_id_1.csv")
    assert files.queries == Path("gs/query_0_product_id_1_queries.json")
    assert files.gt("dev") == Path("gs/query_0_product_id_1_gt_dev.json")
    assert files.corpus == Path("gs/corpus_2.json")
    beir = BeirFiles(Path("b"))
    assert (beir.corpus, beir.queries, beir.qrels("test")) == (
        Path("b/corpus.jsonl"), Path("b/queries.jsonl"), Path("b/qrels/test.tsv"))


def test_each_split_uses_its_corpus_and_keeps_leading_zeros(marqo: Path) -> None:
    for split in SPLITS:
        loaded = load_split(marqo, split)
        expected = read_corpus_json(marqo / f"{SPLIT_CORPUS[split]}.json")["doc_id"].to_pylist()
        assert list(loaded.doc_ids) == expected
        assert loaded.doc_ids[0] == ("00000" if SPLIT_CORPUS[split] == "corpus_1" else "90000")
        assert loaded.query_ids == [f"{split} query 0", f"{split} query 1"]
        assert all(isinstance(d, str) for docs in loaded.qrels.values() for d in docs)
        assert loaded.meta["split"] == split and loaded.meta["sampled"] is False
    alias = load_split(marqo, "novel_corpus")
    stem = load_split(marqo, "query_0_product_id_1", eval_set="dev")
    assert alias.name == stem.name == "novel_document"
    assert stem.query_ids == ["novel_document query 2", "novel_document query 3"]


def test_root_folder_picks_default_subset(tmp_path: Path) -> None:
    write_marqo(tmp_path / "root" / "marqo_gs_full_10m")
    write_marqo(tmp_path / "root" / "marqo_gs_wfash_1m", n_products=5)
    assert load_split(tmp_path / "root", "in_domain").num_docs == 12
    assert load_split(tmp_path / "root", "in_domain", subset="marqo_gs_wfash_1m").num_docs == 5
    with pytest.raises(GclBenchError, match="no sub-dataset 'nope'"):
        load_split(tmp_path / "root", "in_domain", subset="nope")


# ------------------------------------------------------------------ gt key resolution


def test_gt_keys_resolve_by_text_suffix_and_query_id(tmp_path: Path) -> None:
    folder = write_marqo(tmp_path / "d", queries_file=False)
    stem = SPLIT_STEMS["in_domain"]
    gt = {
        "in_domain query 0": {"00000": 2},
        "in_domain query 1" + QUERY_SUFFIX: {"00003": 1},
        "q002": {"00006": 5},
    }
    write_json(folder / f"{stem}_gt_test.json", gt)
    loaded = load_split(folder, "in_domain")
    assert loaded.query_ids == list(gt)
    assert loaded.query_texts == ["in_domain query 0", "in_domain query 1", "in_domain query 2"]
    assert loaded.report.gt_key_kinds == {"text": 1, "text_suffix": 1, "query_id": 1}
    assert loaded.qrels == gt


def test_queries_file_as_id_to_text_dict(tmp_path: Path) -> None:
    folder = write_marqo(tmp_path / "d")
    stem = SPLIT_STEMS["zero_shot"]
    write_json(folder / f"{stem}_queries.json", {"007": "red shoe", "008": "blue hat"})
    write_json(folder / f"{stem}_gt_test.json", {"007": {"90001": 1}, "blue hat": {"90002": 4}})
    (folder / f"{stem}.csv").unlink()
    loaded = load_split(folder, "zero_shot")
    assert loaded.query_texts == ["red shoe", "blue hat"]
    assert loaded.report.gt_key_kinds == {"query_id": 1, "text": 1}


def test_unresolvable_gt_keys_fail_naming_the_file(marqo: Path) -> None:
    stem = SPLIT_STEMS["novel_query"]
    gt_path = marqo / f"{stem}_gt_test.json"
    write_json(gt_path, {"nothing like it": {"00001": 1}, "novel_query query 0": {"00001": 1}})
    with pytest.raises(GclBenchError) as err:
        load_split(marqo, "novel_query", use_cache=False)
    assert err.value.path == str(gt_path)
    assert "1 of 2 judgement keys" in str(err.value) and "'nothing like it'" in str(err.value)
    write_json(gt_path, {"x": {"00001": 1}, "y": {"00002": 1}})
    with pytest.raises(GclBenchError, match="none of the 2 judgement keys"):
        load_split(marqo, "novel_query", use_cache=False)


# ------------------------------------------------------------------ sampled judgements


def pandas2_sample(frame: pd.DataFrame, n: int, weights: pd.Series, random_state: int) -> pd.DataFrame:
    """``frame.sample(n, weights=weights, random_state=random_state, replace=False)`` as pandas 2
    does it (pandas 3 refuses weighted draws where ``n * max(p) > 1``)."""
    p = np.asarray(weights, dtype="float64")
    p = p / p.sum()
    rows = np.random.RandomState(random_state).choice(len(frame), size=n, replace=False, p=p)
    if n * p.max() <= 1:  # pandas 3 accepts this draw: it must agree
        same = frame.sample(n=n, weights=weights, random_state=random_state, replace=False)
        assert list(same.index) == list(frame.index[rows])
    return frame.iloc[rows]


def reference_sampled_gt(csv_path: Path, weight_key: str, top_q: int, top_k: int) -> dict:
    """The steps of the GCL reference evaluation (evals/eval_gs_v1.py), written out with pandas."""
    df_test = pd.read_csv(csv_path)
    query_key = "query_id"
    df_test[query_key] = ""
    df_test[query_key] += df_test["query"] + QUERY_SUFFIX
    if weight_key in df_test.columns and len(df_test[weight_key].unique()) > 1:
        w = df_test[weight_key]
        df_test[weight_key] = (((w - w.min()) / (w.max() - w.min())) * 99 + 1).astype(int)
    else:
        weight_key = "score"
        df_test[weight_key] = 1
    temp = df_test[[query_key, weight_key]].groupby(query_key).sum()
    sampled = pandas2_sample(temp, top_q, temp[weight_key], random_state=1)
    test_queries = list(sampled.sort_values(by=weight_key, ascending=False).index)
    df_test = df_test.set_index(query_key)
    df_test["product_id"] = df_test["product_id"].astype(str)
    gt = {}
    for query in test_queries:
        rows = df_test.loc[[query]].sort_values(by=weight_key, ascending=False)
        docs, grades = rows["product_id"][:top_k].tolist(), rows[weight_key][:top_k].tolist()
        gt[query] = {doc: round(g) for doc, g in zip(docs, grades)}
    return gt


def write_sampling_csv(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(40):
        n_rows = int(rng.integers(1, 45))
        for r in range(n_rows):
            doc = str(int(rng.integers(100, 160)))  # repeats give repeated (query, product) pairs
            score = float(rng.choice([0.5, 1.25, 2.0, 3.75])) if q % 3 == 0 else float(rng.random() * 7)
            rows.append({"query": f"query {q:02d}", "product_id": doc, "score_linear": score,
                         "score_reciprocal": 1 / (r + 1)})
    rng.shuffle(rows)
    write_csv(path, rows, ["query", "product_id", "score_linear", "score_reciprocal"])


@pytest.mark.parametrize("seed", [0, 1])
def test_sampled_judgements_match_the_reference_steps(tmp_path: Path, seed: int) -> None:
    folder = write_marqo(tmp_path / "d", gt=False)
    csv_path = folder / f"{SPLIT_STEMS['in_domain']}.csv"
    write_sampling_csv(csv_path, seed)
    for weight, top_q, top_k in (("score_linear", 15, 10), ("score_reciprocal", 40, 1000), ("none", 7, 3),
                                 ("score_linear", 2, 5)):
        loaded = load_split(folder, "in_domain", weight_column=weight, top_q=top_q, top_k=top_k)
        expected = reference_sampled_gt(csv_path, weight, top_q, top_k)
        assert loaded.query_ids == list(expected)
        assert loaded.qrels == expected
        assert loaded.query_texts == [k[: -len(QUERY_SUFFIX)] for k in expected]
        meta = loaded.meta
        assert meta["sampled"] is True and meta["seed"] == 1 and meta["top_q"] == top_q and meta["top_k"] == top_k
        assert meta["weight_column"] == (None if weight == "none" else weight)
        assert len(meta["query_hash"]) == 64
    more = load_split(folder, "in_domain", top_q=1000)
    assert more.meta["top_q_used"] == 40 and len(more.query_ids) == 40


def test_sampled_judgements_keep_string_ids(tmp_path: Path) -> None:
    folder = write_marqo(tmp_path / "d", gt=False)
    rows = [{"query": "a", "product_id": "007", "score_linear": 3}, {"query": "a", "product_id": "7", "score_linear": 1},
            {"query": "b", "product_id": "0010", "score_linear": 2}]
    write_csv(folder / f"{SPLIT_STEMS['zero_shot']}.csv", rows, ["query", "product_id", "score_linear"])
    loaded = load_split(folder, "zero_shot", top_q=2)
    assert loaded.qrels == {"a" + QUERY_SUFFIX: {"007": 100, "7": 1}, "b" + QUERY_SUFFIX: {"0010": 50}}


# ------------------------------------------------------------------ images and titles


def test_image_root_remaps_authors_paths(tmp_path: Path) -> None:
    folder = write_marqo(tmp_path / "d")
    nested = tmp_path / "unpacked" / "images"
    nested.mkdir(parents=True)
    for i in range(0, 12, 2):  # half the images of corpus_1 exist
        (nested / f"0{i:04d}.jpg").write_bytes(b"\xff\xd8jpeg")
    loaded = load_split(folder, "in_domain", image_root=nested)
    images = list(loaded.doc_images)
    assert images[0] == str(nested / "00000.jpg") and images[1] is None
    assert loaded.report.missing_images == 6
    assert loaded.meta["image_root"] == str(nested.resolve())
    original = orjson.loads((folder / "corpus_1.json").read_bytes())
    assert original["00000"]["image_local"] == "/home/authors/gs/images/00000.jpg"  # files untouched
    by_parent = load_split(folder, "in_domain", image_root=tmp_path / "unpacked")
    assert list(by_parent.doc_images) == images  # found by the last path components instead


def test_relative_image_paths_resolve_against_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "images").mkdir()
    (folder / "images" / "a.png").write_bytes(b"\x89PNG")
    corpus = {"01": {"title": "lamp", "image_local": "images/a.png"}, "02": {"title": " ", "image_local": "images/b.png"},
              "03": {"title": "", "image_local": ""}, "04": {"title": "rug"}}
    write_json(folder / "corpus_2.json", corpus)
    write_json(folder / f"{SPLIT_STEMS['zero_shot']}_gt_test.json", {"q": {"01": 1}})
    write_json(folder / f"{SPLIT_STEMS['zero_shot']}_queries.json", ["q"])
    loaded = load_split(folder, "zero_shot")
    assert list(loaded.doc_images) == [str((folder / "images" / "a.png").resolve()), None, None, None]
    assert loaded.report.missing_images == 3
    assert loaded.report.empty_titles == 2
    assert loaded.report.docs_without_fields == ["02", "03"]


# ------------------------------------------------------------------ cache


def test_cache_hit_gives_an_identical_split(marqo: Path) -> None:
    first = load_split(marqo, "novel_document")
    second = load_split(marqo, "novel_document")
    assert first.meta["load_cache"] == {"split": "miss", "corpus": "miss"}
    assert second.meta["load_cache"] == {"split": "hit", "corpus": "hit"}
    assert split_state(first) == split_state(second)
    fresh = load_split(marqo, "novel_document", use_cache=False)
    assert fresh.meta["load_cache"] == {"split": "off", "corpus": "off"}
    assert split_state(fresh) == split_state(first)
    gt_path = marqo / f"{SPLIT_STEMS['novel_document']}_gt_test.json"
    write_json(gt_path, {"novel_document query 3": {"90001": 7}})
    changed = load_split(marqo, "novel_document")
    assert changed.meta["load_cache"]["split"] == "miss"
    assert changed.qrels == {"novel_document query 3": {"90001": 7}}
    assert changed.meta["fingerprint"] != first.meta["fingerprint"]


def test_cache_notices_images_unpacked_later(tmp_path: Path) -> None:
    folder = write_marqo(tmp_path / "d")
    root = tmp_path / "imgs"
    root.mkdir()
    assert load_split(folder, "in_domain", image_root=root).report.missing_images == 12
    time.sleep(0.01)
    for i in range(12):
        (root / f"0{i:04d}.jpg").write_bytes(b"x")
    os.utime(root, None)
    again = load_split(folder, "in_domain", image_root=root)
    assert again.report.missing_images == 0
    assert again.meta["load_cache"]["corpus"] == "images_rechecked"


# ------------------------------------------------------------------ info and triplets


def test_dataset_info_and_read_triplets(marqo: Path) -> None:
    rows = dataset_info(marqo)
    assert [r["split"] for r in rows] == list(SPLITS)
    assert rows[0] == {"split": "in_domain", "queries": 4, "documents": 12, "judgements_dev": 6,
                       "judgements_test": 6, "missing_images": 12, "format": "marqo_gs"}
    frame = read_triplets(marqo, "novel_corpus")
    assert len(frame) == 12
    assert frame["product_id"].iloc[0] == "90000"
    assert frame["score_linear"].dtype == np.float64 and frame["position"].dtype == np.int64
    assert {"query", "product_id", "title", "image", "query_id", "score_reciprocal"} <= set(frame.columns)
    assert frame["image"].isna().all()  # the authors' paths do not exist here


# ------------------------------------------------------------------ bad input


def test_unknown_split_and_missing_files(marqo: Path, tmp_path: Path) -> None:
    with pytest.raises(GclBenchError, match="unknown split"):
        load_split(marqo, "validation")
    with pytest.raises(GclBenchError, match="unknown eval set"):
        load_split(marqo, "in_domain", eval_set="train")
    stem = SPLIT_STEMS["novel_query"]
    for name in (f"{stem}.csv", f"{stem}_gt_test.json"):
        (marqo / name).unlink()
    with pytest.raises(GclBenchError) as err:
        load_split(marqo, "novel_query")
    assert err.value.path == str(marqo) and f"{stem}.csv" in str(err.value)
    (marqo / "corpus_2.json").unlink()
    with pytest.raises(GclBenchError, match="no corpus_2.json"):
        load_split(marqo, "zero_shot")
    with pytest.raises(GclBenchError, match="data folder not found"):
        load_split(tmp_path / "nowhere", "zero_shot")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GclBenchError, match="not a dataset folder"):
        load_split(tmp_path / "empty", "zero_shot")


@pytest.mark.parametrize(
    ("target", "content", "message"),
    [
        ("corpus_1.json", b'{"1": {"title": "a"}, "2": {"title": "b"', "malformed JSON"),
        ("corpus_1.json", b"[1, 2]", "malformed JSON"),
        ("corpus_1.json", b'{"1": "just a title"}', "malformed corpus"),
        ("corpus_1.json", b"{}", "empty corpus"),
        ("corpus_1.json", b"", "empty corpus"),
        ("gt", b'{"in_domain query 0": {"00001": 1}', "malformed JSON"),
        ("gt", b'{"in_domain query 0": {"00001": "high"}}', "not a non-negative integer"),
        ("gt", b'{"in_domain query 0": [1, 2]}', "malformed judgements"),
        ("gt", b"{}", "no queries"),
        ("queries", b'{"q": 5}', "malformed queries file"),
    ],
)
def test_malformed_json_names_the_file(tmp_path: Path, target: str, content: bytes, message: str) -> None:
    folder = write_marqo(tmp_path / "d", queries_file=target == "queries")
    stem = SPLIT_STEMS["in_domain"]
    path = folder / {"gt": f"{stem}_gt_test.json", "queries": f"{stem}_queries.json"}.get(target, target)
    path.write_bytes(content)
    if target == "queries":
        write_json(folder / f"{stem}_gt_test.json", {"not a text": {"00001": 1}})
    with pytest.raises(GclBenchError, match=message) as err:
        load_split(folder, "in_domain")
    assert err.value.path == str(path)
    assert "\n" not in str(err.value)


def test_malformed_csv_names_the_file(tmp_path: Path) -> None:
    folder = write_marqo(tmp_path / "d", gt=False)
    path = folder / f"{SPLIT_STEMS['in_domain']}.csv"
    path.write_text('query,product_id,score_linear\n"a",1,2\n"b",2\n"c,3,4\n', encoding="utf-8")
    with pytest.raises(GclBenchError, match="malformed CSV") as err:
        load_split(folder, "in_domain")
    assert err.value.path == str(path) and "\n" not in str(err.value)
    path.write_text("query,score_linear\na,1\n", encoding="utf-8")
    with pytest.raises(GclBenchError, match="no column 'product_id'"):
        load_split(folder, "in_domain")
    path.write_text("query,product_id,score_linear\na,1,high\n", encoding="utf-8")
    with pytest.raises(GclBenchError, match="non-numeric value 'high'") as err:
        load_split(folder, "in_domain")
    assert err.value.path == str(path)


def test_duplicate_product_ids_are_an_error(tmp_path: Path) -> None:
    folder = write_marqo(tmp_path / "d")
    products = make_products("0", 3000)
    text = orjson.dumps(products)
    duplicate = b', "00001": {"title": "again", "image_local": ""}}'
    (folder / "corpus_1.json").write_bytes(text[:-1] + duplicate)
    from gcl_bench.data import corpus as corpus_module

    old = corpus_module.CHUNK_BYTES
    corpus_module.CHUNK_BYTES = 4096  # the duplicate lands in another slice than the first one
    try:
        with pytest.raises(GclBenchError, match="'00001' occurs more than once") as err:
            load_split(folder, "in_domain")
    finally:
        corpus_module.CHUNK_BYTES = old
    assert err.value.path == str(folder / "corpus_1.json")


def test_corpus_json_parsed_in_slices_equals_one_parse(tmp_path: Path) -> None:
    products = {f"{i:05d}": {"title": f'odd }}, "title {i}', "image_local": f"/x/{i}.png", "meta": {"a": {"b": "}, "}}}
                for i in range(2000)}
    path = tmp_path / "corpus_1.json"
    path.write_bytes(orjson.dumps(products, option=orjson.OPT_INDENT_2))
    table = read_corpus_json(path, chunk_bytes=700)
    assert table["doc_id"].to_pylist() == list(products)
    assert table["title"].to_pylist() == [p["title"] for p in products.values()]
    assert table["image_raw"].to_pylist() == [p["image_local"] for p in products.values()]


def test_bundled_sample_is_the_default() -> None:
    loaded = load_split(None, "in_domain")
    assert loaded.num_docs > 0 and loaded.num_queries > 0
    assert loaded.meta["sampled"] is False
    assert set(loaded.qrels) == set(loaded.query_ids)


def test_document_columns_behave_like_lists(marqo: Path) -> None:
    import gcl_bench

    loaded = gcl_bench.load_split(marqo, "in_domain")
    ids = loaded.doc_ids
    plain = read_corpus_json(marqo / "corpus_1.json")["doc_id"].to_pylist()
    assert len(ids) == len(plain) and ids == plain and list(ids) == plain
    assert ids[np.int64(3)] == plain[3] and ids[-1] == plain[-1] and ids[2:5] == plain[2:5]
    assert plain[4] in ids and ids.index(plain[4]) == 4
    assert np.asarray(ids).tolist() == plain
    assert ids.arrow.to_pylist() == plain
    assert [d["id"] for d in loaded.corpus_dicts] == plain


def test_corpus_parsed_in_two_processes_equals_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mmap

    from gcl_bench.data import corpus as corpus_module

    products = make_products("0", 6000)
    path = tmp_path / "corpus_1.json"
    path.write_bytes(orjson.dumps(products))
    with open(path, "rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        halves = corpus_module._parse_in_two(data, 0, len(data) - 1, path, 20_000)
        data.close()
    assert halves is not None  # the worker process ran
    assert halves.equals(read_corpus_json(path, workers=1))
    nested = {k: dict(v, meta={"a": {"b": 1}, "c": 2}) for k, v in products.items()}
    path.write_bytes(orjson.dumps(nested))
    assert read_corpus_json(path, workers=2, chunk_bytes=20_000)["doc_id"].to_pylist() == list(products)
    text = orjson.dumps(products)
    path.write_bytes(text[:-1] + b',"00007":{"title":"again"}}')
    with pytest.raises(GclBenchError, match="'00007' occurs more than once"):
        read_corpus_json(path, workers=2, chunk_bytes=20_000)
    broken = text.replace(b'"05000":{', b'"05000":x{')
    path.write_bytes(broken)
    with pytest.raises(GclBenchError, match="malformed JSON") as err:
        read_corpus_json(path, workers=2, chunk_bytes=20_000)
    assert err.value.path == str(path)
    monkeypatch.setattr(corpus_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv("GCL_BENCH_LOAD_WORKERS", "2")
    assert corpus_module.default_workers(1) == 2
    folder = write_marqo(tmp_path / "d", n_products=3000)
    assert list(load_split(folder, "in_domain", use_cache=False).doc_ids) == list(make_products("0", 3000))
