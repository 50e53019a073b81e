"""The model layer: field parsing and fusion, the open_clip and E5 adapters, registry, plug-ins."""
from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pytest
import torch
from hub_cache import use_hub_cache

from gcl_bench.errors import GclBenchError
from gcl_bench.fields import FieldEmbeddings, fuse_fields, parse_fields
from gcl_bench.models import (
    get_model_info,
    list_models,
    load_model,
    parse_model_args,
    register_model,
)

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", ":", "passage", "red", "shoe",
         "blue", "hat", "leather", "cotton", "green", "bag", "x"]


# -- fields -----------------------------------------------------------------------------------
def test_parse_fields_forms_and_errors():
    assert parse_fields("image:0.9,title:0.1", "doc") == {"image": 0.9, "title": 0.1}
    assert parse_fields("title", "doc") == {"title": 1.0}
    assert parse_fields(" text : 1 ", "query") == {"text": 1.0}
    assert parse_fields({"image": 1}, "doc") == {"image": 1.0}
    assert parse_fields(None, "doc", {"title": 1.0}) == {"title": 1.0}
    for bad, pattern in [("image:x", "not a number"), ("image:-1", "non-negative"),
                         ("image:0,title:0", "all be zero"), ("body:1", "unknown field 'body'"),
                         ("title,title", "twice"), (",", "empty field name")]:
        with pytest.raises(GclBenchError, match=pattern):
            parse_fields(bad, "doc")


def test_fuse_fields_matches_reference_rule():
    rng = np.random.default_rng(0)

    def unit(n, d):
        x = rng.normal(size=(n, d))
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    image, title = unit(5, 8), unit(5, 8)
    image[1] = np.nan  # document 1 has no image
    title[3] = np.nan  # document 3 has no title
    image[4] = title[4] = np.nan  # document 4 has nothing
    weights = {"image": 0.9, "title": 0.1}
    fused = fuse_fields([FieldEmbeddings(name, rows, weights[name]) for name, rows in
                         (("image", image), ("title", title))], 5, block=2)
    assert fused.has_field.tolist() == [True, True, True, True, False]
    assert fused.unusable == {"image": 2, "title": 2}
    got = fused.embeddings
    assert got.shape == (4, 8)
    for i in range(4):  # the reference: zero absent weights, rescale to 1, weighted sum, normalise
        w = np.array([0.9 if not np.isnan(image[i]).any() else 0.0,
                      0.1 if not np.isnan(title[i]).any() else 0.0])
        w = w / w.sum()
        vec = w[0] * np.nan_to_num(image[i]) + w[1] * np.nan_to_num(title[i])
        np.testing.assert_allclose(got[i], vec / np.linalg.norm(vec), rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32
    # the same fields given only for the items that have them (the encode stage's form)
    has_image = ~np.isnan(image).any(axis=1)
    compact = fuse_fields([FieldEmbeddings("image", image[has_image], 0.9, has_image),
                           FieldEmbeddings("title", title, 0.1)], 5)
    np.testing.assert_array_equal(compact.embeddings, got)


def test_parse_model_args_types():
    parsed = parse_model_args(["dim=64", "scale=0.5", "normalize=true", "off=no", "name=abc",
                               'layers=[1, 2]', 'cfg={"a": 1}', "nothing=none", "with-dash=1"])
    assert parsed == {"dim": 64, "scale": 0.5, "normalize": True, "off": False, "name": "abc",
                      "layers": [1, 2], "cfg": {"a": 1}, "nothing": None, "with_dash": 1}
    assert parse_model_args({"dim": "64", "name": "abc", "obj": [1]}) == {"dim": 64, "name": "abc", "obj": [1]}
    with pytest.raises(GclBenchError, match="key=value"):
        parse_model_args(["novalue"])
    with pytest.raises(GclBenchError, match="not valid JSON"):
        parse_model_args(["x=[1,"])


# -- open_clip adapter -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from gcl_bench.models.openclip import OpenClipRetriever

    return OpenClipRetriever("gcl-tiny", device="cpu")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("img")
    paths = []
    for i, colour in enumerate([(255, 0, 0), (0, 0, 255), (0, 200, 0)]):
        path = folder / f"{i}.png"
        Image.new("RGB", (40 + 10 * i, 36), colour).save(path)
        paths.append(str(path))
    broken = folder / "broken.png"
    broken.write_bytes(b"not a png")
    return paths, str(broken)


def test_open_clip_fields_equal_direct_model_calls(tiny, images):
    from PIL import Image

    paths, _ = images
    model = tiny.model
    titles = ["red shoe", "blue hat", "green bag"]
    with torch.no_grad():
        text = model.encode_text(tiny.tokenizer(titles), normalize=True).numpy()
        pixels = torch.stack([tiny.preprocess(Image.open(p).convert("RGB")) for p in paths])
        image = model.encode_image(pixels, normalize=True).numpy()
    np.testing.assert_allclose(tiny.encode_field("doc", "title", titles, 2), text, atol=1e-5)
    np.testing.assert_allclose(tiny.encode_field("doc", "image", paths, 2), image, atol=1e-5)
    corpus = [{"id": str(i), "title": t, "image": p} for i, (t, p) in enumerate(zip(titles, paths))]
    fused = 0.9 * image + 0.1 * text
    fused /= np.linalg.norm(fused, axis=1, keepdims=True)
    np.testing.assert_allclose(tiny.encode_corpus(corpus, batch_size=2), fused, atol=1e-5)
    # BEIR's {doc_id: doc} corpus form gives the same
    as_dict = {d["id"]: {"title": d["title"], "image": d["image"]} for d in corpus}
    np.testing.assert_allclose(tiny.encode_corpus(as_dict, batch_size=3), fused, atol=1e-5)


def test_missing_fields_renormalise_and_none_at_all_is_an_error(tiny, images):
    paths, broken = images
    corpus = [{"id": "a", "title": "red shoe", "image": None},
              {"id": "b", "title": "", "image": paths[1]},
              {"id": "c", "title": "green bag", "image": broken}]
    got = tiny.encode_corpus(corpus, batch_size=2)
    np.testing.assert_allclose(got[0], tiny.encode_field("doc", "title", ["red shoe"])[0], atol=1e-6)
    np.testing.assert_allclose(got[1], tiny.encode_field("doc", "image", [paths[1]])[0], atol=1e-6)
    np.testing.assert_allclose(got[2], tiny.encode_field("doc", "title", ["green bag"])[0], atol=1e-6)
    assert np.isnan(tiny.encode_field("doc", "image", [broken, None])).all()
    with pytest.raises(GclBenchError, match="first ids: z"):
        tiny.encode_corpus([{"id": "z", "title": " ", "image": "/no/such.png"}], batch_size=2)


def test_image_workers_give_identical_rows(tiny, images):
    paths, broken = images
    values = paths + [broken] + paths
    serial = tiny.encode_field("doc", "image", values, 2)
    tiny.num_workers = 1
    try:
        parallel = tiny.encode_field("doc", "image", values, 2)
    finally:
        tiny.num_workers = 0
    np.testing.assert_array_equal(np.isnan(serial), np.isnan(parallel))
    np.testing.assert_allclose(np.nan_to_num(serial), np.nan_to_num(parallel), atol=1e-6)


def test_prefix_context_length_and_cache_key():
    from gcl_bench.models.openclip import OpenClipRetriever

    plain = OpenClipRetriever("gcl-tiny", device="cpu")
    prefixed = OpenClipRetriever("gcl-tiny", device="cpu", query_prefix="find: ", context_length=16)
    assert prefixed.tokenize(["a b"]).shape == (1, 16)
    assert prefixed.describe()["context_length"] == 16 and plain.context_length == 32
    np.testing.assert_allclose(
        prefixed.encode_queries([{"text": "red shoe"}]),
        prefixed.encode_field("doc", "title", ["find: red shoe"]), atol=1e-6)
    key_a, key_b = plain.field_cache_key("query", "text"), prefixed.field_cache_key("query", "text")
    assert key_a["prefix"] == "" and key_b["prefix"] == "find: " and key_b["context_length"] == 16
    assert plain.field_cache_key("doc", "image")["preprocess"]
    assert plain.fingerprint() == prefixed.fingerprint()  # same weights; prefix lives in the key
    with pytest.raises(GclBenchError, match="unknown"):
        plain.field_cache_key("query", "image")
    with pytest.raises(GclBenchError, match="no CUDA") if not torch.cuda.is_available() else _null():
        OpenClipRetriever("gcl-tiny", device="cuda")


def _null():
    import contextlib

    return contextlib.nullcontext()


# -- E5 ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    BertTokenizerFast(vocab={w: i for i, w in enumerate(VOCAB)}).save_pretrained(folder)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=128)
    BertModel(config).eval().save_pretrained(folder)
    return folder


def test_e5_mean_pooling_and_prefixes(tiny_bert):
    from transformers import AutoModel, AutoTokenizer

    model = load_model(f"e5:{tiny_bert}", device="cpu")
    assert model.prefixes == {"query": "query: ", "doc": "passage: "}
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    bert = AutoModel.from_pretrained(tiny_bert).eval()
    texts = ["red shoe", "blue cotton hat leather bag"]
    got = model.encode_queries([{"text": t} for t in texts], batch_size=2)
    for i, text in enumerate(texts):  # one text at a time: no padding, a plain mean
        batch = tokenizer("query: " + text, return_tensors="pt")
        with torch.no_grad():
            hidden = bert(**batch).last_hidden_state[0]
        vec = hidden.mean(dim=0).numpy()
        np.testing.assert_allclose(got[i], vec / np.linalg.norm(vec), rtol=1e-4, atol=1e-5)
    docs = model.encode_corpus([{"title": "red shoe"}], batch_size=1)
    np.testing.assert_allclose(docs, _e5_plain(tiny_bert, "passage: red shoe"), atol=1e-5)
    no_prefix = load_model(f"e5:{tiny_bert}", device="cpu", model_args=["query_prefix=", "doc_prefix="])
    np.testing.assert_allclose(no_prefix.encode_queries([{"text": "query: red shoe"}]), got[:1], atol=1e-5)
    assert model.field_cache_key("query", "text")["prefix"] == "query: "
    assert model.fingerprint() == no_prefix.fingerprint()
    with pytest.raises(GclBenchError, match="text only"):
        load_model(f"e5:{tiny_bert}", device="cpu", doc_fields="image:1")


def _e5_plain(folder, text):
    from gcl_bench.models.e5 import E5Retriever

    plain = E5Retriever(folder, query_prefix="", doc_prefix="", device="cpu")
    return plain.encode_field("doc", "title", [text], 1)


def test_e5_missing_model_is_one_line(tmp_path):
    with pytest.raises(GclBenchError) as err:
        load_model(f"e5:{tmp_path / 'nope'}", device="cpu")
    assert "\n" not in str(err.value)


def test_gcl_e5_style_open_clip_with_hf_text_tower(tiny_bert, tmp_path):
    import open_clip

    from gcl_bench.models.openclip import OpenClipRetriever

    config = json.loads((get_arch_path("gcl-e5-large-v2")).read_text())
    config["embed_dim"] = 16
    config["vision_cfg"] = {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16}
    config["text_cfg"]["hf_model_name"] = str(tiny_bert)
    config["text_cfg"]["hf_tokenizer_name"] = str(tiny_bert)
    cfg_path = tmp_path / "tiny-hf-e5.json"
    cfg_path.write_text(json.dumps(config))
    open_clip.add_model_config(cfg_path)
    random_init = OpenClipRetriever("tiny-hf-e5", device="cpu", doc_fields="title:1")
    states = tmp_path / "states.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in random_init.model.state_dict().items()}}, states)
    loaded = OpenClipRetriever("tiny-hf-e5", states, device="cpu", doc_fields="title:1")
    emb = loaded.encode_corpus([{"title": "red shoe"}, {"title": "blue hat"}], batch_size=2)
    assert emb.shape == (2, 16)
    np.testing.assert_allclose(emb, random_init.encode_corpus([{"title": "red shoe"}, {"title": "blue hat"}]),
                               atol=1e-5)
    # the text tower is the HF model with mean pooling: compare with the E5 computation
    np.testing.assert_allclose(emb[:1], _mean_pooled(loaded, "red shoe"), atol=1e-5)


def _mean_pooled(adapter, text):
    tokens = adapter.tokenize([text])
    transformer = adapter.model.text.transformer
    mask = (tokens != transformer.config.pad_token_id).long()
    with torch.no_grad():
        hidden = transformer(input_ids=tokens, attention_mask=mask).last_hidden_state
    vec = ((hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)).numpy()
    return vec / np.linalg.norm(vec, axis=1, keepdims=True)


def get_arch_path(name):
    from gcl_bench.models.openclip import MODEL_CONFIG_DIR

    return MODEL_CONFIG_DIR / f"{name}.json"


# -- registry ----------------------------------------------------------------------------------
def test_registry_has_the_published_models():
    names = list_models()
    for name in ["bm25", "clip-vitl14", "gcl-vitb32", "gcl-vitl14", "marqo-gcl-vitb32",
                 "marqo-gcl-vitl14", "e5-large-v2", "gcl-e5-large-v2", "gcl-xlmr-b32",
                 "sample-clip", "sample-gcl"]:
        assert name in names
    info = get_model_info("gcl-vitb32")
    assert info.arch == "ViT-B-32" and info.doc_fields == {"image": 0.9, "title": 0.1}
    assert info.url.endswith("/v1/gcl-vitb32-117-gs-full-states.pt")
    assert get_model_info("e5-large-v2").prefixes == {"query": "query: ", "doc": "passage: "}
    assert get_model_info("gcl-e5-large-v2").prefixes == {"query": "", "doc": ""}


def test_unknown_model_lists_close_matches():
    with pytest.raises(GclBenchError, match="close matches: gcl-vitb32"):
        load_model("gcl-vitb33")
    with pytest.raises(GclBenchError, match="unknown model"):
        get_model_info("totally-different")
    with pytest.raises(GclBenchError, match="close matches: open_clip:gcl-tiny"):
        load_model("gcl-tiny")


def test_registry_weights_offline_error_then_cached_file_works(monkeypatch, tmp_path, tiny):
    from gcl_bench.download import weights_path

    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GCL_BENCH_OFFLINE", "1")
    url = "http://127.0.0.1:9/v1/tiny-test-states.pt"
    register_model("tiny-test", "gcl_bench.models:_registry_open_clip", family="open_clip",
                   arch="gcl-tiny", url=url, doc_fields={"title": 1.0}, overwrite=True)
    # the string factory resolves to the built-in open_clip factory
    with pytest.raises(GclBenchError) as err:
        load_model("tiny-test", device="cpu")
    message = str(err.value)
    dest = weights_path(url)
    assert url in message and str(dest) in message and "\n" not in message
    dest.parent.mkdir(parents=True)
    torch.save({"state_dict": tiny.model.state_dict()}, dest)
    model = load_model("tiny-test", device="cpu")
    assert model.doc_fields == {"title": 1.0} and model.name == "tiny-test"
    assert model.describe()["checkpoint"] == str(dest)
    with pytest.raises(GclBenchError, match="gcl-vitb32-117"):
        load_model("gcl-vitb32", device="cpu")


def test_bundled_sample_models_load_safely_or_say_they_are_absent():
    from gcl_bench.models import bundled_weights

    for name in ("sample-clip", "sample-gcl"):
        info = get_model_info(name)
        path = bundled_weights(info)
        if path is None:
            with pytest.raises(GclBenchError, match="not bundled"):
                load_model(name, device="cpu")
            continue
        model = load_model(name, device="cpu")  # weights_only: no --trust-checkpoint needed
        assert model.describe()["checkpoint"] == str(path) and model.arch == "gcl-tiny"
    register_model("absent-test", "gcl_bench.models:_registry_open_clip", family="open_clip",
                   arch="gcl-tiny", bundled="sample_models/absent-test", overwrite=True)
    with pytest.raises(GclBenchError, match="not bundled"):
        load_model("absent-test", device="cpu")


def test_register_model_twice_needs_overwrite():
    register_model("dup-test", lambda: None, overwrite=True)
    with pytest.raises(GclBenchError, match="already registered"):
        register_model("dup-test", lambda: None)


def test_catalog_rows_are_the_builtin_entries():
    from gcl_bench.models.catalog import BUILTIN_MODELS, PROFILES

    names = [row["name"] for row in BUILTIN_MODELS]
    assert list_models()[:len(names)] == names  # built-ins first, in table order
    for row in BUILTIN_MODELS:
        info = get_model_info(row["name"])
        expected = {**PROFILES[row["profile"]], **row}
        for key, value in expected.items():
            if key not in ("name", "profile"):
                assert getattr(info, key) == value, (row["name"], key)
        assert info.extra == {}
    assert get_model_info("gcl-xlmr-b32").context_length == 77
    assert get_model_info("bm25").prefixes is None and get_model_info("sample-gcl").context_length is None


def test_weights_of_registry_entries(monkeypatch, tmp_path):
    from gcl_bench.download import weights_path
    from gcl_bench.models import bundled_weights, download_weights, weights_status

    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GCL_BENCH_OFFLINE", "1")
    info = get_model_info("gcl-vitb32")
    dest = weights_path(info.url)
    assert weights_status(info) == "not downloaded"
    with pytest.raises(GclBenchError) as err:  # a mirror still fills the entry's own cache path
        download_weights(info, url="http://127.0.0.1:9/mirror/other-name.pt")
    assert str(dest) in str(err.value) and "\n" not in str(err.value)
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"weights")  # placed by hand, but not a checkpoint: refused, never trusted
    with pytest.raises(GclBenchError, match="not a checkpoint"):
        download_weights(info)
    import torch

    torch.save({"state_dict": {}}, dest)
    assert download_weights(info) == dest and weights_status(info) == "cached"
    sample = get_model_info("sample-gcl")
    if bundled_weights(sample) is not None:
        assert download_weights(sample) == bundled_weights(sample)
    use_hub_cache(monkeypatch, tmp_path / "empty-hf-cache")
    with pytest.raises(GclBenchError, match="intfloat/e5-large-v2 is not in the Hugging Face cache") as err:
        download_weights(get_model_info("e5-large-v2"))  # Hub weights go to the HF cache; offline here
    assert "\n" not in str(err.value)
    with pytest.raises(GclBenchError, match="no weights to download"):
        download_weights(get_model_info("bm25"))
    assert weights_status(get_model_info("bm25")) == "none needed"
    assert weights_status(get_model_info("e5-large-v2")) == "not downloaded (HF hub)"


def test_factory_options_have_one_table_of_defaults(tmp_path):
    import dataclasses
    import inspect

    from gcl_bench.models.plugins import DEFAULT_OPTIONS, FactoryOptions

    params = inspect.signature(load_model).parameters
    for option, default in dataclasses.asdict(DEFAULT_OPTIONS).items():
        assert params[option].default == default, option
    assert FactoryOptions().explicit() == {}
    assert FactoryOptions(device="cpu", num_workers=2).explicit() == {"device": "cpu", "num_workers": 2}
    path = tmp_path / "kw.py"
    path.write_text("class Kw:\n    def __init__(self, **kwargs):\n        self.kwargs = kwargs\n")
    assert load_model(f"{path}:Kw").kwargs == {}  # options left at their default are not passed
    got = load_model(f"{path}:Kw", device="cpu", doc_fields="title:1", model_args=["device=cuda"]).kwargs
    assert got == {"device": "cuda", "doc_fields": "title:1"}  # --model-arg wins over an option


def test_model_shapes_are_told_apart(tiny, tmp_path):
    from gcl_bench.models import (
        has_fingerprint,
        has_search_arrays,
        is_dense_encoder,
        is_field_encoder,
        is_lexical,
    )
    from gcl_bench.models.bm25 import BM25Retriever

    path = tmp_path / "shapes.py"
    path.write_text(PLUGIN + textwrap.dedent("""
        class SearchOnly:
            def search(self, corpus, queries, top_k):
                return {}

        class EncodesAndSearches(Enc):
            def search(self, corpus, queries, top_k):
                return {}
    """))
    plugin, search_only, both = (load_model(f"{path}:{name}") for name in ("Enc", "SearchOnly", "EncodesAndSearches"))
    predicates = (is_dense_encoder, is_field_encoder, is_lexical, has_fingerprint, has_search_arrays)
    expected = {  # dense, field, lexical, fingerprint, search_arrays
        "open_clip adapter": (tiny, (True, True, False, True, False)),
        "BEIR plug-in": (plugin, (True, False, False, False, False)),
        "bm25": (BM25Retriever(), (False, False, True, True, True)),
        "search only": (search_only, (False, False, True, False, False)),
        "encodes and searches": (both, (True, False, False, False, False)),
    }
    for what, (model, shape) in expected.items():
        assert tuple(predicate(model) for predicate in predicates) == shape, what


# -- plug-ins ----------------------------------------------------------------------------------
PLUGIN = textwrap.dedent('''
    import numpy as np

    class Enc:
        def __init__(self, dim=4, scale=1.0, normalize=False, device="cpu"):
            self.dim, self.scale, self.normalize, self.device = dim, scale, normalize, device

        def encode_queries(self, queries, batch_size, **kw):
            return np.ones((len(queries), self.dim), dtype=np.float32) * self.scale

        def encode_corpus(self, corpus, batch_size, **kw):
            return np.ones((len(corpus), self.dim), dtype=np.float32)
''')


def test_plugin_from_file_with_typed_args(tmp_path):
    path = tmp_path / "my_encoder.py"
    path.write_text(PLUGIN)
    model = load_model(f"{path}:Enc", model_args=["dim=8", "scale=0.5", "normalize=yes"], device="cpu")
    assert (model.dim, model.scale, model.normalize, model.device) == (8, 0.5, True, "cpu")
    assert model.encode_queries([{"text": "a"}], 2).shape == (1, 8)
    with pytest.raises(GclBenchError, match="close matches: Enc"):
        load_model(f"{path}:Encc")
    with pytest.raises(GclBenchError, match="does not take pretrained"):
        load_model(f"{path}:Enc", pretrained="x.pt")
    with pytest.raises(GclBenchError, match="cannot build"):
        load_model(f"{path}:Enc", model_args=["colour=red"])


def test_plugin_from_module_and_import_errors(tmp_path, monkeypatch):
    (tmp_path / "gcl_test_plugin_mod.py").write_text(PLUGIN)
    (tmp_path / "gcl_test_broken_mod.py").write_text("import no_such_package_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    model = load_model("gcl_test_plugin_mod:Enc", model_args={"dim": 3})
    assert model.dim == 3
    with pytest.raises(GclBenchError) as err:
        load_model("gcl_test_broken_mod:Enc")
    assert "no_such_package_xyz" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(GclBenchError, match="not found"):
        load_model(str(tmp_path / "missing.py") + ":Enc")
    sys.modules.pop("gcl_test_plugin_mod", None)


def test_entry_point_registration(tmp_path, monkeypatch):
    import importlib.metadata

    from gcl_bench.models import registry

    (tmp_path / "gcl_test_ep_mod.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = [importlib.metadata.EntryPoint(name="ep-model", value="gcl_test_ep_mod:Enc",
                                          group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: fake)
    monkeypatch.setattr(registry, "_ENTRY_POINTS_LOADED", False)
    try:
        assert "ep-model" in list_models()
        assert load_model("ep-model", model_args=["dim=2"]).dim == 2
    finally:
        registry._REGISTRY.pop("ep-model", None)


def test_models_command_lists_registry():
    from click.testing import CliRunner

    from gcl_bench.cli import cli

    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0, result.output
    for name in ("gcl-vitb32", "e5-large-v2", "bm25", "sample-gcl"):
        assert name in result.output
    as_json = CliRunner().invoke(cli, ["models", "--json"])
    rows = json.loads(as_json.output)
    assert {row["name"] for row in rows} >= {"gcl-vitl14", "gcl-xlmr-b32"}
    assert all("weights" in row for row in rows)


def test_e5_registry_entry_offline_is_one_line(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(GclBenchError) as err:
        load_model("e5-large-v2", device="cpu")
    message = str(err.value)
    assert "intfloat/e5-large-v2" in message and "\n" not in message


def test_e5_batching_does_not_change_rows(tiny_bert):
    model = load_model(f"e5:{tiny_bert}", device="cpu")
    texts = ["red", "blue cotton hat leather bag green shoe", None, "shoe x", "", "green bag"]
    batched = model.encode_field("doc", "title", texts, 2)
    for i, text in enumerate(texts):
        single = model.encode_field("doc", "title", [text], 1)
        np.testing.assert_allclose(batched[i], single[0], atol=1e-5, equal_nan=True)
    assert np.isnan(batched[[2, 4]]).all() and not np.isnan(batched[[0, 1, 3, 5]]).any()
