"""A training run's JSON-lines logs: ``metrics.jsonl`` (one line per logged step) and ``eval.jsonl``
(one line per periodic evaluation), both under the run's output folder.

The metrics log is a stream appended one line per step; a resume first rewrites it, atomically,
without the steps after the checkpoint. Imports :mod:`gcl_bench.io` only.
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, TextIO

METRICS_LOG = "metrics.jsonl"
EVAL_LOG = "eval.jsonl"


def truncate_metrics_log(output_dir: Path, step: int) -> None:
    """Keep only the log lines of steps up to ``step`` (all of them gone when starting afresh)."""
    from gcl_bench.io import write_text

    path = output_dir / METRICS_LOG
    if not path.exists():
        return
    kept = []
    if step > 0:
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                if json.loads(line).get("step", 0) <= step:
                    kept.append(line + "\n")
    write_text(path, "".join(kept))


def open_metrics_log(output_dir: Path) -> TextIO:
    """The metrics log, opened for appending (the folder made if needed)."""
    path = output_dir / METRICS_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a", encoding="utf-8")


def write_metrics(log: TextIO, record: dict[str, Any]) -> None:
    """Append one step's record and flush, so the log is current while training runs."""
    log.write(json.dumps(record) + "\n")
    log.flush()


def append_eval_record(output_dir: Path, record: dict[str, Any]) -> None:
    """Add one evaluation's record to ``eval.jsonl`` (the file rewritten atomically)."""
    from gcl_bench.io import write_text

    path = output_dir / EVAL_LOG
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines.append(json.dumps(record))
    write_text(path, "\n".join(lines) + "\n")
