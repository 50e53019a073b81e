"""Fixtures of the fault suite (the tools themselves are in :mod:`faults.harness`)."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from faults.harness import CliResult, run_cli


@pytest.fixture
def cli() -> Callable[[list[str]], CliResult]:
    return run_cli


_TINY: dict[str, Path] = {}


@pytest.fixture
def tiny_dataset(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of a small Marqo-GS folder (60 products, 24 queries) for a case to damage."""
    if "base" not in _TINY:
        from gcl_bench.data.sample import write_sample

        base = tmp_path_factory.mktemp("tiny") / "marqo_gs_tiny"
        write_sample(base, products=60, queries=24, seed=3, image_size=8)
        _TINY["base"] = base
    copy = tmp_path / "marqo_gs_tiny"
    shutil.copytree(_TINY["base"], copy)
    return copy
