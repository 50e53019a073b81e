"""A plug-in that raises is one line naming the plug-in, the method and the exception (exit 2);
--debug shows the traceback; gcl_bench's own bugs keep theirs."""
from __future__ import annotations

from pathlib import Path

import pytest

from faults.harness import expect_error, leftovers, run_cli

PLUGINS = Path(__file__).with_name("plugin_models.py")


def _run(tiny: Path, out: Path, model: str, *extra: object):
    return run_cli(["run", "--model", model, "--split", "zero_shot", "--data-dir", tiny, "--output-dir", out,
                    "--no-cache", "-q", *extra])


@pytest.mark.parametrize(("name", "method", "kind", "message"), [
    ("FailingInit", "__init__", "RuntimeError", "no licence file"),
    ("FailingEncode", "encode_corpus", "RuntimeError", "boom"),
    ("FailingQueries", "encode_queries", "KeyError", "'missing_key'"),
    ("FailingFingerprint", "fingerprint", "OSError", "weights file vanished"),
    ("FailingSearch", "search", "ValueError", "index not built"),
])
def test_a_plugin_that_raises_is_one_line(tiny_dataset: Path, tmp_path: Path, name: str, method: str, kind: str,
                                          message: str) -> None:
    spec = f"{PLUGINS}:{name}"
    line = expect_error(_run(tiny_dataset, tmp_path / "out", spec))
    assert line == f"error: plug-in {spec} raised {kind} in {method}: {message} (--debug for the traceback)"
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_plugins_traceback(tiny_dataset: Path, tmp_path: Path) -> None:
    result = run_cli(["--debug", "run", "--model", f"{PLUGINS}:FailingEncode", "--split", "zero_shot",
                      "--data-dir", tiny_dataset, "--output-dir", tmp_path / "out", "--no-cache", "-q"])
    assert isinstance(result.exception, RuntimeError) and str(result.exception) == "boom"
    frames = []
    trace = result.exception.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame.f_code.co_name)
        trace = trace.tb_next
    assert frames[-1] == "encode_corpus"


def test_a_model_arg_the_constructor_rejects(tiny_dataset: Path, tmp_path: Path) -> None:
    spec = f"{PLUGINS}:HashEncoder"
    line = expect_error(_run(tiny_dataset, tmp_path / "out", spec, "--model-arg", "dim=1"), spec, "__init__")
    assert "ValueError" in line and "dim must be at least 2, got 1" in line
    line = expect_error(_run(tiny_dataset, tmp_path / "out", spec, "--model-arg", "colour=red"),
                        spec, "--model-arg colour")
    assert "(it takes: dim)" in line


def test_a_registered_factory_is_named_by_its_registry_name(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    import importlib.util

    from gcl_bench.models import registry

    module_spec = importlib.util.spec_from_file_location("fault_suite_plugins", PLUGINS)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    monkeypatch.setitem(registry._REGISTRY, "fault-failing", registry.ModelInfo(name="fault-failing",
                                                                                 factory=module.FailingEncode))
    line = expect_error(_run(tiny_dataset, tmp_path / "out", "fault-failing"))
    assert line.startswith("error: plug-in fault-failing raised RuntimeError in encode_corpus: boom")


def test_a_bug_in_gcl_bench_keeps_its_traceback(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    """Not every exception becomes one line: one raised in gcl_bench's own code, even while a plug-in
    is the model, is a bug and must show where it happened."""
    import gcl_bench.runner as runner

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return 1 / 0

    monkeypatch.setattr(runner, "score_stage", broken)
    result = _run(tiny_dataset, tmp_path / "out", f"{PLUGINS}:HashEncoder")
    assert isinstance(result.exception, ZeroDivisionError)
    assert leftovers(tmp_path) == []
