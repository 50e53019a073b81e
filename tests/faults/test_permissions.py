"""Files the user owns: everything gcl-bench writes gets the user's umask (0666 / 0777 less it), as a
file made with ``open`` would, never ``mkstemp``'s 0600."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from faults.harness import run_cli


@pytest.fixture(params=[0o022, 0o027], ids=["umask 022", "umask 027"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): _mode(p) for p in sorted(folder.rglob("*"))}


def _expected(folder: Path, umask: int) -> dict[str, int]:
    return {str(p.relative_to(folder)): (0o777 if p.is_dir() else 0o666) & ~umask for p in sorted(folder.rglob("*"))}


def test_run_outputs_and_caches(tiny_dataset: Path, tmp_path: Path, monkeypatch, umask: int) -> None:
    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "results" / "bm25"
    result = run_cli(["run", "--model", "bm25", "--split", "zero_shot", "--data-dir", tiny_dataset,
                      "--output-dir", out, "--trec", "-q"])
    assert result.code == 0, result.stderr
    reference = tmp_path / "made_with_open"
    reference.write_text("x")
    assert _mode(out / "results.json") == _mode(reference) == 0o666 & ~umask
    assert _modes(tmp_path / "results") == _expected(tmp_path / "results", umask)
    assert _modes(tmp_path / "cache" / "data") == _expected(tmp_path / "cache" / "data", umask)
    board, plot = tmp_path / "board.md", tmp_path / "board.png"
    assert run_cli(["leaderboard", out, "--out", board, "--plot", plot]).code == 0
    gt = tiny_dataset / "query_1_product_id_1_gt_test.json"
    scores = tmp_path / "scores.json"
    assert run_cli(["evaluate", "--qrels", gt, "--run", out / "run.json", "--output", scores]).code == 0
    assert [_mode(p) for p in (board, plot, scores)] == [0o666 & ~umask] * 3


def test_embedding_cache_and_sample_folder(tiny_dataset: Path, tmp_path: Path, monkeypatch, umask: int) -> None:
    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "cache"))
    model = f"{Path(__file__).with_name('plugin_models.py')}:HashEncoder"
    result = run_cli(["run", "--model", model, "--split", "zero_shot", "--data-dir", tiny_dataset,
                      "--output-dir", tmp_path / "out", "-q"])
    assert result.code == 0, result.stderr
    embeddings = tmp_path / "cache" / "embeddings"
    assert any(p.name.startswith("shard_") for p in embeddings.rglob("*"))
    assert _modes(embeddings) == _expected(embeddings, umask)
    sample = tmp_path / "sample"
    made = run_cli(["sample", "--out", sample, "--products", "40", "--queries", "12", "--image-size", "8"])
    assert made.code == 0, made.stderr
    assert _modes(sample) == _expected(sample, umask) and _mode(sample) == 0o777 & ~umask


def test_training_checkpoints(tiny_dataset: Path, tmp_path: Path, umask: int) -> None:
    out = tmp_path / "run"
    result = run_cli(["train", "--data-dir", tiny_dataset, "--output-dir", out, "--steps", "1", "--batch-size", "6",
                      "--threads", "1", "--no-progress"])
    assert result.code == 0, result.stderr
    assert (out / "checkpoints" / "latest.pt").is_file()
    assert _modes(out) == _expected(out, umask)
