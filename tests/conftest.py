"""Shared test set-up.

The whole session uses one fresh cache dir (``GCL_BENCH_CACHE``), so tests never read or write
the user's real cache and the bundled sample is built once per session. Tests that need an
empty cache of their own set ``GCL_BENCH_CACHE`` with ``monkeypatch``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest


def pytest_configure(config) -> None:  # noqa: ANN001 - pytest hook signature
    os.environ["GCL_BENCH_CACHE"] = tempfile.mkdtemp(prefix="gcl_bench_test_cache_")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled sample benchmark (built once per session in the session cache)."""
    from gcl_bench.data.sample import default_sample_dir

    return default_sample_dir()
