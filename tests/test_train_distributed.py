"""``torchrun -m gcl_bench.train`` on 2 CPU processes (gloo): the ranks stay identical, and the
gathered-negatives run matches a single process on the same global batch."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from gcl_bench.train.config import TrainConfig
from gcl_bench.train.loop import train
from tests.test_train import write_triplet_folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_cpu_ranks_train_identically(tmp_path):
    data = write_triplet_folder(tmp_path / "data")
    out = tmp_path / "ddp"
    flags = ["--data-dir", str(data), "--steps", "3", "--batch-size", "3", "--lr", "1e-3",
             "--mask-duplicates", "--no-progress", "--threads", "1", "--seed", "4"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GCL_BENCH_DEBUG": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port",
         str(_free_port()), "-m", "gcl_bench.train", *flags, "-o", str(out)],
        env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    digests = json.loads((out / "rank_digests.json").read_text())
    assert len(digests) == 2 and digests["0"] == digests["1"]

    single = train(TrainConfig(data_dir=str(data), output_dir=str(tmp_path / "single"), steps=3,
                               batch_size=6, lr=1e-3, mask_duplicates=True, progress=False,
                               threads=1, seed=4))
    ddp_state = torch.load(out / "checkpoints" / "latest.pt", weights_only=True)
    assert ddp_state["config"]["world_size"] == 2
    # 2 ranks x 3 pairs with gathered negatives is one global batch of 6: the same losses as a
    # single process (Adam amplifies float noise in near-zero gradients, so compare losses)
    ddp_log = [json.loads(line)["loss"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    single_log = [json.loads(line)["loss"]
                  for line in (tmp_path / "single" / "metrics.jsonl").read_text().splitlines()]
    assert len(ddp_log) == len(single_log) == 3 and single.steps == 3
    assert ddp_log[0] == pytest.approx(single_log[0], rel=1e-6)
    assert ddp_log == pytest.approx(single_log, rel=1e-3)


def test_collectives_outside_torchrun_return_this_process_value(monkeypatch):
    from gcl_bench import distributed

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    state = {"step": 3}
    assert distributed.all_gather_object(state) == [state]
    assert distributed.mean_over_ranks(2.5) == 2.5
