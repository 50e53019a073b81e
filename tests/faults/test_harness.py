"""The fault suite's own tools behave as the cases rely on."""
from __future__ import annotations

from pathlib import Path

import pytest

from faults.harness import expect_error, leftovers, run_cli


def test_unknown_split_is_one_named_error() -> None:
    line = expect_error(run_cli(["run", "--model", "bm25", "--split", "no_such_split"]), "no_such_split")
    assert "valid splits" in line


def test_expect_error_rejects_a_success(tiny_dataset: Path, tmp_path: Path) -> None:
    result = run_cli(["run", "--model", "bm25", "--split", "zero_shot", "--data-dir", tiny_dataset,
                      "--output-dir", tmp_path / "out", "-q"])
    assert result.code == 0, result.stderr
    with pytest.raises(AssertionError):
        expect_error(result)
    assert (tmp_path / "out" / "results.json").is_file()
    assert leftovers(tmp_path / "out") == []


def test_leftovers_sees_temporary_files(tmp_path: Path) -> None:
    (tmp_path / ".results.json.abc.tmp").write_text("x")
    (tmp_path / "weights.pt.part").write_text("x")
    (tmp_path / "results.json").write_text("{}")
    assert [p.name for p in leftovers(tmp_path)] == [".results.json.abc.tmp", "weights.pt.part"]
