"""Regenerate leaderboards/sample.md: the leaderboard of the bundled sample benchmark.

Runs every model on the four splits of the bundled sample with ``gcl-bench run`` (BM25, a
randomly initialised CLIP ``open_clip:gcl-tiny``, and the trained sample models ``sample-clip`` /
``sample-gcl`` when the registry has them), keeps each run's results.json and per_query.csv
under leaderboards/sample/, and writes leaderboards/sample.md (table against the BM25 baseline,
the commands that rebuild it, and a metric@k plot).

    python examples/make_sample_leaderboard.py              # run everything, then write the page
    python examples/make_sample_leaderboard.py --skip-run   # only rebuild the page from kept results

Runs on CPU in a few minutes; results are deterministic (random init uses seed 0).
"""
from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from gcl_bench.results import PER_QUERY_NAME, RESULTS_NAME

REPO = Path(__file__).resolve().parent.parent
OUT_MD = REPO / "leaderboards" / "sample.md"
RESULTS = REPO / "leaderboards" / "sample"
PLOT = REPO / "leaderboards" / "sample.png"
BASELINE = "sample-clip"
#: (row name, --model spec, extra run arguments); the sample models join when registered
MODELS: list[tuple[str, str, list[str]]] = [
    ("bm25", "bm25", []),
    ("clip-random-init", "open_clip:gcl-tiny", []),
    ("sample-clip", "sample-clip", []),
    ("sample-gcl", "sample-gcl", []),
]
#: files of a run kept in the repository (run.json is megabytes and not needed for the table)
KEEP = (RESULTS_NAME, PER_QUERY_NAME)


def available_models() -> list[tuple[str, str, list[str]]]:
    """The rows of MODELS that can run here: open_clip architectures, and registry entries
    whose bundled weights (the trained sample models) are present."""
    from gcl_bench.models import bundled_weights, get_model_info, list_models

    names = set(list_models())
    usable = []
    for row in MODELS:
        spec = row[1]
        if ":" in spec:
            usable.append(row)
        elif spec in names:
            info = get_model_info(spec)
            if not info.bundled or bundled_weights(info) is not None:
                usable.append(row)
    return usable


def run_command(name: str, spec: str, extra: list[str], device: str) -> list[str]:
    return ["gcl-bench", "run", "--model", spec, "--split", "all", "--device", device,
            "--output-dir", f"leaderboards/sample/{name}", "--quiet", *extra]


def leaderboard_args(models: list[tuple[str, str, list[str]]]) -> list[str]:
    """Arguments of the ``gcl-bench leaderboard`` call behind the page (paths relative to the repo)."""
    args = ["leaderboard", "leaderboards/sample", "--baseline", BASELINE]
    for name, spec, _ in models:
        if spec != name:
            args += ["--label", f"leaderboards/sample/{name}={name}"]
    return args


def kept_models() -> list[tuple[str, str, list[str]]]:
    """The rows whose results are already under leaderboards/sample/."""
    return [m for m in MODELS if (RESULTS / m[0]).is_dir()]


def render_table(models: list[tuple[str, str, list[str]]], plot: Path | None = None) -> str:
    """The Markdown table exactly as ``gcl-bench leaderboard`` prints it (run from the repo root)."""
    from gcl_bench import leaderboard as lb

    args = leaderboard_args(models)
    labels = {}
    for i, arg in enumerate(args):
        if arg == "--label":
            path, _, name = args[i + 1].rpartition("=")
            labels[str(REPO / path)] = name
    entries = lb.load_entries(lb.discover([RESULTS]), labels=labels)
    tables = lb.build_tables(entries, baseline=BASELINE)
    if plot is not None:
        lb.plot_curves(tables[0], plot)
    return lb.render_markdown(tables)


def page(models: list[tuple[str, str, list[str]]], table: str, device: str) -> str:
    runs = "\n".join(shlex.join(run_command(n, s, e, device)) for n, s, e in models)
    board = shlex.join(["gcl-bench", *leaderboard_args(models), "--plot", "leaderboards/sample.png"])
    names = ", ".join(f"`{n}`" + (f" (`--model {s}`)" if s != n else "") for n, s, _ in models)
    random_init = (
        " The random-init CLIP is the `gcl-tiny` architecture without `--pretrained` (weights drawn"
        " with seed 0): the floor any trained model must clear."
        if any(s == "open_clip:gcl-tiny" for _, s, _ in models) else ""
    )
    return f"""# Leaderboard: the bundled sample benchmark

The synthetic benchmark that ships with gcl_bench (`gcl-bench sample`; built on first use), scored
with the same code as Marqo-GS-10M. Its numbers say whether the pipeline works and how models
rank on easy synthetic data; they are not comparable with the published Marqo-GS-10M numbers.
Models: {names}.{random_init}

{table}
![nDCG@k and recall@k per split](sample.png)

## Regenerate

From the repository root, on CPU (`python examples/make_sample_leaderboard.py` runs all of this):

```bash
{runs}
{board}
```

Each run keeps `results.json` and `per_query.csv` under `leaderboards/sample/<model>/<split>/`
(the retrieved lists, `run.json`, are not kept), so the table and its significance marks can be
rebuilt without running the models again.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-run", action="store_true", help="Rebuild the page from kept results only.")
    parser.add_argument("--device", default="cpu", help="Device for the dense models (default: cpu).")
    args = parser.parse_args(argv)

    if args.skip_run:
        models = kept_models()
    else:
        models = available_models()
        for name, spec, extra in models:
            shutil.rmtree(RESULTS / name, ignore_errors=True)
            command = run_command(name, spec, extra, args.device)
            print("+", shlex.join(command), flush=True)
            subprocess.run([sys.executable, "-m", "gcl_bench", *command[1:]], cwd=REPO, check=True)
            for path in (RESULTS / name).rglob("*"):
                if path.is_file() and path.name not in KEEP:
                    path.unlink()
    if not models:
        print("no results under leaderboards/sample/; run without --skip-run first", file=sys.stderr)
        return 2
    table = render_table(models, plot=PLOT)
    from gcl_bench.io import write_text

    write_text(OUT_MD, page(models, table, args.device))
    print(f"wrote {OUT_MD.relative_to(REPO)} and {PLOT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
