"""A training run's JSON-lines logs: ``metrics.jsonl`` (one line per logged step) and ``eval.jsonl``
(one line per periodic evaluation), both under the run's output folder.

The metrics log is a stream appended one line per step (unbuffered: a full disk is reported at
the step it happens, naming the file); a resume first rewrites it, atomically, without the steps
after the checkpoint (and without a line cut short). Imports :mod:`gcl_bench.io` only.
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, BinaryIO

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


def open_metrics_log(output_dir: Path) -> BinaryIO:
    """The metrics log, opened for appending without a buffer (the folder made if needed)."""
    from gcl_bench.io import ensure_folder, writing

    path = output_dir / METRICS_LOG
    ensure_folder(path.parent)
    with writing(path):
        return open(path, "ab", buffering=0)


def write_metrics(log: BinaryIO, record: dict[str, Any]) -> None:
    """Append one step's record (one write: the log is current while training runs)."""
    from gcl_bench.io import writing

    with writing(log.name):
        log.write((json.dumps(record) + "\n").encode("utf-8"))


def append_eval_record(output_dir: Path, record: dict[str, Any]) -> None:
    """Add one evaluation's record to ``eval.jsonl`` (the file rewritten atomically)."""
    from gcl_bench.io import write_text

    path = output_dir / EVAL_LOG
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines.append(json.dumps(record))
    write_text(path, "\n".join(lines) + "\n")
