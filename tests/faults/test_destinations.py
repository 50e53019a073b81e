"""Unwritable destinations: one line naming the path and the reason (exit 2), nothing half-written,
checked before the work where the work is long; a full disk keeps what was there."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from faults.filesystems import disk_full_under, read_only_folder, run_on_tiny_tmpfs
from faults.harness import expect_error, leftovers, run_cli

NO_SPACE = os.strerror(errno.ENOSPC)


def _run(tiny: Path, out: Path, *extra: object):
    return run_cli(["run", "--model", "bm25", "--split", "zero_shot", "--data-dir", tiny, "--output-dir", out,
                    "-q", *extra])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _no_retrieval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the case if the run gets as far as retrieving: the destination must be checked first."""
    import gcl_bench.runner as runner

    def must_not_run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("retrieval ran before the output folder was checked")

    monkeypatch.setattr(runner, "lexical_retrieve", must_not_run)


def test_an_existing_file_as_the_output_folder(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "results.txt"
    target.write_text("mine")
    _no_retrieval(monkeypatch)
    expect_error(_run(tiny_dataset, target), str(target), "--output-dir is a file, not a folder")
    assert target.read_text() == "mine" and leftovers(tmp_path) == []


def test_an_output_folder_below_a_file(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "plain").write_text("x")
    target = tmp_path / "plain" / "out"
    _no_retrieval(monkeypatch)
    line = expect_error(_run(tiny_dataset, target), str(target))
    assert "is a file, not a folder" in line


def test_a_read_only_output_folder(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    locked = tmp_path / "locked"
    with read_only_folder(locked):
        _no_retrieval(monkeypatch)
        line = expect_error(_run(tiny_dataset, locked / "out"), str(locked / "out"), "--output-dir")
        assert "not writable" in line
    assert list(locked.iterdir()) == []


def test_a_full_disk_while_writing_keeps_the_earlier_set(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(tiny_dataset, out, "--trec").code == 0
    before = _snapshot(out)
    with disk_full_under(out, allowed=1) as failed:
        line = expect_error(_run(tiny_dataset, out, "--metrics", "ndcg@10"), str(out), NO_SPACE)
    assert failed and line.startswith(f"error: {out}")
    assert _snapshot(out) == before and leftovers(tmp_path) == []


def test_a_really_full_tmpfs(tiny_dataset: Path, tmp_path: Path) -> None:
    """A 4 KiB tmpfs (in a user namespace): the kernel's own ENOSPC, in a separate process."""
    mount = tmp_path / "mnt"
    code, lines = run_on_tiny_tmpfs(mount, ["run", "--model", "bm25", "--split", "zero_shot", "--data-dir",
                                            tiny_dataset, "--output-dir", mount / "out", "-q"])
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {mount / 'out'}") and NO_SPACE in lines[0]


def test_evaluate_into_unwritable_places(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(tiny_dataset, out).code == 0
    gt = tiny_dataset / "query_1_product_id_1_gt_test.json"
    (tmp_path / "plain").write_text("x")
    for option, target in (("--output", tmp_path / "plain" / "m.json"), ("--per-query", tmp_path / "plain" / "q.csv")):
        result = run_cli(["evaluate", "--qrels", gt, "--run", out / "run.json", option, target])
        expect_error(result, str(tmp_path / "plain"), option)
    with read_only_folder(tmp_path / "locked"):
        result = run_cli(["evaluate", "--qrels", gt, "--run", out / "run.json", "--output",
                          tmp_path / "locked" / "m.json", "--per-query", tmp_path / "q.csv"])
        expect_error(result, str(tmp_path / "locked"), "not writable")
    assert not (tmp_path / "q.csv").exists()  # nothing written when one destination cannot be
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("option", ["--out", "--plot"])
def test_leaderboard_into_unwritable_places(tiny_dataset: Path, tmp_path: Path, option: str) -> None:
    out = tmp_path / "runs" / "bm25"
    assert _run(tiny_dataset, out).code == 0
    with read_only_folder(tmp_path / "locked"):
        target = tmp_path / "locked" / "board.png"
        expect_error(run_cli(["leaderboard", tmp_path / "runs", option, target]), str(tmp_path / "locked"), option)
    assert leftovers(tmp_path) == []


def test_a_full_disk_while_drawing_the_plot(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    assert _run(tiny_dataset, tmp_path / "runs" / "bm25").code == 0
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "board.png").write_bytes(b"the old plot")
    import gcl_bench.io

    real_atomic = gcl_bench.io.atomic_path

    def atomic_then_full(path):  # noqa: ANN001, ANN202 - savefig writes through its own file object
        import contextlib

        @contextlib.contextmanager
        def wrapped():
            with real_atomic(path) as tmp:
                yield tmp
                raise OSError(errno.ENOSPC, NO_SPACE)
        return wrapped()

    monkeypatch.setattr(gcl_bench.io, "atomic_path", atomic_then_full)
    result = run_cli(["leaderboard", tmp_path / "runs", "--plot", plots / "board.png"])
    expect_error(result, str(plots / "board.png"), NO_SPACE)
    assert (plots / "board.png").read_bytes() == b"the old plot" and leftovers(plots) == []


def test_a_read_only_cache_folder(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    baseline = _run(tiny_dataset, tmp_path / "baseline", "--no-cache")
    assert baseline.code == 0
    with read_only_folder(tmp_path / "locked"):
        cache = tmp_path / "locked" / "cache"
        monkeypatch.setenv("GCL_BENCH_CACHE", str(cache))
        line = expect_error(_run(tiny_dataset, tmp_path / "out"), str(cache), "GCL_BENCH_CACHE")
        assert "cannot write here" in line
        uncached = _run(tiny_dataset, tmp_path / "out", "--no-cache")  # the way round it, same numbers
        assert uncached.code == 0, uncached.stderr
    assert (tmp_path / "out" / "run.json").read_bytes() == (tmp_path / "baseline" / "run.json").read_bytes()


def _train(tiny: Path, out: Path, *extra: object):
    return run_cli(["train", "--data-dir", tiny, "--output-dir", out, "--steps", "3", "--batch-size", "6",
                    "--threads", "1", "--no-progress", *extra])


def test_train_checks_its_output_folder_before_it_trains(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    import gcl_bench.train.loop as loop

    def must_not_load(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("training data was read before the output folder was checked")

    monkeypatch.setattr(loop, "load_triplets", must_not_load)
    target = tmp_path / "plain"
    target.write_text("x")
    expect_error(_train(tiny_dataset, target), str(target), "--output-dir is a file")
    with read_only_folder(tmp_path / "locked"):
        expect_error(_train(tiny_dataset, tmp_path / "locked" / "run"), str(tmp_path / "locked"), "not writable")


def test_a_full_disk_during_training_keeps_the_last_good_checkpoint(tiny_dataset: Path, tmp_path: Path) -> None:
    import torch

    out = tmp_path / "run"
    checkpoints = out / "checkpoints"
    checkpoints.mkdir(parents=True)
    with disk_full_under(checkpoints, allowed=2) as failed:  # step 1: step_1 and latest; then full
        line = expect_error(_train(tiny_dataset, out, "--save-every", "1"), NO_SPACE)
    assert failed and str(checkpoints / "step_0000002.pt") in line
    assert f"{checkpoints / 'latest.pt'} (step 1) is kept" in line
    state = torch.load(checkpoints / "latest.pt", map_location="cpu", weights_only=True)
    assert state["position"]["step"] == 1
    assert sorted(p.name for p in checkpoints.iterdir()) == ["latest.pt", "step_0000001.pt"]


@pytest.mark.parametrize("command", ["leaderboard", "evaluate"])
def test_a_table_or_scores_written_over_a_file_of_an_output_set(tiny_dataset: Path, tmp_path: Path,
                                                                 command: str) -> None:
    out = tmp_path / "out"
    assert _run(tiny_dataset, out).code == 0
    before = _snapshot(out)
    if command == "leaderboard":
        args = ["leaderboard", out, "--out", out / "results.json"]
        option = "--out"
    else:
        gt = tiny_dataset / "query_1_product_id_1_gt_test.json"
        args = ["evaluate", "--qrels", gt, "--run", out / "run.json", "--per-query", out / "per_query.csv"]
        option = "--per-query"
    line = expect_error(run_cli(args), option)
    assert "would overwrite a file of the output set" in line
    assert _snapshot(out) == before
