"""benchmarks/gpu_check.sh where there is no GPU, and its search steps at tiny sizes on the CPU."""
from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU exit; with a GPU the script runs in full")
def test_gpu_check_says_there_is_no_gpu_and_exits_cleanly() -> None:
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        "gpu_check: no GPU here (torch.cuda.is_available() is False): nothing to check")


@pytest.mark.parametrize("step", ["synthetic", "search"])
def test_gpu_check_search_steps_pass_on_the_cpu(step: str, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([step, "--cpu"]) == 0
    printed = capsys.readouterr().out
    assert "FAIL" not in printed and ("PASS" in printed or "queries/s" in printed), printed
