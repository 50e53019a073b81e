"""The Hugging Face export by Hub id (``--data-dir hf://ORG/NAME[@REV]``), offline from a local
Hub cache: both file layouts of the export's history, the commit recorded, one-line errors."""
from __future__ import annotations

import io as bytes_io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from faults.harness import expect_error, run_cli
from hub_cache import commit_sha, put_file, put_ref, use_hub_cache

from gcl_bench.data import QUERY_SUFFIX, load_split
from gcl_bench.errors import GclBenchError

REPO = "Marqo/marqo-GS-10M"
EARLY = commit_sha("early upload")
LATER = commit_sha("data folder")


def rows(split: str, n_queries: int, per_query: int = 4, offset: int = 0) -> pa.Table:
    cols: dict[str, list] = {k: [] for k in ("query", "product_id", "position", "title", "score_linear", "query_id")}
    for q in range(n_queries):
        for r in range(per_query):
            doc = (q * 3 + r) % 11 + offset
            cols["query"].append(f"{split} query {q}")
            cols["product_id"].append(f"0{doc}")
            cols["position"].append(r + 1)
            cols["title"].append(f"product {doc}")
            cols["score_linear"].append(float(per_query - r) + (q % 5) * 0.5)
            cols["query_id"].append(str(q))
    return pa.table(cols)


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = bytes_io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Hub cache holding two commits of the export: the first layout at EARLY (tag ``v0``),
    the ``data/`` layout at LATER (``main``)."""
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "gcl-cache"))
    early = rows("novel_query", 6)
    put_file(cache, REPO, EARLY, "novel-query/novel-query-5.parquet", parquet_bytes(early), "dataset")
    put_file(cache, REPO, EARLY, "in-domain/in-domain-0.parquet", parquet_bytes(rows("in_domain", 5)), "dataset")
    later = rows("novel_query", 8, offset=20)
    put_file(cache, REPO, LATER, "data/novel_query-00000-of-00002.parquet", parquet_bytes(later.slice(0, 12)), "dataset")
    put_file(cache, REPO, LATER, "data/novel_query-00001-of-00002.parquet", parquet_bytes(later.slice(12)), "dataset")
    put_file(cache, REPO, LATER, "README.md", b"# marqo-GS-10M", "dataset")
    put_ref(cache, REPO, "main", LATER, "dataset")
    put_ref(cache, REPO, "v0", EARLY, "dataset")
    use_hub_cache(monkeypatch, cache)
    return cache


def test_both_layouts_load_by_hub_id_and_name_their_commit(hub: Path) -> None:
    later = load_split(f"hf://{REPO}", "novel_query", top_q=3, top_k=2)
    assert later.meta["hub"] == {
        "repo_id": REPO, "repo_type": "dataset", "revision": "main", "sha": LATER, "offline": True,
        "files": {"novel_query": ["data/novel_query-00000-of-00002.parquet", "data/novel_query-00001-of-00002.parquet"]},
    }
    assert later.meta["data_dir"] == f"hf://{REPO}" and later.meta["format"] == "hf_parquet"
    assert later.meta["path"].endswith(LATER)
    assert sorted(later.doc_ids) == sorted({f"0{(q * 3 + r) % 11 + 20}" for q in range(8) for r in range(4)})
    assert all(key.endswith(QUERY_SUFFIX) and key.startswith("novel_query query") for key in later.query_ids)
    assert "products of the split's rows" in later.meta["corpus_definition"]

    for spec in (f"hf://{REPO}@v0", f"hf://{REPO}@{EARLY}"):
        early = load_split(spec, "novel-query", top_q=3, top_k=2)
        assert early.meta["hub"]["sha"] == EARLY
        assert early.meta["hub"]["files"] == {"novel_query": ["novel-query/novel-query-5.parquet"]}
        assert sorted(early.doc_ids) == sorted({f"0{(q * 3 + r) % 11}" for q in range(6) for r in range(4)})
    # the same snapshot folder read as a path gives the same split, without the Hub record
    local = load_split(Path(later.meta["path"]), "novel_query", top_q=3, top_k=2)
    assert "hub" not in local.meta and local.qrels == later.qrels and list(local.doc_ids) == list(later.doc_ids)


def test_run_on_hub_data_writes_the_commit_into_results(hub: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(["run", "--model", "bm25", "--split", "novel_query", "--data-dir", f"hf://{REPO}@v0",
                      "--output-dir", out])
    assert result.code == 0, result.stderr
    assert EARLY[:12] in result.stderr and "products of the split's rows" in result.stderr
    dataset = json.loads((out / "results.json").read_text())["dataset"]
    assert dataset["hub"]["sha"] == EARLY and dataset["hub"]["revision"] == "v0"
    assert dataset["data_dir"] == f"hf://{REPO}@v0" and dataset["sampled_as"] == "evals/eval_hf_datasets_v1.py"


def test_split_missing_from_the_cache_is_one_line(hub: Path, tmp_path: Path) -> None:
    result = run_cli(["run", "--model", "bm25", "--split", "zero_shot", "--data-dir", f"hf://{REPO}",
                      "--output-dir", tmp_path / "out"])
    line = expect_error(result, REPO, "@main", "zero_shot", "HF_HUB_OFFLINE", "hf download", "--data-dir FOLDER")
    assert str(hub) in line and not (tmp_path / "out").exists()
    info = run_cli(["info", "--data-dir", f"hf://{REPO}@v0"])  # the splits the cache has of that revision
    assert info.code == 0 and "in_domain" in info.stdout and "novel_query" in info.stdout
    assert "zero_shot" not in info.stdout
    result = run_cli(["info", "--data-dir", f"hf://{REPO}@no-such-branch"])
    expect_error(result, REPO, "@no-such-branch", "not in the Hugging Face cache")
    for bad in ("hf://Marqo", "hf://Marqo/marqo-GS-10M@"):
        expect_error(run_cli(["info", "--data-dir", bad]), bad, "hf://ORG/NAME")


def test_bad_hub_spec_from_python(hub: Path) -> None:
    with pytest.raises(GclBenchError, match="hf://ORG/NAME"):
        load_split("hf://not-a-repo-id", "in_domain")
