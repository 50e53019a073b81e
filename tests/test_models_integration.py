"""The adapters inside the pipeline: encode stage agreement, and ``gcl-bench run`` end to end."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "custom_encoder.py"


@pytest.fixture(scope="module")
def states_checkpoint(tmp_path_factory):
    import open_clip

    from gcl_bench.models.openclip import register_model_configs

    register_model_configs()
    torch.manual_seed(7)
    model = open_clip.create_model("gcl-tiny", pretrained=None)
    path = tmp_path_factory.mktemp("ckpt") / "epoch_1-states.pt"
    torch.save({"epoch": 1, "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path)
    return path


def test_encode_stage_matches_beir_methods(states_checkpoint):
    from gcl_bench.data import Split, load_split
    from gcl_bench.encode import encode_split
    from gcl_bench.models import load_model

    full = load_split(split="zero_shot")
    n = 150  # a slice keeps this quick; the end-to-end run below encodes the whole split
    split = Split("zero_shot_head", full.doc_ids[:n], full.doc_titles[:n], full.doc_images[:n],
                  full.query_ids, full.query_texts, full.qrels, dict(full.meta))
    model = load_model("open_clip:gcl-tiny", pretrained=states_checkpoint, device="cpu")
    encoded = encode_split(model, split, batch_size=64, cache=False)
    np.testing.assert_allclose(encoded.query_embeddings, model.encode_queries(split.query_dicts, 64),
                               atol=1e-6)
    doc_rows = encoded.info.get("doc_rows")
    expected = model.encode_corpus(
        [d for d in split.corpus_dicts if (d["title"] or "").strip() or d["image"]], 64)
    assert doc_rows is None or len(doc_rows) == len(expected)
    np.testing.assert_allclose(np.asarray(encoded.doc_embeddings, dtype=np.float32), expected, atol=1e-6)


def _run_cli(args: list[str]) -> None:
    from gcl_bench.cli import main

    try:
        main(args)
    except SystemExit as exit_info:
        assert exit_info.code in (0, None), f"gcl-bench {' '.join(args)} exited {exit_info.code}"


def test_run_open_clip_checkpoint_end_to_end(states_checkpoint, tmp_path):
    out = tmp_path / "run"
    _run_cli(["run", "--model", "open_clip:gcl-tiny", "--pretrained", str(states_checkpoint),
              "--split", "zero_shot", "--device", "cpu", "--output-dir", str(out)])
    results = json.loads((out / "results.json").read_text())
    model = results["model"]
    assert model["checkpoint"] == str(states_checkpoint)
    assert model["checkpoint_sha256"] == hashlib.sha256(states_checkpoint.read_bytes()).hexdigest()
    assert model["doc_fields"] == {"image": 0.9, "title": 0.1}
    assert 0.0 <= results["metrics"]["ndcg@10"] <= 1.0


def test_run_example_custom_encoder_end_to_end(tmp_path):
    out = tmp_path / "custom"
    _run_cli(["run", "--model", f"{EXAMPLE}:HashingEncoder", "--model-arg", "dim=256",
              "--split", "zero_shot", "--output-dir", str(out)])
    results = json.loads((out / "results.json").read_text())
    assert results["model"]["name"] == "hashing-256-tri"
    assert results["metrics"]["ndcg@10"] > 0.0


def test_beir_sentencebert_plugs_in_unchanged(tmp_path):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from gcl_bench.data import load_split
    from gcl_bench.encode import encode_split
    from gcl_bench.models import load_model

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "red", "blue", "shoe", "dress", "cotton"]
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}).save_pretrained(tmp_path)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32)).save_pretrained(tmp_path)
    model = load_model("beir.retrieval.models:SentenceBERT", model_args=[f"model_path={tmp_path}"])
    split = load_split(split="zero_shot")
    encoded = encode_split(model, split, batch_size=64, cache=False)
    expected = model.encode_queries(list(split.query_texts), batch_size=64)
    expected = expected / np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(encoded.query_embeddings, expected, atol=1e-5)
