"""leaderboards/sample.md is what its commands produce: the table matches the kept results, and
re-running the BM25 row on one split gives the same numbers."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from gcl_bench.cli import main

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "leaderboards" / "sample.md"



def _script():
    spec = importlib.util.spec_from_file_location("make_sample_leaderboard", REPO / "examples" / "make_sample_leaderboard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_matches_the_kept_results() -> None:
    script = _script()
    models = script.kept_models()
    assert models, "leaderboards/sample.md exists but leaderboards/sample/ holds no results"
    table = script.render_table(models)
    assert table in PAGE.read_text(), "sample.md is stale: run python examples/make_sample_leaderboard.py --skip-run"
    for _, spec, _extra in models:
        assert spec in PAGE.read_text()


def test_bm25_row_reproduces(tmp_path: Path, sample_dir: Path) -> None:
    kept = json.loads((REPO / "leaderboards" / "sample" / "bm25" / "zero_shot" / "results.json").read_text())
    out = tmp_path / "bm25"
    try:
        main(["run", "--model", "bm25", "--split", "zero_shot", "--output-dir", str(out), "--quiet"])
    except SystemExit as exit_info:  # main() exits only on failure
        assert exit_info.code in (0, None)
    fresh = json.loads((out / "results.json").read_text())
    stale = "the bundled sample changed since sample.md was made: run python examples/make_sample_leaderboard.py"
    assert fresh["num_queries"] == kept["num_queries"], stale
    assert fresh["dataset"].get("num_judgements") == kept["dataset"].get("num_judgements"), stale
    zero_shot = PAGE.read_text().split("#### Zero-shot", 1)[1]
    row = next(line for line in zero_shot.splitlines() if line.startswith("| bm25 "))
    cells = [c.strip().strip("*").rstrip("\u2191\u2193").strip("*") for c in row.strip("|").split("|")[1:]]
    shown = dict(zip(("ndcg@10", "err", "rbp@0.9"), cells, strict=True))  # the zero-shot table
    for metric, text in shown.items():
        assert f"{fresh['metrics'][metric]:.3f}" == text
        assert fresh["metrics"][metric] == pytest.approx(kept["metrics"][metric], abs=1e-12), stale


def test_paper_table_example_prints_what_the_command_prints() -> None:
    from gcl_bench import leaderboard as lb

    text = (REPO / "examples" / "paper_table.md").read_text()
    command = ("--format latex --baseline bm25 --label\nleaderboards/sample/clip-random-init=clip-random-init "
               "--splits in_domain,zero_shot")
    assert command in text
    shown = text.split(command, 1)[1].split("```latex\n", 1)[1].split("```", 1)[0]
    printed = lb.leaderboard(
        [REPO / "leaderboards" / "sample"], fmt="latex", baseline="bm25", splits=["in_domain", "zero_shot"],
        labels={str(REPO / "leaderboards" / "sample" / "clip-random-init"): "clip-random-init"},
    )
    assert shown == printed, "examples/paper_table.md is stale: paste the command's output again"
