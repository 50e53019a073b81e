"""The output folder of a run is one unit: no file of an earlier run survives beside a new set, an
interrupted write leaves no mixed set, and every reader checks the files it takes from a set."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from faults.harness import expect_error, leftovers, run_cli

PLUGINS = Path(__file__).with_name("plugin_models.py")
HASH_MODEL = f"{PLUGINS}:HashEncoder"


def _run(tiny: Path, out: Path, *extra: object, model: str = "bm25", split: str = "zero_shot"):
    return run_cli(["run", "--model", model, "--split", split, "--data-dir", tiny, "--output-dir", out, *extra])


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def _set_is_whole(out: Path) -> None:
    """results.json lists exactly the set's other files, with their sizes and hashes."""
    import hashlib

    files = _results(out)["files"]
    present = {p.name for p in out.iterdir() if p.name != "results.json"}
    assert present == set(files), (present, files)
    for name, record in files.items():
        data = (out / name).read_bytes()
        assert record == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _evaluate(tiny: Path, run_file: Path, *extra: object):
    gt = tiny / "query_1_product_id_1_gt_test.json"
    return run_cli(["evaluate", "--qrels", gt, "--run", run_file, "--metrics", "ndcg@10,err", *extra])


def test_another_model_into_the_same_folder_leaves_no_file_of_the_first(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(tiny_dataset, out, "--trec", "-q").code == 0
    assert {"run.trec", "run.trec.qids.json"} <= {p.name for p in out.iterdir()}
    second = _run(tiny_dataset, out, "-q", "--no-cache", model=HASH_MODEL)
    assert second.code == 0, second.stderr
    assert sorted(p.name for p in out.iterdir()) == ["per_query.csv", "results.json", "run.json"]
    _set_is_whole(out)
    assert _results(out)["model"]["spec"] == HASH_MODEL
    rescored = _evaluate(tiny_dataset, out / "run.json", "--output", tmp_path / "again.json")
    assert rescored.code == 0, rescored.stderr
    again = json.loads((tmp_path / "again.json").read_text())["metrics"]
    assert again["ndcg@10"] == pytest.approx(_results(out)["metrics"]["ndcg@10"], abs=1e-12)


def test_leftovers_of_an_interrupted_write_are_removed_by_the_next(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in (".run.json.dead0001.tmp", ".results.json.dead0002.tmp", ".run.trec.dead0003.tmp"):
        (out / name).write_text("half")
    (out / "notes.txt").write_text("mine")  # not gcl-bench's: kept
    assert _run(tiny_dataset, out, "-q").code == 0
    assert leftovers(out) == []
    assert (out / "notes.txt").read_text() == "mine"


def test_a_kill_during_the_renames_leaves_no_results_file_beside_other_files(tiny_dataset: Path, tmp_path: Path) -> None:
    """kill -9 after the first rename of a new set: no results.json claims the mixed files; the next run
    cleans up and writes a whole set."""
    out = tmp_path / "out"
    assert _run(tiny_dataset, out, "--trec", "-q").code == 0
    old_results = (out / "results.json").read_bytes()
    script = (
        "import os, sys\n"
        "import gcl_bench.results.sets as sets\n"
        "real = os.replace\n"
        "def replace(src, dst):\n"
        "    real(src, dst)\n"
        f"    if os.path.dirname(dst) == {str(out)!r}:\n"  # not numba's cache, which renames too
        "        os._exit(9)\n"
        "sets.os.replace = replace\n"
        "from gcl_bench.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    killed = subprocess.run(
        [sys.executable, "-c", script, "run", "--model", HASH_MODEL, "--split", "zero_shot", "--data-dir",
         str(tiny_dataset), "--output-dir", str(out), "--no-cache", "-q"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert killed.returncode == 9, killed.stderr
    assert not (out / "results.json").exists()  # the old one went first, the new one never came
    assert leftovers(out)  # the kill left temporary files
    assert old_results  # the old set was complete before
    board = run_cli(["leaderboard", out])
    expect_error(board, str(out), "no results.json")
    assert _run(tiny_dataset, out, "-q").code == 0
    assert leftovers(out) == []
    _set_is_whole(out)


@pytest.mark.parametrize("name", ["run.json", "run.trec"])
def test_a_file_changed_after_the_run_is_refused_by_evaluate(tiny_dataset: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    assert _run(tiny_dataset, out, "--trec", "-q").code == 0
    path = out / name
    path.write_bytes(path.read_bytes().replace(b"1", b"2", 1))
    line = expect_error(_evaluate(tiny_dataset, path), str(path), "results.json")
    assert "not the file" in line


def test_a_file_the_set_does_not_list_is_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    """A run.trec copied in beside a set written without --trec (what an older gcl-bench left)."""
    with_trec, out = tmp_path / "with_trec", tmp_path / "out"
    assert _run(tiny_dataset, with_trec, "--trec", "-q").code == 0
    assert _run(tiny_dataset, out, "-q").code == 0
    shutil.copy(with_trec / "run.trec", out / "run.trec")
    line = expect_error(_evaluate(tiny_dataset, out / "run.trec"), str(out / "run.trec"))
    assert "not part of the output set" in line


def test_a_changed_per_query_file_is_refused_by_the_leaderboard(tiny_dataset: Path, tmp_path: Path) -> None:
    assert _run(tiny_dataset, tmp_path / "runs" / "bm25", "-q").code == 0
    assert _run(tiny_dataset, tmp_path / "runs" / "hash", "-q", "--no-cache", model=HASH_MODEL).code == 0
    per_query = tmp_path / "runs" / "hash" / "per_query.csv"
    per_query.write_text(per_query.read_text() + "\n")
    board = run_cli(["leaderboard", tmp_path / "runs", "--baseline", "bm25", "--metrics", "ndcg@10"])
    expect_error(board, str(per_query), "results.json")


def test_a_copied_folder_is_still_a_whole_set(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(tiny_dataset, out, "--trec", "-q").code == 0
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(out, copy)
    for name in ("run.json", "run.trec"):
        result = _evaluate(tiny_dataset, copy / name)
        assert result.code == 0, result.stderr
    assert run_cli(["leaderboard", copy]).code == 0


def test_runs_of_other_splits_into_one_folder_replace_the_earlier_sets(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(tiny_dataset, out, "-q").code == 0  # one split: the set is in out/
    several = _run(tiny_dataset, out, split="in_domain,zero_shot")
    assert several.code == 0, several.stderr
    assert f"removed the results an earlier run left in {out}" in several.stderr.replace("\n", "")
    assert sorted(p.name for p in out.iterdir()) == ["in_domain", "zero_shot"]
    for split in ("in_domain", "zero_shot"):
        _set_is_whole(out / split)
    (out / "in_domain" / "mine.txt").write_text("kept")
    assert _run(tiny_dataset, out, "-q", split="novel_query").code == 0  # one split again
    assert sorted(p.name for p in out.iterdir()) == ["in_domain", "per_query.csv", "results.json", "run.json"]
    assert sorted(p.name for p in (out / "in_domain").iterdir()) == ["mine.txt"]  # only gcl-bench's files go
    assert not (out / "zero_shot").exists()
    boards = run_cli(["leaderboard", out])
    assert boards.code == 0 and "novel" in boards.stdout.lower()


def test_an_output_folder_that_is_a_symbolic_link(tiny_dataset: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    for _ in range(2):
        assert _run(tiny_dataset, link, "-q").code == 0
    assert link.is_symlink() and (real / "results.json").is_file()
    _set_is_whole(real)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone", target_is_directory=True)
    expect_error(_run(tiny_dataset, dangling, "-q"), str(dangling), "symbolic link")


def test_two_writers_of_one_folder_take_turns(tmp_path: Path) -> None:
    """Writers of the same folder at the same time: the folder always ends as one writer's whole set."""
    from gcl_bench.results import write_outputs

    out = tmp_path / "out"
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            for i in range(15):
                marker = f"{tag}-{i}"
                trec = ("q0 Q0 d 1 1.0 x\n", {"q0": marker}) if i % 2 else None
                write_outputs(out, {"marker": marker}, {marker: {"d": 1.0}}, f"query_id,m\n{marker},1.0\n", trec)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    _set_is_whole(out)
    marker = _results(out)["marker"]
    assert list(json.loads((out / "run.json").read_text())) == [marker]
    assert leftovers(out) == []


def test_ctrl_c_during_the_renames_finishes_the_set_first(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    import gcl_bench.results.sets as sets

    out = tmp_path / "out"
    assert _run(tiny_dataset, out, "--trec", "-q").code == 0
    real_replace = os.replace
    calls = []

    def replace_with_ctrl_c(src, dst):  # noqa: ANN001, ANN202 - os.replace's signature
        if Path(dst).parent == out:  # os is shared: other writers (numba's cache) rename too
            calls.append(dst)
            if len(calls) == 1:
                signal.raise_signal(signal.SIGINT)
        real_replace(src, dst)

    monkeypatch.setattr(sets.os, "replace", replace_with_ctrl_c)
    # Python leaves SIGINT ignored when started in the background: install its usual handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = _run(tiny_dataset, out, "-q", "--no-cache", model=HASH_MODEL)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.code == 130 and result.error_lines == ["aborted"], result.stderr
    assert len(calls) == 3  # run.json, per_query.csv, results.json: all renamed before the interrupt
    _set_is_whole(out)
    assert _results(out)["model"]["spec"] == HASH_MODEL
    assert leftovers(out) == []


STAGES = ["load_stage", "lexical_retrieve", "score_stage", "write_outputs"]


@pytest.mark.parametrize("stage", STAGES)
def test_ctrl_c_at_each_stage_keeps_the_previous_set(tiny_dataset: Path, tmp_path: Path, monkeypatch, stage: str) -> None:
    import gcl_bench.io
    import gcl_bench.runner as runner

    out = tmp_path / "out"
    assert _run(tiny_dataset, out, "-q").code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupt(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise KeyboardInterrupt

    if stage == "write_outputs":  # while the new files are being staged
        real_stage = gcl_bench.io.stage_file
        staged = []

        def stage_then_interrupt(folder, name, data):  # noqa: ANN001, ANN202
            staged.append(real_stage(folder, name, data))
            if len(staged) == 2:
                raise KeyboardInterrupt
            return staged[-1]

        import gcl_bench.results.sets as sets

        monkeypatch.setattr(sets, "stage_file", stage_then_interrupt)
    else:
        monkeypatch.setattr(runner, stage, interrupt)
    result = _run(tiny_dataset, out, "-q", "--trec")
    assert result.code == 130 and result.error_lines == ["aborted"], result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(out) == []


def test_ctrl_c_while_encoding_then_a_clean_resume(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C in the middle of the encode stage: nothing half-written in the cache, and the next run's
    numbers are the clean run's."""
    from gcl_bench.encode import stage

    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "cache"))
    clean = _run(tiny_dataset, tmp_path / "clean", "-q", "--no-cache", model=HASH_MODEL)
    assert clean.code == 0, clean.stderr
    real = stage._encode_missing_shards
    calls = []

    def interrupt_the_second_job(job, rank, world, progress):  # noqa: ANN001, ANN202
        calls.append(job.label)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(job, rank, world, progress)

    monkeypatch.setattr(stage, "_encode_missing_shards", interrupt_the_second_job)
    result = _run(tiny_dataset, tmp_path / "out", "-q", model=HASH_MODEL)
    assert result.code == 130 and result.error_lines == ["aborted"]
    assert not (tmp_path / "out").exists() and leftovers(tmp_path / "cache") == []
    monkeypatch.setattr(stage, "_encode_missing_shards", real)
    resumed = _run(tiny_dataset, tmp_path / "out", "-q", model=HASH_MODEL)
    assert resumed.code == 0, resumed.stderr
    assert (tmp_path / "out" / "run.json").read_bytes() == (tmp_path / "clean" / "run.json").read_bytes()
    assert _results(tmp_path / "out")["cache"]["embeddings"]["items_encoded"] > 0  # only the missing part
