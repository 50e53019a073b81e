"""What the input cases of the fault suite share: runs of the tiny dataset, its clean baseline,
ways to damage its files, and a plug-in encoder that returns zero rows on request.

Every run goes through the CLI in this process (:func:`faults.harness.run_cli`).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from faults.harness import CliResult, run_cli

SPLIT = "zero_shot"
STEM = "query_1_product_id_1"
CORPUS = "corpus_2.json"
GT = f"{STEM}_gt_test.json"
CSV = f"{STEM}.csv"
QUERIES = f"{STEM}_queries.json"

_BASELINES: dict[tuple[str, ...], dict[str, float]] = {}


def run_split(folder: Path, out: Path, *extra: Any, model: str = "bm25") -> CliResult:
    """``gcl-bench run`` of the tiny dataset's zero_shot split into ``out`` (quiet)."""
    return run_cli(["run", "--model", model, "--split", SPLIT, "--data-dir", folder, "--output-dir", out,
                    "-q", *extra])


def results(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text())


def baseline(folder: Path, tmp: Path, *extra: Any, model: str = "bm25") -> dict[str, float]:
    """The metrics of a clean copy of ``folder`` (computed once per model, options and file set)."""
    key = (model, *map(str, extra), *sorted(p.name for p in folder.iterdir()))
    if key not in _BASELINES:
        clean = tmp / "clean_copy"
        shutil.copytree(folder, clean)
        result = run_split(clean, tmp / "clean_out", *extra, model=model)
        assert result.code == 0, result.stderr
        _BASELINES[key] = results(tmp / "clean_out")["metrics"]
    return _BASELINES[key]


def warnings_of(result: CliResult) -> list[str]:
    """The ``warning:`` / ``note:`` lines a run printed."""
    return [line.strip() for line in result.stderr.splitlines() if line.strip().startswith(("warning:", "note:"))]


def first_entry(text: str) -> str:
    """The first ``"key":{...}`` entry of a flat JSON object of objects (as the tiny dataset writes it)."""
    return text[1 : text.index("},") + 1]


def repeat_first_entry(path: Path, replace: tuple[str, str] | None = None) -> str:
    """Write the first entry of a JSON object of objects once more right after itself (optionally
    with one substring replaced in the copy); return the entry's key."""
    text = path.read_text()
    entry = first_entry(text)
    copy = entry.replace(*replace) if replace else entry
    path.write_text("{" + entry + "," + copy + text[1 + len(entry):])
    return json.loads("{" + entry + "}").popitem()[0]


SEPARATOR = "\x1e"
"""Separates the texts of the plug-in's ``zero`` argument (titles hold commas and bars)."""

PLUGIN = '''
import numpy as np

SEPARATOR = "\\x1e"

class ZeroingEncoder:
    """Hashed words; an all-zero row for every text in ``zero`` (separated by SEPARATOR) and every empty one."""

    def __init__(self, zero="", similarity="cos", dim=64):
        self.zero = set(t for t in str(zero).split(SEPARATOR) if t)
        self.similarity = similarity
        self.dim = int(dim)
        self.name = "zeroing"

    def _rows(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            if text in self.zero or not text.strip():
                continue
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % self.dim] += 1.0
            out[i, self.dim - 1] += 0.25
        return out

    def encode_queries(self, queries, batch_size=64, **kwargs):
        return self._rows([q if isinstance(q, str) else q["text"] for q in queries])

    def encode_corpus(self, corpus, batch_size=64, **kwargs):
        return self._rows([d.get("title") or "" for d in corpus])
'''


def write_plugin(folder: Path) -> str:
    """Write the zeroing plug-in and return its ``--model`` spec."""
    path = folder / "zeroing_encoder.py"
    path.write_text(PLUGIN)
    return f"{path}:ZeroingEncoder"
