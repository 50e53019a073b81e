"""Encoding under torchrun with 2 CPU processes (gloo) equals a single-process encode."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from gcl_bench.encode import encode_split

TESTS_DIR = Path(__file__).resolve().parent

SCRIPT = textwrap.dedent(
    """
    import json, pickle, sys
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, {tests_dir!r})
    from test_encode import FakeAdapter

    from gcl_bench import distributed
    from gcl_bench.encode import encode_split

    out = Path({out!r})
    split = pickle.loads(Path({split!r}).read_bytes())
    rank = distributed.rank()
    report = {{}}
    for run, cache in (("first", True), ("again", True), ("nocache", False)):
        adapter = FakeAdapter()
        result = encode_split(adapter, split, batch_size=2, shard_size=3, cache=cache,
                              cache_root=out / "cache")
        report[run] = {{"calls": adapter.calls, "returned": result is not None}}
        if result is not None:
            np.savez(out / f"{{run}}.npz", queries=result.query_embeddings,
                     docs=result.doc_embeddings, doc_rows=result.doc_rows)
            report[run]["info"] = {{"hit": result.info["cache"]["hit"],
                                   "world_size": result.info["distributed"]["world_size"]}}
    (out / f"rank{{rank}}.json").write_text(json.dumps(report))
    distributed.destroy_process_group()
    """
)


def test_two_process_encode_equals_single_process(tmp_path: Path) -> None:
    sys.path.insert(0, str(TESTS_DIR))
    from test_encode import FakeAdapter, make_split

    split = make_split(tmp_path / "data", num_docs=31, num_queries=7)
    (tmp_path / "split.pkl").write_bytes(pickle.dumps(split))
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "encode_ddp.py"
    script.write_text(SCRIPT.format(tests_dir=str(TESTS_DIR), out=str(out), split=str(tmp_path / "split.pkl")))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script)],
        env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    single = encode_split(FakeAdapter(), split, batch_size=2, shard_size=3, cache_root=tmp_path / "single")
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    for run in ("first", "nocache"):
        merged = np.load(out / f"{run}.npz", allow_pickle=True)
        np.testing.assert_array_equal(merged["queries"], single.query_embeddings)
        np.testing.assert_array_equal(merged["docs"], single.doc_embeddings)
        np.testing.assert_array_equal(merged["doc_rows"], single.doc_rows)
        # only rank 0 returns; both ranks did part of the work and nothing was encoded twice
        assert [r[run]["returned"] for r in ranks] == [True, False]
        items = [sum(n for _, _, n in r[run]["calls"]) for r in ranks]
        assert min(items) > 0 and sum(items) == sum(single.info["items_per_field"].values())
    assert ranks[0]["first"]["info"] == {"hit": False, "world_size": 2}
    assert ranks[0]["again"]["info"]["hit"] is True
    assert ranks[0]["again"]["calls"] == ranks[1]["again"]["calls"] == []
    assert not (out / "tmp").exists() or not any((out / "tmp").iterdir())


def test_backend_is_nccl_only_with_a_gpu_per_rank() -> None:
    from gcl_bench.distributed import pick_backend

    assert pick_backend(use_cuda=True, gpus=8, ranks_on_node=8) == "nccl"
    assert pick_backend(use_cuda=True, gpus=1, ranks_on_node=2) == "gloo"  # NCCL refuses a shared GPU
    assert pick_backend(use_cuda=False, gpus=0, ranks_on_node=2) == "gloo"
