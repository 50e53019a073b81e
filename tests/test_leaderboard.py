"""gcl-bench leaderboard: tables, significance marks, grouping, reported rows, plots, bad input.

Fixtures are run folders written by the runner's writer (gcl_bench.results), with per-query
values drawn at random; expected marks come from scipy and a hand-written Holm correction.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats as scipy_stats

from gcl_bench import leaderboard as lb
from gcl_bench.cli import main
from gcl_bench.errors import GclBenchError
from gcl_bench.results import RESULTS_NAME, per_query_csv, write_outputs

METRICS = ("ndcg@10", "err", "rbp@0.9")
SPLITS = ("in_domain", "novel_query", "novel_document", "zero_shot")
N_QUERIES = 40


def write_result(
    root: Path,
    model: str,
    split: str,
    per_query: dict[str, np.ndarray],
    query_ids: list[str] | None = None,
    dataset: dict | None = None,
    settings: dict | None = None,
    schema_version: int = 1,
    metrics_override: dict | None = None,
) -> Path:
    """One run folder written as the runner writes it; metric means are the per-query means."""
    folder = root / split / model.replace(":", "_")
    names = list(per_query)
    n = len(per_query[names[0]])
    query_ids = query_ids or [f"q{i:03d}" for i in range(n)]
    means = {name: float(np.mean(values)) for name, values in per_query.items()}
    curves = {
        family: {str(k): float(min(1.0, means["ndcg@10"] * (1 + np.log10(k)) / 4)) for k in (1, 5, 10, 20, 50, 100, 200, 500, 1000)}
        for family in ("ndcg", "recall")
    }
    results = {
        "schema_version": schema_version,
        "metrics": metrics_override if metrics_override is not None else means,
        "num_queries": n,
        "curves": curves,
        "model": {"name": model, "family": "test"},
        "dataset": {
            "path": "/data/marqo_gs_full_10m",
            "subset": "gs_test",
            "split": split,
            "eval_set": "test",
            "fingerprint": f"fp-{split}",
            "sampled": False,
            **(dataset or {}),
        },
        "settings": {"top_k": 1000, **(settings or {})},
    }
    write_outputs(folder, results, run={}, per_query=per_query_csv(query_ids, per_query, names))
    return folder / RESULTS_NAME


def make_runs(rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    """Per-query values: 'strong' clearly above 'base', 'weak' below it, 'same' indistinguishable."""
    base = {m: rng.uniform(0.1, 0.6, N_QUERIES) for m in METRICS}
    return {
        "base": base,
        "strong": {m: np.clip(v + rng.normal(0.15, 0.05, N_QUERIES), 0, 1) for m, v in base.items()},
        "weak": {m: np.clip(v - rng.normal(0.08, 0.05, N_QUERIES), 0, 1) for m, v in base.items()},
        "same": {m: np.clip(v + rng.normal(0.0, 0.05, N_QUERIES), 0, 1) for m, v in base.items()},
    }


@pytest.fixture()
def results_dir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    root = tmp_path / "results"
    for split in ("in_domain", "zero_shot"):
        for model, values in make_runs(rng).items():
            write_result(root, model, split, values)
    return root


def run_cli(args: list[str]) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(_Main(), args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


class _Main:
    """Adapter so CliRunner exercises gcl_bench.cli.main (one-line errors, exit 2)."""

    name = "gcl-bench"

    def main(self, args, prog_name=None, **kwargs):  # the click protocol
        main(list(args))
        return None


def _expected_marks(root: Path, split: str, metric: str) -> dict[str, tuple[float, bool]]:
    """Independent computation: scipy ttest_rel per model, Holm by hand, alpha 0.05."""
    def load(model: str) -> dict[str, float]:
        with open(root / split / model / "per_query.csv") as handle:
            return {row["query_id"]: float(row[metric]) for row in csv.DictReader(handle)}

    base = load("base")
    models = ["strong", "weak", "same"]
    p = {}
    for model in models:
        values = load(model)
        ids = sorted(base)
        p[model] = scipy_stats.ttest_rel([values[q] for q in ids], [base[q] for q in ids]).pvalue
    order = sorted(models, key=lambda m: p[m])
    adjusted, running = {}, 0.0
    for rank, model in enumerate(order):
        running = max(running, min(1.0, (len(models) - rank) * p[model]))
        adjusted[model] = running
    return {m: (adjusted[m], adjusted[m] < 0.05) for m in models}


# ------------------------------------------------------------------------------- tables


def test_significance_marks_match_scipy_and_holm(results_dir: Path) -> None:
    entries = lb.load_entries(lb.discover([results_dir]))
    (table,) = lb.build_tables(entries, baseline="base")
    assert table.splits == ["in_domain", "zero_shot"]
    rows = {r.model: r for r in table.rows}
    assert rows["base"].baseline
    for split in table.splits:
        for metric in METRICS:
            expected = _expected_marks(results_dir, split, metric)
            for model, (p_holm, significant) in expected.items():
                cell = rows[model].cells[(split, metric)]
                assert cell.p_holm == pytest.approx(p_holm, rel=1e-9)
                assert cell.significant == significant
            assert rows["strong"].cells[(split, metric)].significant
            assert rows["strong"].cells[(split, metric)].direction == 1
            assert rows["weak"].cells[(split, metric)].direction == -1
            assert rows["base"].cells[(split, metric)].p_value is None


def test_randomization_marks_use_the_stats_module(results_dir: Path) -> None:
    from gcl_bench.stats import holm, paired_randomization_test

    entries = lb.load_entries(lb.discover([results_dir]))
    (table,) = lb.build_tables(entries, baseline="base", test="randomization", permutations=2000, seed=5)
    rows = {r.model: r for r in table.rows}
    split, metric = "zero_shot", "err"
    raw = []
    for model in ("strong", "weak", "same"):
        with open(results_dir / split / model / "per_query.csv") as h:
            a = [float(r[metric]) for r in csv.DictReader(h)]
        with open(results_dir / split / "base" / "per_query.csv") as h:
            b = [float(r[metric]) for r in csv.DictReader(h)]
        raw.append(paired_randomization_test(a, b, permutations=2000, seed=5))
    for model, p_adj in zip(("strong", "weak", "same"), holm(raw), strict=True):
        assert rows[model].cells[(split, metric)].p_holm == pytest.approx(p_adj)
    text = lb.render_markdown([table])
    assert "randomisation test on per-query values (2000 random sign flips with seed 5" in text


def test_options_object_and_keywords_build_the_same_tables(results_dir: Path) -> None:
    entries = lb.load_entries(lb.discover([results_dir]))
    options = lb.TableOptions(metrics=["err", "err"], splits=["zero-shot"], baseline="base", alpha=0.01)
    (by_options,) = lb.build_tables(entries, options)
    (by_keywords,) = lb.build_tables(entries, metrics=["err"], splits=["zero_shot"], baseline="base", alpha=0.01)
    assert by_options.metrics == ["err"] and by_options.splits == ["zero_shot"]
    assert lb.render_csv([by_options]) == lb.render_csv([by_keywords])
    (overridden,) = lb.build_tables(entries, options, baseline=None)
    assert overridden.baseline is None and "No significance test (no baseline chosen)." in lb.render_markdown([overridden])
    with pytest.raises(GclBenchError, match="alpha must be between 0 and 1"):
        lb.build_tables(entries, options, alpha=1.5)
    with pytest.raises(TypeError):
        lb.build_tables(entries, basline="base")


def test_bold_marks_the_best_per_column_including_ties(tmp_path: Path) -> None:
    q = 4
    write_result(tmp_path, "a", "in_domain", {"ndcg@10": np.full(q, 0.5), "err": np.full(q, 0.2)})
    write_result(tmp_path, "b", "in_domain", {"ndcg@10": np.full(q, 0.4), "err": np.full(q, 0.3)})
    write_result(tmp_path, "c", "in_domain", {"ndcg@10": np.full(q, 0.5001), "err": np.full(q, 0.1)})
    (table,) = lb.build_tables(lb.load_entries(lb.discover([tmp_path])), metrics=["ndcg@10", "err"])
    bold = {(r.model, m): r.cells[("in_domain", m)].bold for r in table.rows for m in ("ndcg@10", "err")}
    # 0.500 and 0.5001 both print as 0.500: both bold, as a reader would expect
    assert bold == {("a", "ndcg@10"): True, ("b", "ndcg@10"): False, ("c", "ndcg@10"): True,
                    ("a", "err"): False, ("b", "err"): True, ("c", "err"): False}
    md = re.sub(r" +", " ", lb.render_markdown([table]))  # columns are padded to one width
    assert "| b | 0.400 | **0.300** |" in md


def headings_of(markdown: str) -> int:
    """The number of tables (one ``###`` heading each) in a Markdown leaderboard."""
    return sum(line.startswith("### ") for line in markdown.splitlines())


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []
        self._cell: list[str] | None = None
        self._tag = ""
        self.strong_cells = 0
        self._in_strong = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell, self._tag = [], tag
        elif tag == "strong":
            self._in_strong = True
            self.strong_cells += 1
        elif tag == "br" and self._cell is not None:
            self._cell.append(" / ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append((self._tag, "".join(self._cell).strip()))
            self._cell = None
        elif tag == "strong":
            self._in_strong = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_markdown_renders_as_a_table_with_the_right_cells(results_dir: Path) -> None:
    from markdown_it import MarkdownIt

    code, out, err = run_cli(["leaderboard", str(results_dir), "--baseline", "base"])
    assert code == 0, err
    assert "<br>" not in out
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(out)
    assert re.findall(r"<h4>(.*?)</h4>", html) == ["In-domain", "Zero-shot"]  # one table per split
    parser = _TableParser()
    parser.feed(html)
    assert len(parser.tables) == 2
    for table in parser.tables:
        assert [text for _, text in table[0]] == ["Model", "nDCG@10", "ERR", "RBP@0.9"]
        body = table[1:]
        assert len(body) == 4 and all(len(row) == 4 for row in body)
        assert all(tag == "td" for row in body for tag, _ in row)
        by_model = {row[0][1]: [text for _, text in row[1:]] for row in body}
        assert set(by_model) == {"base (baseline)", "strong", "weak", "same"}
        assert all(re.fullmatch(r"0\.\d{3}", v) for v in by_model["base (baseline)"])
        assert all(v.endswith(lb.UP) for v in by_model["strong"])
    assert parser.strong_cells == 6  # one bold value per column: 'strong' wins everywhere
    assert "<h3>" in html and "gs_test" in html
    notes = html.rsplit("</table>", 1)[1]
    assert "paired two-sided t-test" in notes and "\u03b1 = 0.05" in notes
    assert f"In-domain {N_QUERIES}" in notes and "Holm" in notes
    # plain text: every line of a table has the same length, so its columns line up
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert len({len(line) for line in lines[:6]}) == 1


def test_csv_is_tidy(results_dir: Path) -> None:
    import pandas as pd

    code, out, err = run_cli(["leaderboard", str(results_dir), "--format", "csv", "--baseline", "base"])
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out), dtype={"model": str})
    assert list(frame.columns) == list(lb.CSV_COLUMNS)
    assert len(frame) == 4 * 2 * 3
    assert not frame.duplicated(["table", "model", "split", "metric"]).any()
    assert set(frame["metric"]) == set(METRICS) and set(frame["split"]) == {"in_domain", "zero_shot"}
    base = frame[frame["model"] == "base"]
    assert base["p_value"].isna().all() and base["significant"].isna().all()
    others = frame[frame["model"] != "base"]
    assert others["p_value"].notna().all() and set(others["significant"]) <= {True, False}
    # values at full precision, equal to results.json
    results = json.loads((results_dir / "zero_shot" / "weak" / "results.json").read_text())
    value = frame[(frame["model"] == "weak") & (frame["split"] == "zero_shot") & (frame["metric"] == "err")]["value"]
    assert float(value.iloc[0]) == results["metrics"]["err"]


def test_metrics_and_splits_options(results_dir: Path) -> None:
    code, out, _ = run_cli(["leaderboard", str(results_dir), "--metrics", "err", "--splits", "zero-shot"])
    assert code == 0
    assert "#### Zero-shot" in out and "In-domain" not in out and "nDCG" not in out
    assert re.search(r"^\| Model +\| +ERR \|$", out, re.MULTILINE)


def test_out_file_and_stdout_agree(results_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "board.md"
    code, out, _ = run_cli(["leaderboard", str(results_dir), "--out", str(target)])
    assert code == 0 and out == ""
    _, printed, _ = run_cli(["leaderboard", str(results_dir)])
    assert target.read_text() == printed


# ------------------------------------------------------------------------------- mixing


def test_different_eval_sets_and_top_k_become_separate_tables(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    runs = make_runs(rng)
    write_result(tmp_path / "t", "base", "in_domain", runs["base"])
    write_result(tmp_path / "t", "strong", "in_domain", runs["strong"])
    write_result(tmp_path / "d", "strong", "in_domain", runs["strong"], dataset={"eval_set": "dev", "fingerprint": "fp-dev"})
    write_result(tmp_path / "k", "strong", "in_domain", runs["strong"], settings={"top_k": 100})
    tables = lb.build_tables(lb.load_entries(lb.discover([tmp_path])))
    headings = sorted(t.heading for t in tables)
    assert headings == [
        "gs_test, dev judgements, top-1000 retrieved, full judgement files",
        "gs_test, test judgements, top-100 retrieved, full judgement files",
        "gs_test, test judgements, top-1000 retrieved, full judgement files",
    ]
    md = lb.render_markdown(tables)
    assert headings_of(md) == 3


def test_sampled_judgements_are_grouped_apart_and_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    runs = make_runs(rng)
    write_result(tmp_path, "base", "in_domain", runs["base"])
    sampled = {"sampled": True, "seed": 1, "top_q": 2000, "top_k": 1000, "query_hash": "abc", "fingerprint": "fp-s"}
    write_result(tmp_path / "s", "base", "in_domain", runs["base"], dataset=sampled)
    headings = sorted(t.heading for t in lb.build_tables(lb.load_entries(lb.discover([tmp_path]))))
    assert len(headings) == 2
    assert headings[0].endswith("full judgement files")
    assert headings[1].endswith("judgements sampled from the triplets (seed 1, top-q 2000, top-k 1000)")


def test_different_judgements_in_one_column_are_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    runs = make_runs(rng)
    write_result(tmp_path / "a", "base", "in_domain", runs["base"], dataset={"num_judgements": 400})
    write_result(tmp_path / "b", "strong", "in_domain", runs["strong"], dataset={"num_judgements": 401})
    with pytest.raises(GclBenchError, match="in_domain: results disagree on the number of judgements"):
        lb.build_tables(lb.load_entries(lb.discover([tmp_path])))


def test_different_query_hashes_are_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    runs = make_runs(rng)
    write_result(tmp_path / "a", "base", "in_domain", runs["base"], dataset={"query_hash": "h1"})
    write_result(tmp_path / "b", "strong", "in_domain", runs["strong"], dataset={"query_hash": "h2"})
    with pytest.raises(GclBenchError, match="query-set hash"):
        lb.build_tables(lb.load_entries(lb.discover([tmp_path])))


def test_different_query_ids_are_refused_even_without_a_baseline(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    runs = make_runs(rng)
    write_result(tmp_path / "a", "base", "in_domain", runs["base"])
    other_ids = [f"x{i}" for i in range(N_QUERIES)]
    write_result(tmp_path / "b", "strong", "in_domain", runs["strong"], query_ids=other_ids)
    with pytest.raises(GclBenchError, match="in_domain: per-query values cover different queries than .*'x0'"):
        lb.build_tables(lb.load_entries(lb.discover([tmp_path])))


def test_copies_of_the_same_data_are_accepted_with_a_note(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    runs = make_runs(rng)
    write_result(tmp_path / "a", "base", "in_domain", runs["base"])
    write_result(tmp_path / "b", "strong", "in_domain", runs["strong"], dataset={"fingerprint": "copy-elsewhere"})
    (table,) = lb.build_tables(lb.load_entries(lb.discover([tmp_path])), baseline="base")
    assert "In-domain: the results come from 2 copies of the dataset files" in lb.render_markdown([table])


def test_different_query_counts_are_refused(tmp_path: Path) -> None:
    write_result(tmp_path / "a", "x", "in_domain", {"ndcg@10": np.ones(5), "err": np.ones(5), "rbp@0.9": np.ones(5)},
                 dataset={"fingerprint": None})
    write_result(tmp_path / "b", "y", "in_domain", {"ndcg@10": np.ones(6), "err": np.ones(6), "rbp@0.9": np.ones(6)},
                 dataset={"fingerprint": None})
    with pytest.raises(GclBenchError, match="the number of queries"):
        lb.build_tables(lb.load_entries(lb.discover([tmp_path])))


# ------------------------------------------------------------------------------- reported rows


def test_reported_file_has_sources_for_every_row() -> None:
    data = json.loads(lb.DEFAULT_REPORTED.read_text())
    assert data["rows"]
    for row in data["rows"]:
        assert row["source"] in data["sources"] and row["location"]
        assert set(row["metrics"]) == {"ndcg@10", "err", "rbp@0.9"}
        assert all(0 <= v <= 1 for v in row["metrics"].values())
    for source in data["sources"].values():
        assert source["url"].startswith("https://") and source["section"]


def test_include_reported_adds_marked_rows_to_the_matching_dataset(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    runs = make_runs(rng)
    gs = {"subset": "marqo_gs_full_10m"}
    write_result(tmp_path, "base", "in_domain", runs["base"], dataset=gs)
    write_result(tmp_path, "strong", "in_domain", runs["strong"], dataset=gs)
    code, out, err = run_cli(["leaderboard", str(tmp_path), "--include-reported", "--baseline", "base"])
    assert code == 0, err
    assert headings_of(out) == 1
    line = next(row for row in out.splitlines() if row.startswith("| gcl-vitb32 (reported)"))
    # GS-Full in-domain, published for a model fine-tuned on GS-Full's training split: not zero-shot
    assert re.sub(r" +", " ", line) == "| gcl-vitb32 (reported) \u2020 | 0.577 | 0.554 | 0.446 |"
    bm25 = next(row for row in out.splitlines() if row.startswith("| bm25 (reported)"))
    assert re.sub(r" +", " ", bm25).startswith("| bm25 (reported) |")
    assert "marqo-ai/GCL README.md" in out and "not re-computed" in out
    (table,) = lb.build_tables(lb.load_entries(lb.discover([tmp_path])), baseline="base",
                               reported=lb.load_reported())
    reported_rows = [r for r in table.rows if r.reported]
    assert len(reported_rows) == 11
    assert all(c.p_value is None and not c.significant for r in reported_rows for c in r.cells.values())


def test_the_hugging_face_export_is_never_mixed_with_the_release_folders(tmp_path: Path) -> None:
    """The export's corpus is the split's products, not corpus_1/corpus_2: its own table, per commit."""
    rng = np.random.default_rng(3)
    runs = make_runs(rng)
    hub = {"format": "hf_parquet", "subset": None, "path": "/hf/snapshots/" + "ab" * 20,
           "hub": {"repo_id": "Marqo/marqo-GS-10M", "revision": "main", "sha": "ab" * 20}}
    write_result(tmp_path / "release", "base", "zero_shot", runs["base"], dataset={"subset": "marqo_gs_full_10m"})
    write_result(tmp_path / "hub", "base", "zero_shot", runs["base"], dataset=hub)
    tables = lb.build_tables(lb.load_entries(lb.discover([tmp_path])))
    headings = sorted(t.heading.split(",")[0] for t in tables)
    assert headings == ["Marqo/marqo-GS-10M@abababababab (HF export)", "marqo_gs_full_10m"]


def test_reported_rows_of_another_dataset_get_their_own_table(results_dir: Path) -> None:
    code, out, _ = run_cli(["leaderboard", str(results_dir), "--include-reported"])
    assert code == 0
    assert headings_of(out) == 2 and "### marqo_gs_full_10m: published numbers" in out
    first_table = out.split("\n### ")[0]
    assert "(reported)" not in first_table


# ------------------------------------------------------------------------------- plot


def test_plot_writes_a_png_with_one_panel_per_split_and_curve(results_dir: Path, tmp_path: Path) -> None:
    import matplotlib.image

    target = tmp_path / "curves.png"
    code, _, err = run_cli(["leaderboard", str(results_dir), "--baseline", "base", "--plot", str(target)])
    assert code == 0, err
    image = matplotlib.image.imread(target)
    assert image.shape[0] > 300 and image.shape[1] > 600
    entries = lb.load_entries(lb.discover([results_dir]))
    (table,) = lb.build_tables(entries)
    for entry in entries:
        entry.curves = {}
    with pytest.raises(GclBenchError, match="curves"):
        lb.plot_curves(table, tmp_path / "none.png")


# ------------------------------------------------------------------------------- bad input


def _one_error_line(args: list[str], capsys: pytest.CaptureFixture[str], pattern: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


def test_missing_metric(results_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _one_error_line(["leaderboard", str(results_dir), "--metrics", "ndcg@10,map@7"], capsys,
                    r"results\.json: results file has no metric 'map@7' \(it has: ")


def test_schema_version_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_result(tmp_path, "a", "in_domain", {"ndcg@10": np.ones(3)}, schema_version=2)
    _one_error_line(["leaderboard", str(tmp_path)], capsys, r"schema_version 2 is not supported")


def test_duplicate_model_and_split(results_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(results_dir / "in_domain" / "strong", copy)
    _one_error_line(["leaderboard", str(results_dir), str(copy)], capsys,
                    r"model 'strong' appears twice for split in_domain .*--label")
    # --label resolves it
    code, out, _ = run_cli(["leaderboard", str(results_dir), str(copy), "--label", f"{copy}=strong-rerun"])
    assert code == 0 and "| strong-rerun |" in out


def _without_file_record(folder: Path) -> None:
    """Make ``folder`` a set without results.json's ``files`` (hand-made, or by an older gcl_bench),
    whose per-query file is then checked by its content alone."""
    results = json.loads((folder / RESULTS_NAME).read_text())
    del results["files"]
    (folder / RESULTS_NAME).write_text(json.dumps(results))


def test_per_query_files_that_do_not_line_up(results_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = results_dir / "zero_shot" / "weak" / "per_query.csv"
    _without_file_record(path.parent)
    text = path.read_text().replace("q007,", "q999,")
    path.write_text(text)
    _one_error_line(["leaderboard", str(results_dir), "--baseline", "base"], capsys,
                    r"weak/per_query\.csv: zero_shot: per-query values cover different queries .*1 only here, 1 only there, e\.g\. 'q999'")


def test_per_query_file_from_another_run(results_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = results_dir / "in_domain" / "same" / "per_query.csv"
    lines = path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[1] = "0.999"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    _one_error_line(["leaderboard", str(results_dir), "--baseline", "base"], capsys,
                    r"same/per_query\.csv: is not the file that results\.json beside it was written with")
    _without_file_record(path.parent)
    _one_error_line(["leaderboard", str(results_dir), "--baseline", "base"], capsys,
                    r"the two files are from different runs")


def test_per_query_duplicate_ids_and_missing_file(results_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = results_dir / "in_domain" / "strong" / "per_query.csv"
    _without_file_record(path.parent)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n")
    _one_error_line(["leaderboard", str(results_dir), "--baseline", "base"], capsys, r"appears twice")
    path.unlink()
    _one_error_line(["leaderboard", str(results_dir), "--baseline", "base"], capsys, r"no per_query\.csv beside")
    # without a baseline no per-query values are needed
    code, _, _ = run_cli(["leaderboard", str(results_dir)])
    assert code == 0


def test_unknown_baseline_and_empty_dir(results_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _one_error_line(["leaderboard", str(results_dir), "--baseline", "nope"], capsys,
                    r"baseline 'nope' has no results .*models there: ")
    (tmp_path / "empty").mkdir()
    _one_error_line(["leaderboard", str(tmp_path / "empty")], capsys, r"no results\.json under this directory")
    _one_error_line(["leaderboard", str(tmp_path / "missing")], capsys, r"no such file or directory")


def test_malformed_results_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "results.json").write_text("{not json")
    _one_error_line(["leaderboard", str(tmp_path)], capsys, r"malformed JSON")
    (tmp_path / "results.json").write_text(json.dumps({"schema_version": 1, "metrics": {"err": 0.1},
                                                       "model": {"name": "m"}, "dataset": {}}))
    _one_error_line(["leaderboard", str(tmp_path)], capsys, r"no split")
    (tmp_path / "results.json").write_text(json.dumps({"schema_version": 1, "metrics": {"err": 0.1},
                                                       "model": {"name": "m"}, "dataset": {"split": "train"}}))
    _one_error_line(["leaderboard", str(tmp_path)], capsys, r"results\.json: unknown split 'train'")


def test_reported_rows_do_not_take_the_bold_from_measured_rows(tmp_path: Path) -> None:
    q = 3
    gs = {"subset": "marqo_gs_full_10m"}
    write_result(tmp_path, "mine", "in_domain", {m: np.full(q, 0.2) for m in METRICS}, dataset=gs)
    (table,) = lb.build_tables(lb.load_entries(lb.discover([tmp_path])), reported=lb.load_reported())
    assert all(c.bold for c in next(r for r in table.rows if r.model == "mine").cells.values())
    assert not any(c.bold for r in table.rows if r.reported for c in r.cells.values())
    assert "Best measured value per column in bold." in lb.render_markdown([table])


def test_markdown_names_render_literally(tmp_path: Path) -> None:
    from markdown_it import MarkdownIt

    names = ["_x_", "a|b", "a*b*", "open_clip:gcl-tiny", "<b>"]
    for name in names:
        write_result(tmp_path, name.replace("|", "-").replace("*", "s").replace("<", "l").replace(">", "g"),
                     "in_domain", {m: np.full(3, 0.1) for m in METRICS})
    labels = {}
    for folder, name in zip(sorted((tmp_path / "in_domain").iterdir()), sorted(names), strict=True):
        labels[str(folder)] = name
    entries = lb.load_entries(lb.discover([tmp_path]), labels=labels)
    md = lb.render_markdown(lb.build_tables(entries))
    parser = _TableParser()
    parser.feed(MarkdownIt("commonmark", {"html": True}).enable("table").render(md))
    (table,) = parser.tables
    assert sorted(row[0][1] for row in table[1:]) == sorted(names)
    assert all(len(row) == 4 for row in table)


def test_one_call_api_matches_the_cli(results_dir: Path) -> None:
    for fmt in ("markdown", "latex", "csv"):
        _, out, _ = run_cli(["leaderboard", str(results_dir), "--format", fmt, "--baseline", "base"])
        assert lb.leaderboard([results_dir], fmt=fmt, baseline="base") == out
