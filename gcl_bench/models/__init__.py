"""The model registry: one place that turns a ``--model`` spec into a retriever.

Specs understood by :func:`load_model`:

- a registry name (``gcl-vitb32``, ``e5-large-v2``, ``bm25``; ``gcl-bench models`` lists them);
- ``open_clip:ARCH`` with ``pretrained=PATH_OR_TAG`` (:class:`~gcl_bench.models.openclip.OpenClipRetriever`);
- ``e5:HF_NAME_OR_PATH`` (:class:`~gcl_bench.models.e5.E5Retriever`);
- ``path/to/file.py:ClassName`` or ``package.module:ClassName``: a plug-in, any class with BEIR's
  ``encode_queries`` / ``encode_corpus`` (or a lexical ``search``), built with ``model_args``.

Third-party packages register models through the ``gcl_bench.models`` entry-point group: each
entry point's name is the model name and its object a factory (called like a plug-in class).
Python code calls :func:`register_model`.

Registry entries record what each published model is evaluated with. Sources: weights URLs from
the marqo-ai/GCL README; architectures from its demo (``ViT-B-32`` for GCL ViT-B/32) and
``evals/cfg`` (E5 as an open_clip model with an HF text tower); fields and weights from
``evals/eval_gs_v1.py`` defaults, which the README's multi-field table uses (query ``text``;
documents ``image`` 0.9 + ``title`` 0.1); the text-only table (E5, xlm-roberta) uses titles only.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcl_bench.errors import GclBenchError

__all__ = [
    "ModelInfo",
    "register_model",
    "get_model_info",
    "list_models",
    "load_model",
    "parse_model_args",
    "describe_model",
    "weights_status",
    "ENTRY_POINT_GROUP",
]

ENTRY_POINT_GROUP = "gcl_bench.models"
GCL_URL = "https://marqo-gcl-public.s3.us-west-2.amazonaws.com/v1/"
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
SAMPLE_WEIGHTS_DIR = ASSETS_DIR / "sample_models"
SAMPLE_SUFFIXES = (".safetensors", ".pt", "-states.pt")

MULTI_FIELD_DOCS = {"image": 0.9, "title": 0.1}
QUERY_TEXT = {"text": 1.0}
TITLE_ONLY = {"title": 1.0}
NO_PREFIXES = {"query": "", "doc": ""}
E5_PREFIXES = {"query": "query: ", "doc": "passage: "}


@dataclass(frozen=True)
class ModelInfo:
    """One registry entry: how to build a model and what it is evaluated with."""

    name: str
    factory: Callable[..., Any] | str
    """A callable, or ``"module:attr"`` imported on first use."""
    family: str = "custom"
    arch: str | None = None
    url: str | None = None
    """Where the weights come from (downloaded to ``cache_dir()/weights/<file name>``)."""
    sha256: str | None = None
    size: int | None = None
    hf_name: str | None = None
    bundled: str | None = None
    """Weights shipped inside the package: a path relative to ``gcl_bench/assets`` without suffix."""
    query_fields: dict[str, float] | None = None
    doc_fields: dict[str, float] | None = None
    prefixes: dict[str, str] | None = None
    context_length: int | None = None
    description: str = ""
    source: str = ""
    """Where the settings of this entry come from."""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view (the factory as a string)."""
        factory = self.factory if isinstance(self.factory, str) else _qualname(self.factory)
        return {
            "name": self.name, "family": self.family, "arch": self.arch, "url": self.url,
            "sha256": self.sha256, "size": self.size, "hf_name": self.hf_name,
            "bundled": self.bundled, "query_fields": self.query_fields,
            "doc_fields": self.doc_fields, "prefixes": self.prefixes,
            "context_length": self.context_length, "description": self.description,
            "source": self.source, "factory": factory, **self.extra,
        }


_REGISTRY: dict[str, ModelInfo] = {}
_ENTRY_POINTS_LOADED = False


def register_model(
    name: str, factory: Callable[..., Any] | str, *, overwrite: bool = False, **info: Any
) -> ModelInfo:
    """Add ``name`` to the registry; ``info`` fills :class:`ModelInfo` fields (others go to ``extra``).

    ``factory`` is called by :func:`load_model` with the keyword arguments it accepts among
    ``pretrained, device, query_fields, doc_fields, trust_checkpoint, ...`` plus ``model_args``.
    Re-registering a name raises unless ``overwrite``.
    """
    if not name or ":" in name:
        raise GclBenchError(f"model name {name!r} must be non-empty and contain no ':'")
    if name in _REGISTRY and not overwrite:
        raise GclBenchError(f"model {name!r} is already registered (pass overwrite=True to replace it)")
    known = {f for f in ModelInfo.__dataclass_fields__ if f not in ("name", "factory", "extra")}
    fields = {k: v for k, v in info.items() if k in known}
    extra = {k: v for k, v in info.items() if k not in known}
    entry = ModelInfo(name=name, factory=factory, extra=extra, **fields)
    _REGISTRY[name] = entry
    return entry


def list_models() -> list[str]:
    """Registered model names, built-ins first, in registration order."""
    _load_entry_points()
    return list(_REGISTRY)


def get_model_info(name: str) -> ModelInfo:
    """The entry for ``name``; an unknown name raises GclBenchError listing close matches."""
    _load_entry_points()
    if name in _REGISTRY:
        return _REGISTRY[name]
    raise GclBenchError(_unknown_message(name))


def _unknown_message(name: str) -> str:
    close = difflib.get_close_matches(name, list(_REGISTRY), n=4, cutoff=0.5)
    if ":" not in name and _is_open_clip_arch(name):
        close.insert(0, f"open_clip:{name}")
    hint = f"close matches: {', '.join(close)}" if close else f"registered: {', '.join(_REGISTRY)}"
    return (
        f"unknown model {name!r} ({hint}; or use open_clip:ARCH, e5:NAME, "
        "path/to/file.py:Class, package.module:Class)"
    )


def _is_open_clip_arch(name: str) -> bool:
    try:
        from gcl_bench.models.openclip import get_arch_config

        get_arch_config(name)
        return True
    except Exception:  # noqa: BLE001 - only a hint; no open_clip or unknown arch
        return False


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    try:
        eps = entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # noqa: BLE001 - broken metadata must not break the registry
        return
    for ep in eps:
        if ep.name not in _REGISTRY:
            register_model(ep.name, ep.value, family="plugin", description=f"entry point {ep.value}")


# -- loading ----------------------------------------------------------------------------------
def load_model(
    spec: str,
    *,
    pretrained: str | os.PathLike[str] | None = None,
    model_args: Mapping[str, Any] | list[str] | tuple[str, ...] | None = None,
    device: str = "auto",
    query_fields: str | Mapping[str, float] | None = None,
    doc_fields: str | Mapping[str, float] | None = None,
    trust_checkpoint: bool = False,
    context_length: int | None = None,
    precision: str = "auto",
    num_workers: int = 0,
    download: bool = True,
) -> Any:
    """Build the retriever named by ``spec`` (see the module docstring for the forms).

    ``model_args`` are extra constructor arguments: a mapping, or ``key=value`` strings as given
    to ``--model-arg`` (values parsed by :func:`parse_model_args`). ``query_fields`` /
    ``doc_fields`` override a registry entry's (``"image:0.9,title:0.1"``). ``download=False``
    refuses to fetch missing registry weights. Returns the model object; gcl_bench's adapters
    are :class:`~gcl_bench.models.base.DenseAdapter` instances.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise GclBenchError("no model given (--model NAME, open_clip:ARCH, e5:NAME or file.py:Class)")
    spec = spec.strip()
    args = parse_model_args(model_args)
    options: dict[str, Any] = {
        "pretrained": None if pretrained is None else os.fspath(pretrained),
        "device": device,
        "query_fields": query_fields,
        "doc_fields": doc_fields,
        "trust_checkpoint": trust_checkpoint,
        "context_length": context_length,
        "precision": precision,
        "num_workers": num_workers,
    }
    _load_entry_points()
    if spec in _REGISTRY:
        info = _REGISTRY[spec]
        factory = _resolve_factory(info.factory, spec)
        if factory in _BUILTIN_FACTORIES:
            return factory(info, options, args, download=download)
        return _call_factory(factory, spec, options, args)
    family, sep, rest = spec.partition(":")
    if sep and family == "open_clip":
        return _build_open_clip(rest, options, args, name=spec)
    if sep and family == "e5":
        if options["pretrained"]:
            raise GclBenchError("e5:NAME takes no --pretrained; give a local folder as e5:PATH")
        return _build_e5(rest, options, args, name=spec, prefixes=E5_PREFIXES)
    if sep and rest and _is_plugin_spec(family):
        cls = load_plugin(spec)
        return _call_factory(cls, spec, options, args)
    raise GclBenchError(_unknown_message(spec))


def _is_plugin_spec(left: str) -> bool:
    return left.endswith(".py") or "/" in left or os.sep in left or left.replace(".", "").replace("_", "").isalnum()


def load_plugin(spec: str) -> Any:
    """Import the object named by ``path/to/file.py:Name`` or ``package.module:Name``."""
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise GclBenchError(f"plug-in {spec!r} must look like path/to/file.py:ClassName or package.module:ClassName")
    try:
        if target.endswith(".py") or "/" in target or os.sep in target:
            path = Path(target).expanduser()
            if not path.is_file():
                raise GclBenchError("plug-in file not found", path)
            module_name = f"gcl_bench_plugin_{abs(hash(str(path.resolve())))}"
            module_spec = importlib.util.spec_from_file_location(module_name, path)
            if module_spec is None or module_spec.loader is None:
                raise GclBenchError("cannot import this file as Python", path)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            try:
                module_spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(module_name, None)
                raise
        else:
            module = importlib.import_module(target)
    except GclBenchError:
        raise
    except Exception as err:  # noqa: BLE001 - any import failure is one line for the user
        raise GclBenchError(
            f"cannot import plug-in {spec!r}: {type(err).__name__}: {_first_line(err)}"
        ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        names = [n for n in dir(module) if not n.startswith("_")]
        close = difflib.get_close_matches(attr, names, n=3)
        hint = f" (close matches: {', '.join(close)})" if close else ""
        raise GclBenchError(f"plug-in {spec!r}: {target} has no attribute {attr!r}{hint}") from None


def _resolve_factory(factory: Callable[..., Any] | str, name: str) -> Callable[..., Any]:
    if callable(factory):
        return factory
    return load_plugin(factory)


_OPTION_DEFAULTS: dict[str, Any] = {
    "pretrained": None, "device": "auto", "query_fields": None, "doc_fields": None,
    "trust_checkpoint": False, "context_length": None, "precision": "auto", "num_workers": 0,
}


def _call_factory(factory: Callable[..., Any], spec: str, options: dict[str, Any], args: dict[str, Any]) -> Any:
    """Call a plug-in factory with ``args`` plus the options its signature accepts."""
    try:
        signature = inspect.signature(factory)
        params = signature.parameters
        takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    except (TypeError, ValueError):
        params, takes_kwargs = {}, False
    kwargs = dict(args)
    for key, value in options.items():
        explicit = value != _OPTION_DEFAULTS.get(key)
        if key in kwargs or not explicit:
            continue
        if key in params or takes_kwargs:
            kwargs[key] = value
        elif key in ("pretrained", "query_fields", "doc_fields", "context_length"):
            raise GclBenchError(f"{spec} does not take {key.replace('_', '-')} (its constructor has no such argument)")
    try:
        return factory(**kwargs)
    except GclBenchError:
        raise
    except TypeError as err:
        raise GclBenchError(f"cannot build {spec!r} with arguments {sorted(kwargs)}: {_first_line(err)}") from None


# -- built-in families --------------------------------------------------------------------------
def _build_open_clip(
    arch: str, options: dict[str, Any], args: dict[str, Any], *, name: str,
    defaults: ModelInfo | None = None, checkpoint: str | None = None,
) -> Any:
    from gcl_bench.models.openclip import OpenClipRetriever

    if not arch:
        raise GclBenchError("open_clip:ARCH needs an architecture name, e.g. open_clip:ViT-B-32")
    prefixes = (defaults.prefixes if defaults and defaults.prefixes else NO_PREFIXES)
    kwargs: dict[str, Any] = {
        "query_fields": options["query_fields"] or (defaults.query_fields if defaults else None),
        "doc_fields": options["doc_fields"] or (defaults.doc_fields if defaults else None),
        "context_length": options["context_length"] or (defaults.context_length if defaults else None),
        "query_prefix": prefixes.get("query", ""),
        "doc_prefix": prefixes.get("doc", ""),
        "device": options["device"],
        "precision": options["precision"],
        "num_workers": options["num_workers"],
        "trust_checkpoint": options["trust_checkpoint"],
        "name": name,
    }
    kwargs.update(args)
    pretrained = options["pretrained"] or checkpoint
    try:
        return OpenClipRetriever(arch, pretrained, **kwargs)
    except TypeError as err:
        raise GclBenchError(f"bad --model-arg for {name}: {_first_line(err)}") from None


def _build_e5(
    source: str, options: dict[str, Any], args: dict[str, Any], *, name: str,
    prefixes: Mapping[str, str], defaults: ModelInfo | None = None,
) -> Any:
    from gcl_bench.models.e5 import E5Retriever

    if not source:
        raise GclBenchError("e5:NAME needs a Hugging Face model name or folder, e.g. e5:intfloat/e5-large-v2")
    kwargs: dict[str, Any] = {
        "query_fields": options["query_fields"] or (defaults.query_fields if defaults else None),
        "doc_fields": options["doc_fields"] or (defaults.doc_fields if defaults else None),
        "context_length": options["context_length"],
        "query_prefix": prefixes.get("query", ""),
        "doc_prefix": prefixes.get("doc", ""),
        "device": options["device"],
        "precision": options["precision"],
        "name": name,
    }
    kwargs.update(args)
    try:
        return E5Retriever(source, **kwargs)
    except TypeError as err:
        raise GclBenchError(f"bad --model-arg for {name}: {_first_line(err)}") from None


def _registry_open_clip(info: ModelInfo, options: dict[str, Any], args: dict[str, Any], *, download: bool) -> Any:
    checkpoint = None if options["pretrained"] else str(resolve_weights(info, download=download))
    return _build_open_clip(info.arch or "", options, args, name=info.name, defaults=info, checkpoint=checkpoint)


def _registry_e5(info: ModelInfo, options: dict[str, Any], args: dict[str, Any], *, download: bool) -> Any:
    source = options["pretrained"] or info.hf_name or ""
    return _build_e5(source, dict(options, pretrained=None), args, name=info.name,
                     prefixes=info.prefixes or E5_PREFIXES, defaults=info)


def _registry_bm25(info: ModelInfo, options: dict[str, Any], args: dict[str, Any], *, download: bool) -> Any:
    cls = load_plugin("gcl_bench.models.bm25:BM25Retriever")
    return _call_factory(cls, info.name, {}, args)


_BUILTIN_FACTORIES = {_registry_open_clip, _registry_e5, _registry_bm25}


def resolve_weights(info: ModelInfo, *, download: bool = True) -> Path:
    """The local weights file of a registry entry: bundled, cached, or downloaded now."""
    if info.bundled:
        path = bundled_weights(info)
        if path is None:
            raise GclBenchError(
                f"the weights of {info.name} are not bundled with this installation (expected "
                f"{SAMPLE_WEIGHTS_DIR / Path(info.bundled).name}{{{','.join(SAMPLE_SUFFIXES)}}}); "
                "train them with gcl-bench train or pass --pretrained PATH",
                SAMPLE_WEIGHTS_DIR,
            )
        return path
    if not info.url:
        raise GclBenchError(f"model {info.name} has no weights URL; pass --pretrained PATH")
    from gcl_bench.download import download_file, weights_path

    dest = weights_path(info.url)
    if dest.is_file() or download:
        return download_file(info.url, dest, sha256=info.sha256, size=info.size)
    raise GclBenchError(
        f"weights of {info.name} are not in the cache; run gcl-bench download model {info.name} "
        f"or place {info.url} at this path",
        dest,
    )


def bundled_weights(info: ModelInfo) -> Path | None:
    """The bundled weights file of ``info`` (any of the accepted suffixes), if present."""
    if not info.bundled:
        return None
    base = ASSETS_DIR / info.bundled
    for suffix in SAMPLE_SUFFIXES:
        candidate = base.with_name(base.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def weights_status(info: ModelInfo) -> str:
    """``none needed``, ``bundled``, ``missing (bundled)``, ``cached``, ``HF hub`` or ``not downloaded``."""
    if info.bundled:
        return "bundled" if bundled_weights(info) else "missing (bundled)"
    if info.url:
        from gcl_bench.download import weights_path

        return "cached" if weights_path(info.url).is_file() else "not downloaded"
    if info.hf_name:
        return "HF hub"
    return "none needed" if info.family == "bm25" else "-"


# -- helpers -----------------------------------------------------------------------------------
def parse_model_args(model_args: Mapping[str, Any] | list[str] | tuple[str, ...] | None) -> dict[str, Any]:
    """``["dim=64", "scale=0.5", "normalize=true", 'names=["a"]']`` -> typed dict.

    Values become ``int``, ``float``, ``bool`` (true/false/yes/no/on/off), ``None`` (none/null),
    JSON lists/objects/quoted strings, or stay strings. In a mapping (what the CLI collects from
    ``--model-arg``), string values are parsed the same way and other values kept as they are.
    """
    if model_args is None:
        return {}
    if isinstance(model_args, Mapping):
        pairs = [(str(k), v) for k, v in model_args.items()]
    else:
        pairs = []
        for item in model_args:
            key, sep, raw = str(item).partition("=")
            if not sep:
                raise GclBenchError(f"--model-arg {item!r} must look like key=value")
            pairs.append((key, raw))
    parsed: dict[str, Any] = {}
    for key, value in pairs:
        name = key.strip().replace("-", "_")
        if not name.isidentifier():
            raise GclBenchError(f"--model-arg {key!r}={value!r}: {key!r} is not a valid argument name")
        parsed[name] = _parse_value(value.strip()) if isinstance(value, str) else value
    return parsed


def _parse_value(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            pass
    if raw[:1] in ("[", "{", '"'):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise GclBenchError(f"--model-arg value {raw!r} is not valid JSON") from None
    return raw


def describe_model(model: Any, spec: str | None = None, checkpoint: str | None = None) -> dict[str, Any]:
    """The results.json ``model`` section for any model: its ``describe()``, completed with what can
    be read from the object (name, family, fingerprint) and ``checkpoint`` where it says none."""
    info = dict(model.describe()) if callable(getattr(model, "describe", None)) else {}
    info.setdefault("name", getattr(model, "name", None) or spec or type(model).__name__)
    info.setdefault("family", getattr(model, "family", "plugin"))
    info.setdefault("checkpoint", checkpoint)
    info.setdefault("checkpoint_sha256", None)
    if spec is not None:
        info.setdefault("spec", spec)
    if "fingerprint" not in info and callable(getattr(model, "fingerprint", None)):
        info["fingerprint"] = str(model.fingerprint())
    info.setdefault("class", _qualname(type(model)))
    return info


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# -- built-in entries (DESIGN §3) ---------------------------------------------------------------
_README = "marqo-ai/GCL README (model table)"
_EVAL = "evals/eval_gs_v1.py defaults: left ['text'] [1], right ['image_local','title'] [0.9,0.1]"

register_model(
    "bm25", _registry_bm25, family="bm25",
    query_fields=QUERY_TEXT, doc_fields=TITLE_ONLY,
    description="BM25 (bm25s) over product titles", source="DESIGN §3; README text-only table",
)
register_model(
    "clip-vitl14", _registry_open_clip, family="open_clip", arch="ViT-L-14",
    url=GCL_URL + "clip-vitl14-110-gs-full-states.pt",
    query_fields=QUERY_TEXT, doc_fields=MULTI_FIELD_DOCS, prefixes=NO_PREFIXES,
    description="CLIP ViT-L-14 baseline fine-tuned on GS-Full (cross-entropy)",
    source=f"{_README}, multi-field table; {_EVAL}",
)
register_model(
    "gcl-vitb32", _registry_open_clip, family="open_clip", arch="ViT-B-32",
    url=GCL_URL + "gcl-vitb32-117-gs-full-states.pt",
    query_fields=QUERY_TEXT, doc_fields=MULTI_FIELD_DOCS, prefixes=NO_PREFIXES,
    description="GCL ViT-B-32, multi-field (title + image)",
    source=f"{_README}, multi-field table; demos/openclip_demo.py (ViT-B-32); {_EVAL}",
)
register_model(
    "gcl-vitl14", _registry_open_clip, family="open_clip", arch="ViT-L-14",
    url=GCL_URL + "gcl-vitl14-120-gs-full-states.pt",
    query_fields=QUERY_TEXT, doc_fields=MULTI_FIELD_DOCS, prefixes=NO_PREFIXES,
    description="GCL ViT-L-14, multi-field (title + image)",
    source=f"{_README}, multi-field table; {_EVAL}",
)
register_model(
    "marqo-gcl-vitb32", _registry_open_clip, family="open_clip", arch="ViT-B-32",
    url=GCL_URL + "marqo-gcl-vitb32-127-gs-full_states.pt",
    query_fields=QUERY_TEXT, doc_fields=MULTI_FIELD_DOCS, prefixes=NO_PREFIXES,
    description="GCL ViT-B-32, later release",
    source=f"DESIGN §3 (URL); fields assumed as for gcl-vitb32 ({_EVAL})",
)
register_model(
    "marqo-gcl-vitl14", _registry_open_clip, family="open_clip", arch="ViT-L-14",
    url=GCL_URL + "marqo-gcl-vitl14-124-gs-full_states.pt",
    query_fields=QUERY_TEXT, doc_fields=MULTI_FIELD_DOCS, prefixes=NO_PREFIXES,
    description="GCL ViT-L-14, later release",
    source=f"DESIGN §3 (URL); fields assumed as for gcl-vitl14 ({_EVAL})",
)
register_model(
    "e5-large-v2", _registry_e5, family="e5", arch="intfloat/e5-large-v2",
    hf_name="intfloat/e5-large-v2",
    query_fields=QUERY_TEXT, doc_fields=TITLE_ONLY, prefixes=E5_PREFIXES, context_length=77,
    description="E5 large v2 text baseline (query:/passage: prefixes, as its model card asks)",
    source=f"{_README}, text-only table; max length 77 as in the README's E5 example",
)
register_model(
    "gcl-e5-large-v2", _registry_open_clip, family="open_clip", arch="gcl-e5-large-v2",
    url=GCL_URL + "gcl-e5l-113-gs-full-states.pt", hf_name="Marqo/marqo-gcl-e5-large-v2-130",
    query_fields=QUERY_TEXT, doc_fields=TITLE_ONLY, prefixes=NO_PREFIXES, context_length=77,
    description="GCL-trained E5 large v2 (open_clip model with an HF text tower, no prefixes)",
    source=f"{_README}, text-only table; evals/cfg/e5-large-v2.json (HF tower, mean pooler)",
)
register_model(
    "gcl-xlmr-b32", _registry_open_clip, family="open_clip", arch="xlm-roberta-base-ViT-B-32",
    url=GCL_URL + "gcl-robbxlm-105-gs-full-states.pt",
    query_fields=QUERY_TEXT, doc_fields=TITLE_ONLY, prefixes=NO_PREFIXES, context_length=77,
    description="GCL xlm-roberta-base-ViT-B-32, text tower only",
    source=f"{_README}, text-only table (xlm-roberta-base-ViT-B-32)",
)
register_model(
    "sample-clip", _registry_open_clip, family="open_clip", arch="gcl-tiny",
    bundled="sample_models/sample-clip",
    query_fields=QUERY_TEXT, doc_fields=MULTI_FIELD_DOCS, prefixes=NO_PREFIXES,
    description="gcl-tiny trained with the CLIP loss on the bundled sample (ships with the package)",
    source="trained by gcl-bench train (loss none) on the bundled sample",
)
register_model(
    "sample-gcl", _registry_open_clip, family="open_clip", arch="gcl-tiny",
    bundled="sample_models/sample-gcl",
    query_fields=QUERY_TEXT, doc_fields=MULTI_FIELD_DOCS, prefixes=NO_PREFIXES,
    description="gcl-tiny trained with GCL on the bundled sample (ships with the package)",
    source="trained by gcl-bench train on the bundled sample",
)

_BUILTIN_NAMES = tuple(_REGISTRY)

