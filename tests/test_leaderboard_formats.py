"""Paper-ready leaderboard output: LaTeX that compiles on a two-column page without an overfull
box, its layouts and options, and plots whose file format follows the extension.

The LaTeX tests need pdflatex (Debian: texlive-latex-base, texlive-latex-recommended; .ci/run
installs them). Under CI (``CI`` set) a missing pdflatex fails the tests instead of skipping them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gcl_bench import leaderboard as lb
from gcl_bench.errors import GclBenchError
from tests.test_leaderboard import SPLITS, make_runs, run_cli, write_result

PDFLATEX = shutil.which("pdflatex")


def require_pdflatex() -> str:
    if PDFLATEX is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is not installed; .ci/run installs texlive-latex-base and texlive-latex-recommended")
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    return PDFLATEX


@pytest.fixture()
def four_splits(tmp_path: Path) -> Path:
    """Four splits, a baseline, a long name and names that need escaping."""
    rng = np.random.default_rng(2)
    runs = make_runs(rng)
    root = tmp_path / "results"
    for split in SPLITS:
        for model, values in (("base", runs["base"]), ("strong", runs["strong"]), ("we_ird%name#1", runs["weak"]),
                              ("open_clip:ViT-B-32", runs["same"])):
            write_result(root, model, split, values)
    return root


def latex(args: list[str]) -> str:
    code, out, err = run_cli(["leaderboard", *args, "--format", "latex"])
    assert code == 0, err
    return out


def compile_two_column(tmp_path: Path, tables: list[str]) -> str:
    """Compile the tables in a two-column article; return the log (no error, no overfull box)."""
    binary = require_pdflatex()
    for number, text in enumerate(tables):
        (tmp_path / f"table{number}.tex").write_text(text)
    inputs = "\n".join(f"\\input{{table{n}.tex}}\n\\clearpage" for n in range(len(tables)))
    (tmp_path / "paper.tex").write_text(
        "\\documentclass[twocolumn]{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
        f"Some text of the paper.\n{inputs}\n\\end{{document}}\n"
    )
    proc = subprocess.run([binary, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / "paper.log").read_text(errors="replace")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)
    assert (tmp_path / "paper.pdf").stat().st_size > 1000
    return log


def test_default_tables_compile_on_a_two_column_page(four_splits: Path, tmp_path: Path) -> None:
    default = latex([str(four_splits), "--baseline", "base", "--include-reported"])
    two = latex([str(four_splits), "--baseline", "base", "--splits", "in_domain,zero_shot"])
    per_split = latex([str(four_splits), "--baseline", "base", "--latex-layout", "per-split"])
    one = latex([str(four_splits), "--baseline", "base", "--splits", "zero_shot"])
    log = compile_two_column(tmp_path, [default, two, per_split, one])
    assert "LaTeX Warning: Reference" not in log
    # what auto chose: the four-split table spans the page, one split fits a column
    assert re.findall(r"\\begin\{(table\*?)\}", default)[0] == "table*"  # then the published rows' table
    assert "\\begin{table*}" in two
    assert "\\begin{table*}" not in per_split and "\\begin{table*}" not in one


def test_latex_structure_escaping_and_aligned_marks(four_splits: Path) -> None:
    out = latex([str(four_splits), "--baseline", "base"])
    assert out.count("\\begin{tabular}") == 1 and "\\toprule" in out and "\\bottomrule" in out
    for label in ("In-domain", "Novel query", "Novel document", "Zero-shot"):
        assert f"\\multicolumn{{3}}{{c}}{{{label}}}" in out
    assert "\\cmidrule(lr){2-4} \\cmidrule(lr){5-7} \\cmidrule(lr){8-10} \\cmidrule(lr){11-13}" in out
    assert "we\\_ird\\%name\\#1 & " in out and "we_ird%name#1" not in out
    body = out.split("\\midrule", 1)[1].split("\\bottomrule", 1)[0]
    rows = [line for line in body.strip().splitlines() if line.endswith("\\\\")]
    assert len(rows) == 4 and all(line.count(" & ") == 12 for line in rows)
    cells = [cell.strip() for row in rows for cell in row.removesuffix(" \\\\").split(" & ")[1:]]
    # every number has 3 decimals; a mark is in a zero-width box after it, so numbers align right
    pattern = r"(\\textbf\{)?0\.\d{3}\}?(\\rlap\{\$\^\{\\(up|down)arrow\}\$\})?"
    assert all(re.fullmatch(pattern, cell) for cell in cells), cells
    assert any("\\rlap{$^{\\uparrow}$}" in c for c in cells) and any(c.startswith("\\textbf{") for c in cells)
    caption = re.search(r"\\caption\{(.*)\}", out).group(1)
    # written for a reader: what the numbers are, on which judgements, which test
    assert caption.startswith("nDCG@10, ERR and RBP@0.9 per split on gs\\_test (test judgements; top 1000 documents")
    assert "Best value per column in bold." in caption and "paired two-sided t-test" in caption
    assert "$\\alpha$ = 0.05" in caption
    assert "\\label{tab:leaderboard}" in out
    assert "Queries per split: In-domain 40" in out.split("\\end{tabular}", 1)[1]


def test_latex_caption_label_and_layouts(four_splits: Path) -> None:
    custom = latex([str(four_splits), "--baseline", "base", "--caption", "Results on \\textsc{GS}.",
                    "--latex-label", "tab:main", "--latex-layout", "column"])
    assert "\\caption{Results on \\textsc{GS}.}" in custom and "\\label{tab:main}" in custom
    assert "\\begin{table}[t]" in custom  # forced, though it is wider than a column
    after = custom.split("\\end{tabular}", 1)[1]
    assert "Best value per column in bold." in after and "Holm" in after  # the notes move under the table
    wide = latex([str(four_splits), "--splits", "zero_shot", "--latex-layout", "full-width", "--latex-label", ""])
    assert "\\begin{table*}[t]" in wide and "\\label" not in wide
    per_split = latex([str(four_splits), "--latex-layout", "per-split"])
    assert per_split.count("\\emph{") == 4 and "\\multicolumn{4}{@{}l}{\\emph{Novel query}}" in per_split
    lines = per_split.splitlines()
    assert "Model & @10 &  & @0.9 \\\\" in lines and " & nDCG & ERR & RBP \\\\" in lines


def test_python_api_takes_the_latex_options(four_splits: Path) -> None:
    options = lb.LatexOptions(caption="C", label="tab:x", layout="per-split")
    text = lb.leaderboard([four_splits], fmt="latex", latex=options)
    assert "\\caption{C}" in text and "\\label{tab:x}" in text and "\\emph{In-domain}" in text
    with pytest.raises(GclBenchError, match="layout"):
        lb.render_latex([], lb.LatexOptions(layout="sideways"))


# ------------------------------------------------------------------------------- plots
@pytest.mark.parametrize(("suffix", "magic"), [(".pdf", b"%PDF"), (".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_plot_format_follows_the_extension(suffix: str, magic: bytes, four_splits: Path, tmp_path: Path) -> None:
    target = tmp_path / f"curves{suffix}"
    args = ["leaderboard", str(four_splits), "--baseline", "base", "--splits", "zero_shot"]  # 2 panels: fast
    code, _, err = run_cli([*args, "--plot", str(target)])
    assert code == 0, err
    data = target.read_bytes()
    assert data.startswith(magic)
    if suffix == ".svg":
        text = data.decode()
        assert "nDCG@k and Recall@k per split: gs_test" in text  # the title, as text
        assert "strong" in text and "base (baseline)" in text  # the legend names the models
    if suffix == ".pdf":
        assert b"/Type3" not in data  # fonts a publisher accepts (TrueType embedded, not Type 3)
    again = tmp_path / f"again{suffix}"
    run_cli([*args, "--plot", str(again)])
    assert again.read_bytes() == data  # no date inside: the same results draw the same file


def test_an_unknown_plot_extension_is_one_error_and_nothing_is_written(
    four_splits: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gcl_bench.cli import main

    table = tmp_path / "table.md"
    with pytest.raises(SystemExit) as exit_info:
        main(["leaderboard", str(four_splits), "--out", str(table), "--plot", str(tmp_path / "curves.jpg")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'.jpg'" in err[0] and ".pdf, .svg, .png" in err[0]
    assert not table.exists() and not list(tmp_path.glob("curves*"))


def test_the_overfull_check_sees_a_table_too_wide_for_a_column(four_splits: Path, tmp_path: Path) -> None:
    forced = latex([str(four_splits), "--baseline", "base", "--latex-layout", "column"])
    with pytest.raises(AssertionError, match="Overfull"):
        compile_two_column(tmp_path, [forced])
