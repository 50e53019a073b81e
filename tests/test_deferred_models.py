"""An open_clip checkpoint seen before is not built by a fully cached run; its identity is unchanged."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gcl_bench.errors import GclBenchError
from gcl_bench.models import describe_model, get_model_info, load_model, resolve_weights
from gcl_bench.models.deferred import (
    DeferredOpenClip,
    arch_config_without_import,
    checkpoint_fingerprint,
)
from gcl_bench.models.openclip import OpenClipRetriever


@pytest.fixture(scope="module")
def saved_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gcl-tiny checkpoint as open_clip training writes it (a states file, ``module.`` keys)."""
    import torch

    model = OpenClipRetriever("gcl-tiny", device="cpu")
    torch.manual_seed(3)
    with torch.no_grad():
        for parameter in model.model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.01)
    path = tmp_path_factory.mktemp("ckpt") / "tiny-states.pt"
    torch.save({"epoch": 1, "state_dict": {f"module.{k}": v for k, v in model.model.state_dict().items()}}, path)
    return path


@pytest.mark.parametrize("name", ["sample-clip", "sample-gcl"])
def test_fingerprint_without_building_is_the_built_models(name: str) -> None:
    info = get_model_info(name)
    built = load_model(name, device="cpu")
    assert isinstance(built, OpenClipRetriever)
    assert checkpoint_fingerprint(str(info.arch), resolve_weights(info)) == built.fingerprint()


def test_fingerprint_of_a_saved_checkpoint_is_the_built_models(saved_checkpoint: Path) -> None:
    built = load_model("open_clip:gcl-tiny", pretrained=saved_checkpoint, device="cpu", doc_fields="title:1")
    assert checkpoint_fingerprint("gcl-tiny", saved_checkpoint) == built.fingerprint()
    other = saved_checkpoint.with_name("other.pt")
    other.write_bytes(saved_checkpoint.read_bytes() + b"\0")
    assert checkpoint_fingerprint("gcl-tiny", other) != built.fingerprint()


def test_every_open_clip_config_reads_as_open_clip_reads_it() -> None:
    import open_clip

    from gcl_bench.models.openclip import get_arch_config

    names = open_clip.list_models()
    assert "ViT-B-32" in names and "gcl-tiny" in names
    for arch in names:
        assert arch_config_without_import(arch) == get_arch_config(arch), arch
    assert arch_config_without_import("no-such-arch") is None
    assert arch_config_without_import("hf-hub:org/name") is None


def test_second_load_stands_in_until_something_is_encoded(saved_checkpoint: Path) -> None:
    options = {"pretrained": saved_checkpoint, "device": "cpu", "doc_fields": "image:0.7,title:0.3"}
    first = load_model("open_clip:gcl-tiny", defer_build=True, **options)
    assert isinstance(first, OpenClipRetriever)  # nothing recorded yet: built at once
    second = load_model("open_clip:gcl-tiny", defer_build=True, **options)
    assert isinstance(second, DeferredOpenClip) and not second.built
    assert second.fingerprint() == first.fingerprint()
    for side, fields in (("query", first.query_fields), ("doc", first.doc_fields)):
        for name in fields:
            assert second.field_cache_key(side, name) == first.field_cache_key(side, name)
    assert describe_model(second, "open_clip:gcl-tiny") == describe_model(first, "open_clip:gcl-tiny")
    assert not second.built
    texts = ["red cotton shirt", "blue shoe"]
    assert np.array_equal(second.encode_field("doc", "title", texts), first.encode_field("doc", "title", texts))
    assert second.built
    other_fields = load_model("open_clip:gcl-tiny", defer_build=True, **{**options, "doc_fields": "title:1"})
    assert isinstance(other_fields, OpenClipRetriever)  # other options: another record


def _record_of(model: DeferredOpenClip) -> Path:
    return model._record_path


def test_a_record_that_does_not_match_the_model_is_removed_and_an_error(saved_checkpoint: Path) -> None:
    from gcl_bench.io import record_checksum

    options = {"pretrained": saved_checkpoint, "device": "cpu", "query_fields": "text:1"}
    load_model("open_clip:gcl-tiny", defer_build=True, **options)
    deferred = load_model("open_clip:gcl-tiny", defer_build=True, **options)
    assert isinstance(deferred, DeferredOpenClip)
    path = _record_of(deferred)
    record = json.loads(path.read_bytes())
    record["field_cache_keys"]["query/text"]["context_length"] = 5
    path.write_text(json.dumps(record))
    record_checksum(path)
    stale = load_model("open_clip:gcl-tiny", defer_build=True, **options)
    assert isinstance(stale, DeferredOpenClip)
    with pytest.raises(GclBenchError, match="differs from its identity record"):
        stale.encode_field("query", "text", ["shoe"])
    assert not path.exists()
    assert isinstance(load_model("open_clip:gcl-tiny", defer_build=True, **options), OpenClipRetriever)


def test_a_damaged_record_is_a_miss(saved_checkpoint: Path) -> None:
    options = {"pretrained": saved_checkpoint, "device": "cpu", "context_length": 32}
    load_model("open_clip:gcl-tiny", defer_build=True, **options)
    deferred = load_model("open_clip:gcl-tiny", defer_build=True, **options)
    path = _record_of(deferred)
    path.write_bytes(path.read_bytes().replace(b'"fingerprint"', b'"fingerprinT"', 1))
    assert isinstance(load_model("open_clip:gcl-tiny", defer_build=True, **options), OpenClipRetriever)


def test_a_fully_cached_run_never_builds_the_model(saved_checkpoint: Path, tmp_path: Path) -> None:
    from gcl_bench.runner import RunSettings, model_stage, run_evaluation

    def settings(attempt: str) -> RunSettings:
        return RunSettings(model="open_clip:gcl-tiny", pretrained=str(saved_checkpoint), split="novel_query",
                           device="cpu", output_dir=str(tmp_path / attempt), batch_size=64, doc_fields="title:1")

    run_evaluation(settings("cold"), model=model_stage(settings("cold")))  # encodes and records
    deferred = model_stage(settings("deferred"))
    warm = run_evaluation(settings("deferred"), model=deferred)
    assert isinstance(deferred, DeferredOpenClip) and not deferred.built
    built = load_model("open_clip:gcl-tiny", pretrained=saved_checkpoint, device="cpu", doc_fields="title:1")
    assert isinstance(built, OpenClipRetriever)
    reference = run_evaluation(settings("built"), model=built)
    assert warm["cache"]["embeddings"]["hit"] is True
    for part in (warm, reference):
        for key in ("timings", "created", "output_dir"):
            part.pop(key)
        part["retrieval"]["encode"].pop("timings")
        part["settings"].pop("output_dir", None)
    assert warm == reference
    for name in ("run.json", "per_query.csv"):
        assert (tmp_path / "deferred" / name).read_bytes() == (tmp_path / "built" / name).read_bytes()
