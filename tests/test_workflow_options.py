"""The options a researcher brings from BEIR/MTEB/trec tools: --name, --similarity, --top-q,
--judged-top-k, -q on every command, -o for outputs (old spellings hidden but working), and the
Python API writing where the command line does."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcl_bench.cli import COMMANDS, cli
from tests.faults.harness import expect_error, run_cli

SCALED_ENCODER = """
import numpy as np


class ScaledEncoder:
    # hashing vectors scaled by the text length: cosine and dot product rank differently

    def _rows(self, texts):
        rows = []
        for text in texts:
            rng = np.random.default_rng(sum(map(ord, text)))
            rows.append(rng.random(16) * (1 + len(text)))
        return np.asarray(rows, dtype=np.float32)

    def encode_queries(self, queries, batch_size, **kw):
        return self._rows([q["text"] for q in queries])

    def encode_corpus(self, corpus, batch_size, **kw):
        return self._rows([d["title"] or "" for d in corpus])
"""


def help_text(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def read_results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


@pytest.mark.parametrize("command", [name for name in COMMANDS if name != "cache"] + ["cache info", "cache clear"])
def test_every_command_has_quiet(command: str) -> None:
    text = help_text(*command.split())
    assert "-q, --quiet" in text


@pytest.mark.parametrize(("command", "shown", "hidden"), [
    ("run", "-o, --output-dir", None),
    ("train", "-o, --output-dir", None),
    ("sample", "-o, --output-dir", "--out"),
    ("download", "-o, --output-dir", "--to"),
    ("evaluate", "-o, --output", None),
    ("leaderboard", "-o, --output", "--out"),
])
def test_one_spelling_for_outputs(command: str, shown: str, hidden: str | None) -> None:
    text = help_text(command)
    assert shown in text
    if hidden is not None:
        assert f"{hidden} " not in text and f"{hidden}\n" not in text  # still accepted, not listed


def test_sample_accepts_both_spellings(tmp_path: Path) -> None:
    args = ["--products", "40", "--queries", "10", "--image-size", "8"]
    new = run_cli(["sample", "-o", tmp_path / "new", *args, "-q"])
    old = run_cli(["sample", "--out", tmp_path / "old", *args, "-q"])
    assert new.code == old.code == 0, new.stderr + old.stderr
    assert new.stdout.strip() == str(tmp_path / "new") and old.stdout.strip() == str(tmp_path / "old")
    assert (tmp_path / "new" / "corpus_1.json").read_bytes() == (tmp_path / "old" / "corpus_1.json").read_bytes()
    missing = run_cli(["sample", *args])
    assert missing.code == 2 and "Missing option --output-dir / -o" in missing.stderr
    clash = run_cli(["sample", "-o", tmp_path / "a", "--out", tmp_path / "b", *args])
    assert clash.code == 2 and "--out is another spelling of --output-dir" in clash.stderr


def test_leaderboard_accepts_both_spellings(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "bm25"
    assert run_cli(["run", "--model", "bm25", "--split", "zero_shot", "-q", "-o", out]).code == 0
    new = run_cli(["leaderboard", tmp_path / "runs", "-o", tmp_path / "new.md", "-q"])
    old = run_cli(["leaderboard", tmp_path / "runs", "--out", tmp_path / "old.md"])
    assert new.code == old.code == 0
    assert new.stderr == "" and "wrote" in old.stderr
    assert (tmp_path / "new.md").read_text() == (tmp_path / "old.md").read_text()


def test_name_labels_results_folder_and_leaderboard_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli(["run", "--model", "bm25", "--split", "zero_shot", "-q", "--name", "bm25-k1.5"]).code == 0
    assert run_cli(["run", "--model", "bm25", "--split", "zero_shot", "-q", "--name", "bm25 plain"]).code == 0
    first = read_results(tmp_path / "results" / "sample" / "zero_shot" / "bm25-k1.5")
    assert first["model"]["name"] == "bm25-k1.5" and first["model"]["model_name"] == "bm25"
    assert (tmp_path / "results" / "sample" / "zero_shot" / "bm25-plain" / "results.json").is_file()
    table = run_cli(["leaderboard", tmp_path / "results", "--format", "csv"])
    assert table.code == 0 and "bm25-k1.5" in table.stdout and "bm25 plain" in table.stdout


def test_similarity_overrides_a_plugin_and_is_recorded(tmp_path: Path) -> None:
    plugin = tmp_path / "scaled.py"
    plugin.write_text(SCALED_ENCODER)
    runs = {}
    for similarity in ("cos", "dot"):
        out = tmp_path / similarity
        result = run_cli(["run", "--model", f"{plugin}:ScaledEncoder", "--split", "zero_shot", "-q",
                          "--similarity", similarity, "-o", out])
        assert result.code == 0, result.stderr
        runs[similarity] = read_results(out)
    for similarity, results in runs.items():
        assert results["settings"]["similarity"] == similarity
        assert results["retrieval"]["encode"]["similarity"] == similarity
    run_dot = json.loads((tmp_path / "dot" / "run.json").read_text())
    run_cos = json.loads((tmp_path / "cos" / "run.json").read_text())
    query = next(iter(run_cos))
    assert max(run_cos[query].values()) <= 1.0 + 1e-6 and max(run_dot[query].values()) > 1.0 + 1e-3  # unnormalised


def test_similarity_is_refused_for_lexical_models() -> None:
    expect_error(run_cli(["run", "--model", "bm25", "--split", "zero_shot", "--similarity", "dot"]), "--similarity")


def test_top_q_and_judged_top_k_reach_the_sampling(tmp_path: Path) -> None:
    from gcl_bench.data.sample import write_sample

    folder = write_sample(tmp_path / "tiny", products=60, queries=24, seed=3, image_size=8)
    for gt in folder.glob("query_1_product_id_1_gt_*.json"):
        gt.unlink()  # no gt file: judgements are sampled from the CSV
    out = tmp_path / "out"
    result = run_cli(["run", "--model", "bm25", "--data-dir", folder, "--split", "zero_shot", "-q",
                      "--top-q", "3", "--judged-top-k", "2", "-o", out])
    assert result.code == 0, result.stderr
    results = read_results(out)
    assert results["settings"]["top_q"] == 3 and results["settings"]["judged_top_k"] == 2
    assert results["dataset"]["sampled"] and results["dataset"]["num_queries"] == 3
    assert results["dataset"]["num_judgements"] <= 3 * 2
    refused = run_cli(["run", "--model", "bm25", "--top-q", "0"])
    assert refused.code == 2 and "'--top-q': 0 is not in the range" in refused.stderr


def test_python_api_writes_where_the_command_line_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gcl_bench.runner import RunSettings, run_evaluation

    monkeypatch.chdir(tmp_path)
    assert run_cli(["run", "--model", "bm25", "--split", "novel_query", "-q"]).code == 0
    folder = tmp_path / "results" / "sample" / "novel_query" / "bm25"
    from_cli = (folder / "run.json").read_bytes()
    (folder / "run.json").unlink()
    results = run_evaluation(RunSettings(model="bm25", split="novel_query"))
    assert results is not None and Path(results["output_dir"]) == folder.relative_to(tmp_path)
    assert (folder / "run.json").read_bytes() == from_cli


def test_index_recall_and_the_stage_table_are_printed(tmp_path: Path) -> None:
    plugin = Path(__file__).resolve().parents[1] / "examples" / "custom_encoder.py"
    result = run_cli(["run", "--model", f"{plugin}:HashingEncoder", "--split", "zero_shot", "--index", "hnsw",
                      "--index-recall", "--top-k", "50", "-o", tmp_path / "out"])
    assert result.code == 0, result.stderr
    recall = read_results(tmp_path / "out")["retrieval"]["index_recall"]
    assert f"index hnsw: recall@50 against exact search {recall['recall']:.4f}" in result.stderr
    assert "stages (seconds)" in result.stderr and "zero_shot" in result.stderr
    assert "ndcg@10" in result.stdout  # the metrics table is the result, on stdout
    quiet = run_cli(["run", "--model", f"{plugin}:HashingEncoder", "--split", "zero_shot", "-q", "-o", tmp_path / "q"])
    # -q: the metrics table, and on stderr only the warnings (facts that change the numbers)
    assert quiet.code == 0 and "ndcg@10" in quiet.stdout
    assert quiet.stderr and all(line.startswith("  warning: ") for line in quiet.stderr.splitlines())
