"""``load_model``: a ``--model`` spec in, a retriever out.

Specs: a registry name; ``open_clip:ARCH`` (with ``pretrained=PATH_OR_TAG``); ``e5:HF_NAME_OR_PATH``;
``path/to/file.py:ClassName`` or ``package.module:ClassName`` (a plug-in). The built-in families
are built here: the ``_registry_*`` functions are the factories of the catalog's entries (called
with the entry itself, so its fields, prefixes and weights become the adapter's defaults).
This module may import the other modules of :mod:`gcl_bench.models` (the adapters only inside
functions, so loading a plug-in never imports torch) and :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from gcl_bench.errors import GclBenchError
from gcl_bench.models.base import first_line
from gcl_bench.models.hub import entry_weights, is_hub_arch
from gcl_bench.models.plugins import (
    DEFAULT_OPTIONS,
    FactoryOptions,
    ModelArgs,
    call_factory,
    is_plugin_spec,
    load_plugin,
    parse_model_args,
    resolve_factory,
)
from gcl_bench.models.registry import ModelInfo, find_model, list_models, unknown_model_message
from gcl_bench.models.weights import resolve_weights

NO_PREFIXES = {"query": "", "doc": ""}
E5_PREFIXES = {"query": "query: ", "doc": "passage: "}

#: The options each built-in adapter takes, and those a registry entry gives a default for.
OPEN_CLIP_OPTIONS = ("query_fields", "doc_fields", "context_length", "device", "precision",
                     "num_workers", "decode", "trust_checkpoint")
OPEN_CLIP_ENTRY_DEFAULTS = ("query_fields", "doc_fields", "context_length")
E5_OPTIONS = ("query_fields", "doc_fields", "context_length", "device", "precision")
E5_ENTRY_DEFAULTS = ("query_fields", "doc_fields")


def load_model(
    spec: str,
    *,
    pretrained: str | os.PathLike[str] | None = DEFAULT_OPTIONS.pretrained,
    model_args: ModelArgs | None = None,
    device: str = DEFAULT_OPTIONS.device,
    query_fields: str | Mapping[str, float] | None = DEFAULT_OPTIONS.query_fields,
    doc_fields: str | Mapping[str, float] | None = DEFAULT_OPTIONS.doc_fields,
    trust_checkpoint: bool = DEFAULT_OPTIONS.trust_checkpoint,
    context_length: int | None = DEFAULT_OPTIONS.context_length,
    precision: str = DEFAULT_OPTIONS.precision,
    num_workers: int = DEFAULT_OPTIONS.num_workers,
    decode: str = DEFAULT_OPTIONS.decode,
    download: bool = True,
    defer_build: bool = False,
) -> Any:
    """Build the retriever named by ``spec`` (see the module docstring for the forms).

    ``model_args`` are extra constructor arguments: a mapping, or ``key=value`` strings as given
    to ``--model-arg`` (values parsed by :func:`~gcl_bench.models.plugins.parse_model_args`).
    ``query_fields`` / ``doc_fields`` override a registry entry's (``"image:0.9,title:0.1"``).
    ``download=False`` refuses to fetch missing registry weights. ``defer_build``: an open_clip
    model with weights from a checkpoint file that was built before with the same options is
    returned as a :class:`~gcl_bench.models.deferred.DeferredOpenClip`, which builds it only when
    something must be encoded (a fully cached run never does). Returns the model object;
    gcl_bench's adapters are :class:`~gcl_bench.models.base.DenseAdapter` instances.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise GclBenchError("no model given (--model NAME, open_clip:ARCH, e5:NAME or file.py:Class)")
    spec = spec.strip()
    args = parse_model_args(model_args)
    options = FactoryOptions(
        pretrained=None if pretrained is None else os.fspath(pretrained), device=device,
        query_fields=query_fields, doc_fields=doc_fields, trust_checkpoint=trust_checkpoint,
        context_length=context_length, precision=precision, num_workers=num_workers, decode=decode,
    )
    entry = find_model(spec)
    if entry is not None:
        factory = resolve_factory(entry.factory)
        if factory in BUILTIN_FACTORIES:
            return factory(entry, options, args, download=download, defer=defer_build)
        return call_factory(factory, spec, options, args)
    family, sep, rest = spec.partition(":")
    if sep and family == "open_clip":
        model = _build_open_clip(rest, options, args, name=spec, defer=defer_build)
        same = _same_weights_entry("open_clip", rest, options.pretrained)
        return _as_registered(model, same, own_weights=True) if same else model
    if sep and family == "e5":
        if options.pretrained:
            raise GclBenchError("e5:NAME takes no --pretrained; give a local folder as e5:PATH")
        model = _build_e5(rest, options, args, name=spec, prefixes=E5_PREFIXES)
        same = _same_weights_entry("e5", rest, None)
        return _as_registered(model, same, own_weights=True) if same else model
    if sep and rest and is_plugin_spec(family):
        return call_factory(load_plugin(spec), spec, options, args)
    raise GclBenchError(unknown_model_message(spec))


# -- built-in families --------------------------------------------------------------------------
def _adapter_kwargs(
    options: FactoryOptions, takes: tuple[str, ...], entry: ModelInfo | None, entry_defaults: tuple[str, ...],
    *, prefixes: Mapping[str, str], name: str, args: Mapping[str, Any],
) -> dict[str, Any]:
    """An adapter's keyword arguments: the options it ``takes`` (an unset one of ``entry_defaults``
    falls back to the registry entry's value), its prefixes and name, then ``args`` on top."""
    kwargs = options.pick(takes)
    for key in entry_defaults:
        kwargs[key] = kwargs[key] or (getattr(entry, key) if entry else None)
    kwargs.update(query_prefix=prefixes.get("query", ""), doc_prefix=prefixes.get("doc", ""), name=name)
    kwargs.update(args)
    return kwargs


def _construct(cls: Callable[..., Any], positional: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> Any:
    """``cls(*positional, **kwargs)``; a TypeError (a bad ``--model-arg``) becomes one line."""
    try:
        return cls(*positional, **kwargs)
    except TypeError as err:
        raise GclBenchError(f"bad --model-arg for {name}: {first_line(err)}") from None


def _build_open_clip(
    arch: str, options: FactoryOptions, args: Mapping[str, Any], *, name: str,
    entry: ModelInfo | None = None, checkpoint: str | None = None, defer: bool = False,
) -> Any:
    """The open_clip adapter; with ``defer``, weights from a checkpoint file may give a
    :class:`~gcl_bench.models.deferred.DeferredOpenClip`, built on its first encode."""
    from gcl_bench.models.openclip import OpenClipRetriever

    if not arch:
        raise GclBenchError("open_clip:ARCH needs an architecture name, e.g. open_clip:ViT-B-32")
    prefixes = entry.prefixes if entry and entry.prefixes else NO_PREFIXES
    kwargs = _adapter_kwargs(options, OPEN_CLIP_OPTIONS, entry, OPEN_CLIP_ENTRY_DEFAULTS,
                             prefixes=prefixes, name=name, args=args)
    weights = options.pretrained or checkpoint

    def build() -> Any:
        return _construct(OpenClipRetriever, (arch, weights), kwargs, name)

    if defer and weights:
        from gcl_bench.models.deferred import open_clip_from_file

        return open_clip_from_file(arch, weights, kwargs, build)
    return build()


def _build_e5(
    source: str, options: FactoryOptions, args: Mapping[str, Any], *, name: str,
    prefixes: Mapping[str, str], entry: ModelInfo | None = None,
) -> Any:
    from gcl_bench.models.e5 import E5Retriever

    if not source:
        raise GclBenchError("e5:NAME needs a Hugging Face model name or folder, e.g. e5:intfloat/e5-large-v2")
    kwargs = _adapter_kwargs(options, E5_OPTIONS, entry, E5_ENTRY_DEFAULTS,
                             prefixes=prefixes, name=name, args=args)
    return _construct(E5Retriever, (source,), kwargs, name)


def _registry_open_clip(
    info: ModelInfo, options: FactoryOptions, args: Mapping[str, Any], *, download: bool, defer: bool = False,
) -> Any:
    if options.pretrained:
        checkpoint = None
    elif info.url or info.bundled:
        checkpoint = str(resolve_weights(info, download=download))
    elif info.pretrained_tag or is_hub_arch(info.arch):
        if not download:  # a look-up in the cache only: the one-line error when it is not there
            entry_weights(info, download=False)
        checkpoint = info.pretrained_tag  # None: an hf-hub: model brings its weights
    else:
        raise GclBenchError(f"model {info.name} has no weights URL; pass --pretrained PATH")
    model = _build_open_clip(info.arch or "", options, args, name=info.name, entry=info, checkpoint=checkpoint,
                             defer=defer)
    return _as_registered(model, info, own_weights=not options.pretrained)


def _registry_e5(info: ModelInfo, options: FactoryOptions, args: Mapping[str, Any], *, download: bool,
                 defer: bool = False) -> Any:
    source = options.pretrained or info.hf_name or ""
    if not options.pretrained and info.hf_name and not download:
        entry_weights(info, download=False)
    model = _build_e5(source, options, args, name=info.name, prefixes=info.prefixes or E5_PREFIXES, entry=info)
    return _as_registered(model, info, own_weights=not options.pretrained)


def _as_registered(model: Any, info: ModelInfo, own_weights: bool) -> Any:
    """``model`` built for registry entry ``info``: with the entry's weights (``own_weights``), the
    embedding size must be the entry's and the model carries the entry's training record."""
    if not own_weights:
        return model
    if info.embedding_dim is not None and model.embedding_dim() != info.embedding_dim:
        raise GclBenchError(
            f"model {info.name}: its weights give {model.embedding_dim()}-dimensional embeddings, the registry "
            f"entry expects {info.embedding_dim} ({info.source}); the files in the cache are not this model's"
        )
    model.training_data = info.training_data
    return model


def _same_weights_entry(family: str, source: str, pretrained: str | None) -> ModelInfo | None:
    """The registry entry loading the same weights as ``family:source`` with ``pretrained``, if any
    (so ``open_clip:hf-hub:Marqo/marqo-fashionSigLIP`` carries the record of marqo-fashionsiglip)."""
    for name in list_models():
        entry = find_model(name)
        if entry is None or entry.family != family or entry.url or entry.bundled:
            continue
        if family == "open_clip" and entry.arch == source and entry.pretrained_tag == pretrained:
            return entry
        if family == "e5" and entry.hf_name == source and pretrained is None:
            return entry
    return None


def _registry_bm25(info: ModelInfo, options: FactoryOptions, args: Mapping[str, Any], *, download: bool,
                   defer: bool = False) -> Any:
    cls = load_plugin("gcl_bench.models.bm25:BM25Retriever")
    # --doc-fields, --pretrained...: refused by BM25's constructor, not ignored
    return _as_registered(call_factory(cls, info.name, options, args), info, own_weights=True)


#: The built-in families' registry factories, by family (each takes the entry itself).
FAMILY_FACTORIES: dict[str, Callable[..., Any]] = {
    "open_clip": _registry_open_clip, "e5": _registry_e5, "bm25": _registry_bm25,
}
BUILTIN_FACTORIES = frozenset(FAMILY_FACTORIES.values())
