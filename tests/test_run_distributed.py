"""`torchrun -m gcl_bench run` with 2 CPU processes gives the results of a single process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gcl_bench.cli import main


def _results(folder: Path) -> tuple[dict, dict]:
    results = json.loads((folder / "results.json").read_text())
    run = json.loads((folder / "run.json").read_text())
    return results, run


def test_torchrun_two_ranks_equals_single_process(tmp_path: Path) -> None:
    args = ["run", "--model", "open_clip:gcl-tiny", "--split", "zero_shot", "-q", "--device", "cpu"]
    single = tmp_path / "single"
    try:
        main([*args, "--output-dir", str(single)])
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    env = dict(os.environ, GCL_BENCH_CACHE=str(tmp_path / "fresh_cache"), OMP_NUM_THREADS="1")
    # the bundled sample is rebuilt in the fresh cache; the embedding cache starts empty there,
    # so both ranks really encode their shards
    shared = tmp_path / "torchrun"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
        "--master-port", "29517", "-m", "gcl_bench", *args, "--output-dir", str(shared),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    one, run_one = _results(single)
    two, run_two = _results(shared)
    assert two["retrieval"]["encode"]["distributed"]["world_size"] == 2
    assert two["retrieval"]["encode"]["cache"]["items_encoded"] > 0
    assert run_two == run_one
    assert two["metrics"] == one["metrics"]
