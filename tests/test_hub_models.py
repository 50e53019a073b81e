"""Models from the Hugging Face Hub, offline from a local Hub cache: every Hub entry of the
registry resolves to its cached files, ``open_clip:hf-hub:ORG/NAME`` builds (tiny random weights
in the real file layout), embeddings match open_clip / transformers called directly, and a
missing or misspelled model is one line naming the repo id."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from faults.harness import expect_error, run_cli
from hub_cache import commit_sha, put_file, put_ref, use_hub_cache

from gcl_bench.errors import GclBenchError
from gcl_bench.models import get_model_info, load_model, weights_status
from gcl_bench.models.hub import entry_weights
from gcl_bench.models.openclip import MODEL_CONFIG_DIR

OPEN_CLIP_HUB = ("marqo-ecommerce-b", "marqo-ecommerce-l", "marqo-fashionclip", "marqo-fashionsiglip")
TAGGED = ("clip-vitb32-openai", "clip-vitl14-openai", "siglip-vitb16-webli")
TRANSFORMERS_HUB = ("gcl-e5-large-v2-130", "e5-large-v2")
COMMIT = commit_sha("hub models")
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "red", "shoe", "blue", "hat", "bag"]


def tiny_open_clip(embed_dim: int, seed: int) -> tuple[dict, dict]:
    """The gcl-tiny architecture with ``embed_dim`` outputs, and random weights for it."""
    from open_clip.model import CLIP

    config = json.loads((MODEL_CONFIG_DIR / "gcl-tiny.json").read_text())
    config["embed_dim"] = embed_dim
    torch.manual_seed(seed)
    return config, CLIP(**config).state_dict()


def put_open_clip_model(cache: Path, repo_id: str, embed_dim: int, seed: int) -> dict:
    from safetensors.torch import save

    config, state = tiny_open_clip(embed_dim, seed)
    hub_config = {"model_cfg": config, "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}}
    put_file(cache, repo_id, COMMIT, "open_clip_config.json", json.dumps(hub_config).encode())
    put_file(cache, repo_id, COMMIT, "open_clip_model.safetensors", save(state))
    put_ref(cache, repo_id, "main", COMMIT)
    return state


def put_transformers_model(cache: Path, repo_id: str, folder: Path) -> None:
    for path in sorted(folder.iterdir()):
        put_file(cache, repo_id, COMMIT, path.name, path.read_bytes())
    put_ref(cache, repo_id, "main", COMMIT)


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A Hub cache with every Hub model of the registry: tiny open_clip models of the entries'
    embedding sizes, a tiny BERT of hidden size 1024, and placeholder files for tagged weights."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    cache = tmp_path_factory.mktemp("hf-models")
    states = {}
    for seed, name in enumerate(OPEN_CLIP_HUB):
        info = get_model_info(name)
        states[name] = put_open_clip_model(cache, info.arch.removeprefix("hf-hub:"), info.embedding_dim, seed)
    bert = tmp_path_factory.mktemp("tiny-bert-1024")
    BertTokenizerFast(vocab={w: i for i, w in enumerate(VOCAB)}).save_pretrained(bert)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=1024, num_hidden_layers=1, num_attention_heads=4,
                        intermediate_size=32, max_position_embeddings=80)
    BertModel(config).eval().save_pretrained(bert)
    for name in TRANSFORMERS_HUB:
        put_transformers_model(cache, get_model_info(name).hf_name, bert)
    for repo_id in ("timm/vit_base_patch32_clip_224.openai", "timm/vit_large_patch14_clip_224.openai",
                    "timm/ViT-B-16-SigLIP"):
        put_file(cache, repo_id, COMMIT, "open_clip_model.safetensors", b"placeholder " + repo_id.encode())
        put_ref(cache, repo_id, "main", COMMIT)
    return cache, {"states": states, "bert": bert}


@pytest.fixture
def offline_hub(hub_cache, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    use_hub_cache(monkeypatch, hub_cache[0])
    return hub_cache


def test_open_clip_hub_entries_build_offline(offline_hub) -> None:
    import open_clip
    from open_clip.model import CLIP

    cache, made = offline_hub
    for name in OPEN_CLIP_HUB:
        info = get_model_info(name)
        repo_id = info.arch.removeprefix("hf-hub:")
        model = load_model(name, device="cpu")
        described = model.describe()
        assert model.embedding_dim() == info.embedding_dim and weights_status(info) == "HF cache"
        assert described["hub"]["repo_id"] == repo_id and described["hub"]["commit"] == COMMIT
        assert described["hub"]["file"] == "open_clip_model.safetensors" and len(described["hub"]["sha256"]) == 64
        assert model.training_data == info.training_data and model.doc_fields == {"image": 0.9, "title": 0.1}
    # the embeddings are those of open_clip's CLIP with the stored weights, normalised
    config, _ = tiny_open_clip(get_model_info("marqo-ecommerce-b").embedding_dim, 0)
    direct = CLIP(**config).eval()
    direct.load_state_dict(made["states"]["marqo-ecommerce-b"])
    tokens = open_clip.tokenize(["red shoe", "blue hat"], context_length=32)
    with torch.no_grad():
        expected = torch.nn.functional.normalize(direct.encode_text(tokens), dim=-1).numpy()
    got = load_model("marqo-ecommerce-b", device="cpu").encode_queries([{"text": "red shoe"}, {"text": "blue hat"}])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # the same weights through the open_clip: spec carry the entry's training record
    spec = load_model("open_clip:hf-hub:Marqo/marqo-ecommerce-embeddings-B", device="cpu")
    np.testing.assert_allclose(spec.encode_queries([{"text": "red shoe"}, {"text": "blue hat"}]), expected, atol=1e-5)
    assert spec.training_data == get_model_info("marqo-ecommerce-b").training_data
    assert spec.fingerprint() == load_model("marqo-ecommerce-b", device="cpu").fingerprint()


def test_download_and_listing_of_hub_entries(offline_hub) -> None:
    from click.testing import CliRunner

    from gcl_bench.cli import cli
    from gcl_bench.models import download_weights

    cache, _ = offline_hub
    for name in ("marqo-fashionsiglip", "gcl-e5-large-v2-130", "clip-vitb32-openai"):
        path = download_weights(get_model_info(name))  # offline: the cached files answer
        assert path.is_relative_to(cache) and path.parent.name == COMMIT
    listing = json.loads(CliRunner().invoke(cli, ["models", "--json"]).output)
    status = {row["name"]: row["weights"] for row in listing}
    assert all(status[name] == "HF cache" for name in (*OPEN_CLIP_HUB, *TAGGED, *TRANSFORMERS_HUB))
    assert {row["name"]: row["embedding_dim"] for row in listing}["marqo-ecommerce-l"] == 1024


def test_tagged_baselines_resolve_offline(offline_hub) -> None:
    import open_clip

    cache, _ = offline_hub
    for name in TAGGED:
        info = get_model_info(name)
        found = entry_weights(info, download=False)
        assert found is not None and found.path.read_bytes().startswith(b"placeholder " + found.repo_id.encode())
        assert found.commit == COMMIT and found.path.is_relative_to(cache) and weights_status(info) == "HF cache"
        # the architecture open_clip builds for the tag gives the entry's embedding size
        assert open_clip.get_model_config(info.arch)["embed_dim"] == info.embedding_dim
        assert info.pretrained_tag in open_clip.list_pretrained_tags_by_model(info.arch)
    assert open_clip.get_pretrained_cfg("ViT-B-32-quickgelu", "openai")["quick_gelu"] is True


def test_transformers_hub_entries_load_offline(offline_hub) -> None:
    from transformers import AutoModel, AutoTokenizer

    _, made = offline_hub
    tokenizer = AutoTokenizer.from_pretrained(made["bert"])
    bert = AutoModel.from_pretrained(made["bert"]).eval()
    for name in TRANSFORMERS_HUB:
        info = get_model_info(name)
        model = load_model(name, device="cpu")
        assert model.embedding_dim() == info.embedding_dim == 1024 and weights_status(info) == "HF cache"
        assert model.describe()["hub"] == {"repo_id": info.hf_name, "commit": COMMIT, "file": "model.safetensors",
                                           "sha256": model.hub_weights.sha256}
        prefix = info.prefixes["query"]
        batch = tokenizer(prefix + "red shoe", return_tensors="pt")
        with torch.no_grad():
            vec = bert(**batch).last_hidden_state[0].mean(dim=0).numpy()
        np.testing.assert_allclose(model.encode_queries([{"text": "red shoe"}])[0], vec / np.linalg.norm(vec),
                                   rtol=1e-4, atol=1e-5)
    assert get_model_info("gcl-e5-large-v2-130").prefixes == {"query": "", "doc": ""}


def test_missing_or_misspelled_hub_model_is_one_line(offline_hub, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    result = run_cli(["run", "--model", "open_clip:hf-hub:Marqo/marqo-ecommerce-B", "--output-dir", out])
    expect_error(result, "Marqo/marqo-ecommerce-B", "Marqo/marqo-ecommerce-embeddings-B", "not in the Hugging Face cache")
    assert not out.exists()
    expect_error(run_cli(["run", "--model", "hf-hub:Marqo/marqo-fashionSigLIP"]), "open_clip:hf-hub:Marqo/marqo-fashionSigLIP")
    use_hub_cache(monkeypatch, tmp_path / "empty")
    for name, repo_id in (("marqo-fashionsiglip", "Marqo/marqo-fashionSigLIP"),
                          ("clip-vitl14-openai", "timm/vit_large_patch14_clip_224.openai"),
                          ("gcl-e5-large-v2-130", "Marqo/marqo-gcl-e5-large-v2-130")):
        line = expect_error(run_cli(["run", "--model", name, "--output-dir", out]), repo_id, "hf download")
        assert "HF_HUB_OFFLINE" in line and str(tmp_path / "empty") in line
        assert weights_status(get_model_info(name)) == "not downloaded (HF hub)"


def test_a_checkpoint_file_on_a_hub_architecture_needs_only_its_config(tmp_path: Path, monkeypatch) -> None:
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    cache = tmp_path / "hf"
    put_open_clip_model(cache, "Marqo/marqo-fashionCLIP", embed_dim=512, seed=0)
    weights = next((cache / "models--Marqo--marqo-fashionCLIP" / "snapshots" / COMMIT).glob("*.safetensors"))
    weights.unlink()  # only open_clip_config.json is cached
    config, state = tiny_open_clip(512, seed=5)
    save_file(state, tmp_path / "finetuned.safetensors")
    use_hub_cache(monkeypatch, cache)
    model = load_model("open_clip:hf-hub:Marqo/marqo-fashionCLIP", pretrained=tmp_path / "finetuned.safetensors",
                       device="cpu")
    direct = CLIP(**config).eval()
    direct.load_state_dict(state)
    import open_clip

    with torch.no_grad():
        expected = torch.nn.functional.normalize(direct.encode_text(open_clip.tokenize(["red shoe"], 32)), dim=-1)
    np.testing.assert_allclose(model.encode_queries([{"text": "red shoe"}]), expected.numpy(), atol=1e-5)
    assert model.training_data is None and model.describe()["checkpoint"] == str(tmp_path / "finetuned.safetensors")
    with pytest.raises(GclBenchError, match="not in the Hugging Face cache"):  # its own weights are not there
        load_model("marqo-fashionclip", device="cpu")


def test_weights_of_another_size_are_refused(tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "hf"
    put_open_clip_model(cache, "Marqo/marqo-fashionCLIP", embed_dim=48, seed=0)
    use_hub_cache(monkeypatch, cache)
    for spec in ("marqo-fashionclip", "open_clip:hf-hub:Marqo/marqo-fashionCLIP"):
        with pytest.raises(GclBenchError, match="48-dimensional embeddings, the registry entry expects 512"):
            load_model(spec, device="cpu")
