"""Options that are nonsense are refused naming the option; options that would do nothing say so.

Numeric options of every command are checked before any work (``--top-k 0``, ``--num-workers -1``,
``--context-length 0``, ``--lr inf``...). ``--image-root`` under which no image is found is an
error for a model that weights images (the result would be titles-only under its name) and a
warning for a model that reads none; ``--weight-column`` with a gt file, or naming a column the
CSV lacks, is a warning or an error.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from faults.harness import expect_error, leftovers, run_cli
from faults.inputs import CSV, GT, SPLIT, baseline, results, run_split, warnings_of, write_plugin
from gcl_bench.results.facts import facts


@pytest.mark.parametrize(("option", "value"), [
    ("--top-k", "0"), ("--top-k", "-5"), ("--batch-size", "0"), ("--num-workers", "-1"),
    ("--context-length", "0"), ("--top-k", "ten"), ("--batch-size", "1.5"),
])
def test_run_refuses_numeric_options_out_of_range(tiny_dataset: Path, tmp_path: Path, option: str, value: str) -> None:
    line = expect_error(run_split(tiny_dataset, tmp_path / "out", option, value), option)
    assert value in line
    assert not (tmp_path / "out").exists()


def test_evaluate_refuses_top_k_zero(tmp_path: Path) -> None:
    (tmp_path / "q.json").write_text('{"q": {"d": 1}}')
    (tmp_path / "r.json").write_text('{"q": {"d": 1.0}}')
    result = run_cli(["evaluate", "--qrels", tmp_path / "q.json", "--run", tmp_path / "r.json", "--top-k", "0"])
    expect_error(result, "--top-k")


@pytest.mark.parametrize(("option", "value"), [
    ("--lr", "inf"), ("--lr", "nan"), ("--lr", "0"), ("--grad-clip", "-1"), ("--weight-decay", "-0.1"),
    ("--workers", "-1"), ("--threads", "0"), ("--batch-size", "0"), ("--epochs", "inf"), ("--steps", "0"),
])
def test_train_refuses_numeric_options_before_training(tmp_path: Path, option: str, value: str) -> None:
    out = tmp_path / "train_out"
    result = run_cli(["train", "--steps" if option != "--steps" else "--batch-size", "1" if option != "--steps" else "4",
                      option, value, "-o", out, "--no-progress"])
    expect_error(result, option)
    assert not list(out.rglob("*.pt")) and leftovers(tmp_path) == []


def test_image_root_without_images_is_an_error_for_an_image_model(tiny_dataset: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no_images"
    empty.mkdir()
    line = expect_error(run_split(tiny_dataset, tmp_path / "out", "--image-root", empty, model="sample-gcl"),
                        "corpus_2.json", str(empty), "--doc-fields title:1")
    assert "titles-only" in line
    assert not (tmp_path / "out").exists()


def test_image_root_is_reported_unused_by_a_text_model(tiny_dataset: Path, tmp_path: Path) -> None:
    clean = baseline(tiny_dataset, tmp_path)
    result = run_split(tiny_dataset, tmp_path / "out", "--image-root", tiny_dataset)
    assert result.code == 0, result.stderr
    assert any(w.startswith("warning:") and "--image-root is not used" in w for w in warnings_of(result))
    assert results(tmp_path / "out")["metrics"] == clean


def test_weight_column_the_csv_lacks_is_an_error(tiny_dataset: Path, tmp_path: Path) -> None:
    (tiny_dataset / GT).unlink()
    line = expect_error(run_split(tiny_dataset, tmp_path / "out", "--weight-column", "score_linaer"), CSV, "score_linaer")
    assert "--weight-column" in line and "'none'" in line


def test_weight_column_none_grades_every_judgement_1(tiny_dataset: Path, tmp_path: Path) -> None:
    (tiny_dataset / GT).unlink()
    result = run_split(tiny_dataset, tmp_path / "out", "--weight-column", "none")
    assert result.code == 0, result.stderr
    assert any("every judgement has grade 1" in fact.text for fact in facts(results(tmp_path / "out")))


def test_weight_column_beside_a_gt_file_is_reported_unused(tiny_dataset: Path, tmp_path: Path) -> None:
    result = run_split(tiny_dataset, tmp_path / "out", "--weight-column", "score_reciprocal")
    assert result.code == 0, result.stderr
    assert any("--weight-column score_reciprocal is not used" in w and GT in w for w in warnings_of(result))


def test_index_recall_with_the_exact_index_is_noted(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(["run", "--model", "examples/custom_encoder.py:HashingEncoder", "--split", SPLIT,
                      "--data-dir", tiny_dataset, "--output-dir", out, "--index-recall"])  # notes: not --quiet
    assert result.code == 0, result.stderr
    assert any(w.startswith("note:") and "--index-recall" in w for w in warnings_of(result))


def test_bad_option_value_is_one_line_for_every_command(tmp_path: Path) -> None:
    expect_error(run_cli(["leaderboard", tmp_path, "--permutations", "0"]), "--permutations")
    expect_error(run_cli(["sample", "--out", tmp_path / "s", "--products", "many"]), "--products")
    expect_error(run_cli(["run"]), "--model")


@pytest.mark.parametrize(("option", "value"), [("--doc-fields", "image:1"), ("--context-length", "16"),
                                               ("--pretrained", "weights.pt")])
def test_options_a_lexical_model_cannot_take_are_refused(tiny_dataset: Path, tmp_path: Path, option: str, value: str) -> None:
    expect_error(run_split(tiny_dataset, tmp_path / "out", option, value), "bm25", option.lstrip("-"))


def test_index_options_a_lexical_model_ignores_are_reported(tiny_dataset: Path, tmp_path: Path) -> None:
    result = run_split(tiny_dataset, tmp_path / "out", "--index", "hnsw", "--dtype", "float16")
    assert result.code == 0, result.stderr
    printed = warnings_of(result)
    assert any("--index hnsw is not used" in w for w in printed)
    assert any("--dtype float16 is not used" in w for w in printed)


def test_top_k_past_the_corpus_retrieves_the_whole_corpus(tiny_dataset: Path, tmp_path: Path) -> None:
    """A huge --top-k is not a memory error: past the corpus size there is nothing more to retrieve."""
    spec = write_plugin(tmp_path)
    huge = run_split(tiny_dataset, tmp_path / "huge", "--top-k", str(10**12), model=spec)
    assert huge.code == 0 and huge.exception is None, huge.stderr
    whole = run_split(tiny_dataset, tmp_path / "whole", "--top-k", "30", model=spec)  # the corpus has 30 documents
    assert whole.code == 0, whole.stderr
    assert results(tmp_path / "huge")["metrics"] == results(tmp_path / "whole")["metrics"]
