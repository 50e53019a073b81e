"""``gcl-bench cache info|clear``: sizes per kind under GCL_BENCH_CACHE, clearing with confirmation."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.harness import expect_error, run_cli


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("GCL_BENCH_CACHE", str(root))
    for folder, files in (("embeddings", {"a.npy": 1000, "b/c.npy": 24}), ("weights", {"m.pt": 4096}),
                          ("data", {"v1/x.arrow": 10}), ("stray", {"f": 3})):
        for name, size in files.items():
            path = root / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x" * size)
    return root


def test_info_counts_files_and_bytes_per_kind(cache: Path) -> None:
    result = run_cli(["cache", "info", "--json"])
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["root"] == str(cache) and report["chosen_by"] == "GCL_BENCH_CACHE"
    kinds = {row["kind"]: (row["files"], row["bytes"]) for row in report["kinds"]}
    assert kinds["embeddings"] == (2, 1024) and kinds["weights"] == (1, 4096) and kinds["datasets"] == (1, 10)
    assert kinds["sample"] == (0, 0) and kinds["other"] == (1, 3)
    assert report["total_bytes"] == 1024 + 4096 + 10 + 3
    table = run_cli(["cache", "info"])
    assert table.code == 0 and "embeddings" in table.stdout and "1.0 KiB" in table.stdout
    assert run_cli(["cache", "info", "-q"]).stdout.strip() == "5.0 KiB"


def test_clear_one_kind_needs_yes_when_not_interactive(cache: Path) -> None:
    refused = run_cli(["cache", "clear", "embeddings"])
    expect_error(refused, "--yes")
    assert (cache / "embeddings" / "a.npy").is_file()
    done = run_cli(["cache", "clear", "embeddings", "--yes"])
    assert done.code == 0 and "removed embeddings: 2 files" in done.stdout
    assert not (cache / "embeddings").exists() and (cache / "weights" / "m.pt").is_file()


def test_clear_everything_keeps_unknown_folders(cache: Path) -> None:
    assert run_cli(["cache", "clear", "-y", "-q"]).code == 0
    assert sorted(p.name for p in cache.iterdir()) == ["stray"]


def test_models_is_another_name_for_weights(cache: Path) -> None:
    done = run_cli(["cache", "clear", "models", "--yes"])
    assert done.code == 0 and "removed weights: 1 files" in done.stdout
    assert not (cache / "weights").exists() and (cache / "embeddings").is_dir()


def test_unknown_kind_is_one_error_line(cache: Path) -> None:
    expect_error(run_cli(["cache", "clear", "bogus", "--yes"]), "'bogus'", "embeddings")
