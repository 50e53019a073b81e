"""Checkpoint loading: every accepted format, the safe-unpickling refusal, and key mismatches."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from gcl_bench.errors import GclBenchError
from gcl_bench.models.checkpoint import apply_state_dict, load_state_dict
from gcl_bench.models.openclip import OpenClipRetriever, register_model_configs


@pytest.fixture(scope="module")
def tiny_model():
    import open_clip

    register_model_configs()
    torch.manual_seed(123)
    model = open_clip.create_model("gcl-tiny", pretrained=None)
    return model.eval()


@pytest.fixture(scope="module")
def checkpoints(tiny_model, tmp_path_factory):
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("ckpt")
    state = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    paths = {
        "states": folder / "epoch_3-states.pt",
        "plain": folder / "plain.pt",
        "safetensors": folder / "model.safetensors",
        "pickle": folder / "needs-pickle.pt",
    }
    torch.save({"epoch": 3, "name": "run", "state_dict": {f"module.{k}": v for k, v in state.items()}},
               paths["states"])
    torch.save(state, paths["plain"])
    save_file({k: v.contiguous() for k, v in state.items()}, str(paths["safetensors"]))
    torch.save({"state_dict": state, "args": argparse.Namespace(lr=0.1)}, paths["pickle"])
    return paths


@pytest.mark.parametrize("kind", ["states", "plain", "safetensors"])
def test_formats_load_the_same_tensors(tiny_model, checkpoints, kind):
    loaded = load_state_dict(checkpoints[kind])
    expected = tiny_model.state_dict()
    assert sorted(loaded) == sorted(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


def test_full_unpickling_refused_then_allowed_with_trust(tiny_model, checkpoints):
    with pytest.raises(GclBenchError) as err:
        load_state_dict(checkpoints["pickle"])
    message = str(err.value)
    assert "--trust-checkpoint" in message and "arbitrary code" in message
    assert str(checkpoints["pickle"]) in message
    assert "\n" not in message
    loaded = load_state_dict(checkpoints["pickle"], trust_checkpoint=True)
    assert set(loaded) == set(tiny_model.state_dict())


def test_adapter_with_checkpoint_matches_direct_open_clip(tiny_model, checkpoints):
    import open_clip

    retriever = OpenClipRetriever("gcl-tiny", checkpoints["states"], device="cpu")
    texts = ["red leather shoe", "blue cotton hat", "x"]
    got = retriever.encode_field("query", "text", texts, batch_size=2)
    tokens = open_clip.get_tokenizer("gcl-tiny")(texts)
    with torch.no_grad():
        direct = tiny_model.encode_text(tokens)
    direct = (direct / direct.norm(dim=-1, keepdim=True)).numpy()
    np.testing.assert_allclose(got, direct, rtol=1e-5, atol=1e-6)
    assert retriever.checkpoint_sha256() is not None
    assert retriever.describe()["checkpoint"] == str(checkpoints["states"])


def test_fingerprint_follows_the_weights(checkpoints, tmp_path):
    a = OpenClipRetriever("gcl-tiny", checkpoints["plain"], device="cpu")
    b = OpenClipRetriever("gcl-tiny", checkpoints["plain"], device="cpu")
    assert a.fingerprint() == b.fingerprint()
    state = load_state_dict(checkpoints["plain"])
    state["logit_scale"] = state["logit_scale"] + 1
    changed = tmp_path / "changed.pt"
    torch.save(state, changed)
    assert OpenClipRetriever("gcl-tiny", changed, device="cpu").fingerprint() != a.fingerprint()
    random_init = OpenClipRetriever("gcl-tiny", device="cpu")
    assert random_init.fingerprint() not in (a.fingerprint(),)
    assert random_init.fingerprint() == OpenClipRetriever("gcl-tiny", device="cpu").fingerprint()


def test_keys_that_do_not_fit_name_first_missing_and_unexpected(tiny_model, tmp_path):
    state = dict(tiny_model.state_dict())
    state.pop("visual.proj")
    state["visual.extra_head.weight"] = torch.zeros(2)
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(GclBenchError) as err:
        OpenClipRetriever("gcl-tiny", path, device="cpu")
    message = str(err.value)
    assert "'visual.proj'" in message and "'visual.extra_head.weight'" in message
    assert "1 missing" in message and "1 unexpected" in message


def test_shape_mismatch_is_named(tiny_model, tmp_path):
    import open_clip

    state = dict(tiny_model.state_dict())
    state["visual.proj"] = torch.zeros(3, 3)
    model = open_clip.create_model("gcl-tiny", pretrained=None)
    with pytest.raises(GclBenchError, match="visual.proj"):
        apply_state_dict(model, state, tmp_path / "x.pt")


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(GclBenchError, match="not found"):
        load_state_dict(tmp_path / "nope.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"this is not a checkpoint")
    with pytest.raises(GclBenchError, match="not a readable PyTorch checkpoint"):
        load_state_dict(junk)
    junk_st = tmp_path / "junk.safetensors"
    junk_st.write_bytes(b"\x00" * 16)
    with pytest.raises(GclBenchError, match="safetensors"):
        load_state_dict(junk_st)
    not_tensors = tmp_path / "list.pt"
    torch.save([1, 2, 3], not_tensors)
    with pytest.raises(GclBenchError, match="state dict"):
        load_state_dict(not_tensors)


def test_unknown_arch_and_tag_errors(checkpoints):
    with pytest.raises(GclBenchError, match="close matches: gcl-tiny"):
        OpenClipRetriever("gcl-tinyy", device="cpu")
    with pytest.raises(GclBenchError, match="neither a checkpoint file nor an open_clip tag"):
        OpenClipRetriever("gcl-tiny", "laion2b", device="cpu")


def test_cli_refuses_pickle_checkpoint_with_one_line(checkpoints, tmp_path, capsys):
    from gcl_bench.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--model", "open_clip:gcl-tiny", "--pretrained", str(checkpoints["pickle"]),
              "--split", "zero_shot", "--device", "cpu", "--output-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "--trust-checkpoint" in err[0]
    assert not (tmp_path / "out" / "results.json").exists()
