"""The bundled sample benchmark: layout, determinism, string ids, graded judgements, CLI."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcl_bench.cli import cli
from gcl_bench.data.sample import (
    ATTRIBUTES,
    CSV_COLUMNS,
    SAMPLE_VERSION,
    SYNONYMS,
    default_sample_dir,
    write_sample,
)
from gcl_bench.data.splits import SPLIT_STEMS
from gcl_bench.errors import GclBenchError

SMALL = {"products": 240, "queries": 60, "seed": 7, "image_size": 16}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample(tmp_path_factory.mktemp("sample") / "small", **SMALL)


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_give_the_same_bytes(small: Path, tmp_path: Path) -> None:
    again = write_sample(tmp_path / "again", **SMALL)
    assert tree_bytes(again) == tree_bytes(small)
    other = write_sample(tmp_path / "other", **{**SMALL, "seed": 8})
    assert tree_bytes(other) != tree_bytes(small)


def test_layout_has_every_file_of_all_four_splits(small: Path) -> None:
    for name in ("corpus_1.json", "corpus_2.json"):
        assert (small / name).is_file()
    for stem in SPLIT_STEMS.values():
        for suffix in (".csv", "_gt_dev.json", "_gt_test.json", "_queries.json"):
            assert (small / f"{stem}{suffix}").is_file(), stem + suffix
        rows = read_rows(small / f"{stem}.csv")
        assert rows and tuple(rows[0]) == CSV_COLUMNS
        for suffix in ("_gt_dev.json", "_gt_test.json"):
            assert json.loads((small / f"{stem}{suffix}").read_text())


def test_corpus_entries_and_images(small: Path) -> None:
    info = json.loads((small / "sample_info.json").read_text())
    missing = set(info["missing_images"])
    empty = set(info["empty_titles"])
    assert missing and empty and not missing & empty
    seen_missing, seen_empty = set(), set()
    for name in ("corpus_1.json", "corpus_2.json"):
        for pid, doc in json.loads((small / name).read_text()).items():
            assert set(doc) == {"title", "image_local", *ATTRIBUTES}
            assert doc["image_local"] == f"images/{pid}.png"
            assert not Path(doc["image_local"]).is_absolute()
            if (small / doc["image_local"]).is_file():
                from PIL import Image

                with Image.open(small / doc["image_local"]) as image:
                    assert image.size == (SMALL["image_size"],) * 2
            else:
                seen_missing.add(pid)
            if not doc["title"]:
                seen_empty.add(pid)
            else:
                title = doc["title"].lower()
                assert any(word in title for word in (doc["category"], *SYNONYMS[doc["category"]]))
    assert seen_missing == missing
    assert seen_empty == empty


def test_ids_are_strings_and_some_have_leading_zeros(small: Path) -> None:
    corpus = json.loads((small / "corpus_1.json").read_text())
    corpus.update(json.loads((small / "corpus_2.json").read_text()))
    assert all(isinstance(pid, str) and pid.isdigit() and len(pid) == 8 for pid in corpus)
    assert any(pid.startswith("0") for pid in corpus)
    # as text in the CSV too: a reader that keeps strings sees the zeros
    rows = read_rows(small / "query_0_product_id_0.csv")
    assert any(row["product_id"].startswith("0") for row in rows)
    assert {row["product_id"] for row in rows} <= set(corpus)


def test_corpora_are_disjoint_and_splits_use_the_right_one(small: Path) -> None:
    corpus_1 = set(json.loads((small / "corpus_1.json").read_text()))
    corpus_2 = set(json.loads((small / "corpus_2.json").read_text()))
    assert corpus_1 and corpus_2 and not corpus_1 & corpus_2
    assert len(corpus_1) + len(corpus_2) == SMALL["products"]
    queries = {}
    for stem in SPLIT_STEMS.values():
        corpus = corpus_1 if stem.endswith("_0") else corpus_2
        rows = read_rows(small / f"{stem}.csv")
        assert {row["product_id"] for row in rows} <= corpus
        for suffix in ("_gt_dev.json", "_gt_test.json"):
            for docs in json.loads((small / f"{stem}{suffix}").read_text()).values():
                assert set(docs) <= corpus
        queries[stem] = {row["query"] for row in rows}
    # query set 0 (seen) and query set 1 (novel) are disjoint, and the same for both corpora
    assert queries["query_0_product_id_0"] == queries["query_0_product_id_1"]
    assert queries["query_1_product_id_0"] == queries["query_1_product_id_1"]
    assert not queries["query_0_product_id_0"] & queries["query_1_product_id_0"]


def test_dev_and_test_are_disjoint_held_out_queries_of_the_split(small: Path) -> None:
    for stem in SPLIT_STEMS.values():
        dev = json.loads((small / f"{stem}_gt_dev.json").read_text())
        test = json.loads((small / f"{stem}_gt_test.json").read_text())
        assert not set(dev) & set(test)
        csv_queries = {row["query"] for row in read_rows(small / f"{stem}.csv")}
        # in-domain judgements are for seen queries over seen documents, as in the paper
        assert set(dev) | set(test) <= csv_queries
        listed = json.loads((small / f"{stem}_queries.json").read_text())
        assert set(listed.values()) == csv_queries


def test_rows_rank_positions_and_scores_as_in_the_release(small: Path) -> None:
    rows = read_rows(small / "query_0_product_id_0.csv")
    by_query: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_query.setdefault(row["query"], []).append(row)
    for query_rows in by_query.values():
        positions = [int(row["position"]) for row in query_rows]
        assert positions == list(range(1, len(positions) + 1))
        assert len({row["query_id"] for row in query_rows}) == 1
        for row in query_rows:
            position = int(row["position"])
            assert int(row["score_linear"]) == 101 - position
            assert float(row["score_reciprocal"]) == 1.0 / position
            assert row["no_score"] == "1"
            assert row["pair_id"] == f"{row['query_id']}-{row['product_id']}"


def _matches(query: str, doc: dict[str, str], vocab: dict[str, list[str]]) -> bool:
    """Does ``doc`` have every attribute value the query text names?"""
    words = set(query.split())
    return all(doc[name] in words for name in ATTRIBUTES if words & set(vocab[name]))


def test_grades_are_graded_and_rank_full_matches_above_partial_ones(small: Path) -> None:
    vocab = json.loads((small / "sample_info.json").read_text())["attributes"]
    for stem in SPLIT_STEMS.values():
        corpus = json.loads((small / ("corpus_1.json" if stem.endswith("_0") else
                                      "corpus_2.json")).read_text())
        full_grades, partial_grades = [], []
        for eval_set in ("dev", "test"):
            gt = json.loads((small / f"{stem}_gt_{eval_set}.json").read_text())
            for query, docs in gt.items():
                grades = list(docs.values())
                assert all(isinstance(g, int) and 1 <= g <= 100 for g in grades)
                assert len(set(grades)) > 2, query
                full = [g for pid, g in docs.items() if _matches(query, corpus[pid], vocab)]
                partial = [g for pid, g in docs.items() if not _matches(query, corpus[pid], vocab)]
                if full and partial:
                    assert min(full) > max(partial), query
                full_grades += full
                partial_grades += partial
        # both kinds are judged, so a binary judgement would lose the difference
        assert full_grades and partial_grades
        assert sum(full_grades) / len(full_grades) > sum(partial_grades) / len(partial_grades)


def test_gt_grades_rescale_score_linear_over_the_file(small: Path) -> None:
    stem = "query_1_product_id_1"
    rows = read_rows(small / f"{stem}.csv")
    linear = [int(row["score_linear"]) for row in rows]
    low, high = min(linear), max(linear)
    expected: dict[str, dict[str, int]] = {}
    for row in rows:
        grade = int(1 + 99 * (int(row["score_linear"]) - low) / (high - low))
        expected.setdefault(row["query"], {})[row["product_id"]] = grade
    for eval_set in ("dev", "test"):
        gt = json.loads((small / f"{stem}_gt_{eval_set}.json").read_text())
        for query, docs in gt.items():
            assert docs == expected[query]


def test_bad_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(GclBenchError, match="--queries"):
        write_sample(tmp_path / "x", products=100, queries=100_000)
    with pytest.raises(GclBenchError, match="--products"):
        write_sample(tmp_path / "y", products=3, queries=20)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_cli_writes_a_sample_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["sample", "--out", str(out), "--products", "60", "--queries", "20",
            "--seed", "1", "--image-size", "12"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (out / "query_1_product_id_1_gt_test.json").is_file()
    before = tree_bytes(out)

    result = runner.invoke(cli, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, GclBenchError)
    assert "not empty" in str(result.exception)
    assert tree_bytes(out) == before

    result = runner.invoke(cli, [*args[:-4], "--seed", "2", "--force"])
    assert result.exit_code == 0, result.output
    assert tree_bytes(out) != before
    # nothing left behind next to it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli"]


def test_cli_error_is_one_line_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from gcl_bench.cli import main

    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", "--out", str(tmp_path / "busy"), "--products", "40", "--queries", "10"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


def test_empty_out_folder_is_filled(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    path = write_sample(tmp_path / "empty", products=40, queries=10, image_size=8)
    assert (path / "corpus_1.json").is_file()


def test_default_sample_is_built_once_in_the_cache(sample_dir: Path) -> None:
    from gcl_bench.config import cache_dir

    assert sample_dir == cache_dir() / "sample" / SAMPLE_VERSION
    assert (sample_dir / "query_0_product_id_0.csv").is_file()
    stamp = os.stat(sample_dir / "corpus_1.json").st_mtime_ns
    assert default_sample_dir() == sample_dir
    assert os.stat(sample_dir / "corpus_1.json").st_mtime_ns == stamp
    assert not [p for p in sample_dir.parent.iterdir() if p.name.startswith(".")]
    info = json.loads((sample_dir / "sample_info.json").read_text())
    assert info["products"] >= 1000 and info["queries"] >= 300
    assert info["splits"]["query_1_product_id_1"]["gt_test"] >= 30


def test_default_sample_survives_a_race(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process finishing first wins; our copy is discarded without an error."""
    import gcl_bench.data.sample.folder as folder

    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(folder, "DEFAULT_PRODUCTS", 40)
    monkeypatch.setattr(folder, "DEFAULT_QUERIES", 10)
    final = tmp_path / "cache" / "sample" / SAMPLE_VERSION
    generate = folder.generate

    def generate_while_another_process_wins(out: Path, *args: int) -> dict:
        other = tmp_path / "other"
        other.mkdir()
        generate(other, 40, 10, 99, 8)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rename(other, final)
        return generate(out, *args)

    monkeypatch.setattr(folder, "generate", generate_while_another_process_wins)
    assert not final.exists()
    path = default_sample_dir()
    assert path == final
    assert json.loads((final / "sample_info.json").read_text())["seed"] == 99
    assert sorted(p.name for p in final.parent.iterdir()) == [SAMPLE_VERSION]


def _object_area(path: Path, style: str) -> int:
    """Pixels of the picture that are neither background nor frame."""
    import numpy as np
    from PIL import Image

    from gcl_bench.data.sample import STYLES

    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    background, frame, _ = STYLES[style]
    far = np.abs(pixels - np.array(background)).sum(-1) > 60
    if frame is not None:
        far &= np.abs(pixels - np.array(frame)).sum(-1) > 60
    return int(far.sum())


def test_among_full_matches_bigger_pictured_products_rank_higher(tmp_path: Path) -> None:
    """The order within one match level is a property of the product a model can see (its
    prominence), not noise: something only the graded scores teach."""
    from scipy.stats import spearmanr

    root = write_sample(tmp_path / "big", products=400, queries=40, seed=3, image_size=48)
    corpus = json.loads((root / "corpus_1.json").read_text())
    vocab = json.loads((root / "sample_info.json").read_text())["attributes"]
    correlations = []
    for row_query, rows in _rows_by_query(root / "query_0_product_id_0.csv").items():
        words = set(row_query.split())
        if not words & set(vocab["category"]):
            continue  # areas are comparable within one shape
        full = [(int(r["position"]), _object_area(root / r["image_local"],
                                                  corpus[r["product_id"]]["style"]))
                for r in rows if _matches(row_query, corpus[r["product_id"]], vocab)
                and (root / r["image_local"]).is_file()]
        if len(full) >= 5:
            correlations.append(spearmanr(*zip(*full)).statistic)
    assert len(correlations) >= 5
    # earlier position (smaller number) <-> larger object
    assert sum(correlations) / len(correlations) < -0.5


def _rows_by_query(path: Path) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in read_rows(path):
        grouped.setdefault(row["query"], []).append(row)
    return grouped
