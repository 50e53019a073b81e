"""benchmarks/_release_data.py at a tiny size: the folder it writes loads as the release does."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from gcl_bench.data import load_split
from gcl_bench.data.splits import SPLITS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def release_data():  # noqa: ANN201 - a module loaded from a file
    spec = importlib.util.spec_from_file_location("_release_data", ROOT / "benchmarks" / "_release_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def tiny(release_data, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    sizes = release_data.Sizes(products=80, judged=4, rows={
        "in_domain": 480, "novel_query": 400, "novel_document": 480, "zero_shot": 400})
    folder = tmp_path_factory.mktemp("release") / "marqo_gs_full_10m"
    release_data.generate(folder, sizes)
    return sizes, folder


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_split_loads_with_its_own_corpus_and_judged_queries(tiny) -> None:  # noqa: ANN001
    sizes, folder = tiny
    loaded = {split: load_split(folder, split, use_cache=False) for split in SPLITS}
    for split, data in loaded.items():
        assert data.num_docs == sizes.products, split
        assert data.num_queries == sizes.judged, split
        assert all(len(doc_id) == 10 and doc_id.startswith("0") for doc_id in data.doc_ids), split
        assert all(grade >= 1 for judged in data.qrels.values() for grade in judged.values()), split
    corpus_1, corpus_2 = set(loaded["in_domain"].doc_ids), set(loaded["novel_document"].doc_ids)
    assert set(loaded["novel_query"].doc_ids) == corpus_1 and set(loaded["zero_shot"].doc_ids) == corpus_2
    assert not corpus_1 & corpus_2
    seen = {t for split in ("in_domain", "novel_document") for t in loaded[split].query_texts}
    novel = {t for split in ("novel_query", "zero_shot") for t in loaded[split].query_texts}
    assert not seen & novel


def test_dev_and_test_judge_different_queries_and_the_copy_without_gt_samples(tiny) -> None:  # noqa: ANN001
    sizes, folder = tiny
    test = load_split(folder, "zero_shot", eval_set="test", use_cache=False)
    dev = load_split(folder, "zero_shot", eval_set="dev", use_cache=False)
    assert dev.num_queries == sizes.judged and not set(dev.query_ids) & set(test.query_ids)
    sampled = load_split(folder / "no_gt", "in_domain", top_q=3, use_cache=False)
    assert sampled.meta["sampled"] is True and sampled.num_queries == 3


def test_generation_is_deterministic_and_reused_while_its_marker_matches(release_data, tiny, tmp_path) -> None:  # noqa: ANN001
    sizes, folder = tiny
    again = tmp_path / "marqo_gs_full_10m"
    assert release_data.ensure(again, sizes) > 0
    assert digests(again) == digests(folder)
    assert release_data.ensure(again, sizes) == 0.0
    marker = json.loads((again / release_data.MARKER).read_text())
    assert marker["files"] == {"csv": "query_0_product_id_0.csv", "corpus": "corpus_1.json"}
    bigger = release_data.Sizes(products=90, judged=4, rows=sizes.rows)
    assert release_data.ensure(again, bigger) > 0
    assert load_split(again, "in_domain", use_cache=False).num_docs == 90


def test_too_few_queries_for_the_judged_sets_is_refused(release_data, tmp_path) -> None:  # noqa: ANN001
    sizes = release_data.Sizes(products=50, judged=4, rows={"zero_shot": 120})  # 3 queries, 2 x 4 judged
    with pytest.raises(ValueError, match=r"query_1_product_id_1.csv: \d queries, too few"):
        release_data.generate(tmp_path / "small", sizes)
    assert not (tmp_path / "small" / release_data.MARKER).exists()
