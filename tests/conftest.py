"""Shared test set-up: every test gets its own empty cache dir, so nothing leaks between tests."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path_factory.mktemp("gcl_cache")))
