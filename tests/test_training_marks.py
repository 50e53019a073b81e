"""What a model was trained on: the per-split rule, the records of the registry and of plug-ins,
results.json's ``training_overlap``, and the dagger leaderboards put on rows that are not zero-shot."""
from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

import pytest
from faults.harness import expect_error, run_cli

from gcl_bench.errors import GclBenchError
from gcl_bench.models import get_model_info
from gcl_bench.models.training import check_training_record, training_overlap

GS_FULL = {"format": "marqo_gs", "subset": "marqo_gs_full_10m"}
TRAINED_IN_DOMAIN = {"datasets": {"marqo-gs-10m": ["in_domain"]}}


@pytest.mark.parametrize(("split", "queries", "documents"), [
    # DESIGN §2: in_domain = training queries x corpus_1, novel_query = novel queries x corpus_1,
    # novel_document = training queries x corpus_2, zero_shot = novel queries x corpus_2
    ("in_domain", True, True),
    ("novel_query", False, True),
    ("novel_document", True, False),
    ("zero_shot", False, False),
])
def test_a_model_trained_on_gs_full_is_zero_shot_only_on_zero_shot(split: str, queries: bool, documents: bool) -> None:
    for dataset in (GS_FULL, {"format": "marqo_gs", "subset": "marqo_gs_fashion_5m"}, {"format": "hf_parquet"}):
        got = training_overlap(TRAINED_IN_DOMAIN, dataset, split)
        assert (got["queries_seen"], got["documents_seen"]) == (queries, documents)
        assert got["status"] == ("seen" if queries or documents else "unseen") and got["benchmark"] == "marqo-gs-10m"


def test_records_that_say_nothing_or_another_benchmark() -> None:
    assert training_overlap({"datasets": {}}, GS_FULL, "in_domain")["status"] == "unseen"
    assert training_overlap({"datasets": {"gcl-bench-sample": ["in_domain"]}}, GS_FULL, "in_domain")["status"] == "unseen"
    undeclared = training_overlap(None, GS_FULL, "in_domain")
    assert undeclared["status"] == "unknown" and undeclared["declared"] is False
    other = training_overlap(TRAINED_IN_DOMAIN, {"format": "beir"}, "in_domain")
    assert other["status"] == "unknown" and other["declared"] is True
    # a model trained on the novel query split (query set 1, corpus_1) saw zero_shot's queries
    assert training_overlap({"datasets": {"marqo-gs-10m": ["novel_query"]}}, GS_FULL, "zero_shot")["queries_seen"]


def test_bad_records_are_one_clear_error() -> None:
    assert check_training_record("LAION-2B", "m")["datasets"] is None
    assert check_training_record({"datasets": {"marqo-gs-10m": ["novel-corpus"]}}, "m")["datasets"] == {
        "marqo-gs-10m": ["novel_document"]}
    for bad, what in ((["x"], "mapping or a string"), ({"datasets": {"msmarco": ["train"]}}, "'msmarco'"),
                      ({"datasets": {"marqo-gs-10m": ["train"]}}, "unknown split"),
                      ({"datasets": {"marqo-gs-10m": "in_domain"}}, "list of split names")):
        with pytest.raises(GclBenchError, match=what) as err:
            check_training_record(bad, "my-model")
        assert str(err.value).startswith("my-model: ") and "\n" not in str(err.value)


def test_every_registry_entry_says_what_it_was_trained_on() -> None:
    from gcl_bench.models.catalog import BUILTIN_MODELS

    for name in (row["name"] for row in BUILTIN_MODELS):
        info = get_model_info(name)
        assert check_training_record(info.training_data, name) == info.training_data, name
        assert info.training_data is not None and info.training_data.get("description"), name
    gcl = get_model_info("gcl-vitb32").training_data["datasets"]
    assert gcl == {"marqo-gs-10m": ["in_domain"]} and get_model_info("clip-vitb32-openai").training_data["datasets"] == {}
    assert get_model_info("marqo-ecommerce-b").training_data["datasets"] is None  # the card does not say


PLUGIN = """
    import sys
    sys.path.insert(0, {examples!r})
    from custom_encoder import HashingEncoder


    class TrainedOnSample(HashingEncoder):
        training_data = {{"datasets": {{"gcl-bench-sample": ["in_domain"]}}, "description": "the sample's in_domain triplets"}}

        def __init__(self):
            super().__init__(dim=64)
            self.name = "trained-plugin"


    class NothingOfTheBenchmarks(HashingEncoder):
        training_data = {{"datasets": {{}}, "description": "web pairs"}}

        def __init__(self):
            super().__init__(dim=64)
            self.name = "web-plugin"


    class Undeclared(HashingEncoder):
        def __init__(self):
            super().__init__(dim=64)
            self.name = "undeclared-plugin"


    class Malformed(HashingEncoder):
        training_data = {{"datasets": {{"marqo-gs-10m": ["everything"]}}}}
"""


@pytest.fixture(scope="module")
def marked_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three plug-ins (the same encoder, so its embeddings are cached once) on the bundled sample:
    one trained on its in_domain split (all four splits), one on nothing of it, one that does not say."""
    root = tmp_path_factory.mktemp("marks")
    examples = str(Path(__file__).resolve().parents[1] / "examples")
    (root / "plugins.py").write_text(textwrap.dedent(PLUGIN.format(examples=examples)))
    for cls, name, splits in (("TrainedOnSample", "trained", "all"), ("NothingOfTheBenchmarks", "web", "in_domain"),
                              ("Undeclared", "undeclared", "zero_shot")):
        result = run_cli(["run", "--model", f"{root / 'plugins.py'}:{cls}", "--split", splits,
                          "--output-dir", root / "results" / name, "--quiet"])
        assert result.code == 0, result.stderr
    return root


def test_results_carry_the_record_and_the_verdict(marked_results: Path) -> None:
    results = marked_results / "results"
    trained = json.loads((results / "trained" / "novel_query" / "results.json").read_text())
    assert trained["model"]["training_data"]["datasets"] == {"gcl-bench-sample": ["in_domain"]}
    assert trained["training_overlap"]["status"] == "seen" and trained["training_overlap"]["documents_seen"] is True
    zero_shot = json.loads((results / "trained" / "zero_shot" / "results.json").read_text())
    assert zero_shot["training_overlap"]["status"] == "unseen"
    web = json.loads((results / "web" / "results.json").read_text())
    assert web["training_overlap"]["status"] == "unseen"
    undeclared = json.loads((results / "undeclared" / "results.json").read_text())
    assert undeclared["model"]["training_data"] is None and undeclared["training_overlap"]["status"] == "unknown"


def test_leaderboard_marks_rows_that_are_not_zero_shot(marked_results: Path) -> None:
    results = marked_results / "results"
    result = run_cli(["leaderboard", results, "--baseline", "web-plugin"])
    assert result.code == 0, result.stderr
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("| ")}
    assert set(rows) >= {"trained-plugin \u2020", "web-plugin (baseline)", "undeclared-plugin"}
    assert ("\u2020: not zero-shot: the model saw the queries or documents of these splits in training: "
            "In-domain, Novel query, Novel document (trained-plugin).") in result.stdout
    assert "Training data not declared (whether they saw these queries or documents is not known): " \
           "undeclared-plugin." in result.stdout
    only_zero_shot = run_cli(["leaderboard", results, "--splits", "zero_shot"])
    assert only_zero_shot.code == 0 and "\u2020" not in only_zero_shot.stdout
    latex = run_cli(["leaderboard", results, "--format", "latex"])
    assert "trained-plugin$^\\dagger$ &" in latex.stdout and "$^\\dagger$: not zero-shot" in latex.stdout
    table = list(csv.DictReader(io.StringIO(run_cli(["leaderboard", results, "--format", "csv"]).stdout)))
    seen = {(r["model"], r["split"]): r["seen_in_training"] for r in table}
    assert seen[("trained-plugin", "novel_document")] == "true" and seen[("trained-plugin", "zero_shot")] == "false"
    assert seen[("web-plugin", "in_domain")] == "false" and seen[("undeclared-plugin", "zero_shot")] == ""


def test_bm25_declares_no_training() -> None:
    from gcl_bench.models import describe_model, load_model

    record = describe_model(load_model("bm25"), "bm25")["training_data"]
    assert record["datasets"] == {} and training_overlap(record, GS_FULL, "in_domain")["status"] == "unseen"


def test_a_malformed_plugin_record_is_one_line(marked_results: Path, tmp_path: Path) -> None:
    result = run_cli(["run", "--model", f"{marked_results / 'plugins.py'}:Malformed", "--split", "zero_shot",
                      "--output-dir", tmp_path / "out"])
    expect_error(result, "training_data", "everything")
    assert not (tmp_path / "out").exists()


def test_random_init_and_pretrained_tags_saw_nothing_of_the_benchmarks() -> None:
    from gcl_bench.models import load_model

    random_init = load_model("open_clip:gcl-tiny", device="cpu")
    assert random_init.training_data["datasets"] == {} and "random" in random_init.training_data["description"]
    assert training_overlap(random_init.training_data, GS_FULL, "in_domain")["status"] == "unseen"
