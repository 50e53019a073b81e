"""An open_clip checkpoint whose identity is known before the model is built.

A warm run (every embedding a cache hit) needs the model only for who it is: its fingerprint,
the settings of each field's cache key and the ``model`` section of results.json. Building it
imports open_clip, torchvision and transformers and reads the checkpoint, seconds that a fully
cached run spends for nothing. :func:`open_clip_from_file` therefore returns a
:class:`DeferredOpenClip` when it can, which builds the
:class:`~gcl_bench.models.openclip.OpenClipRetriever` on the first call that must encode.

Its identity comes from two places:

- the fingerprint is computed as the built model computes it
  (:func:`~gcl_bench.models.openclip.open_clip_fingerprint` of the architecture, its config read
  from the same JSON file open_clip reads, and the checkpoint file's SHA-256), so existing cache
  entries stay valid;
- what depends on open_clip's objects (the tokenizer, the image preprocessing, the resolved
  device and precision, :meth:`describe`) comes from an *identity record* written when that model
  was last built with the same options: ``<cache root>/embeddings/models/<key>.json`` (with its
  checksum sidecar), keyed by the fingerprint, the checkpoint path, every option, the resolved
  device, the versions of open_clip, torch, torchvision, transformers and gcl_bench, and the
  adapter's source. Without a record (the first run) the model is built at once and the record
  written. When the deferred model is built, its identity is compared with the record: a
  difference removes the record and is an error, never a wrong cache key.

This module may import :mod:`gcl_bench.models.openclip` (whose import needs no torch), the
checkpoint hash, :mod:`gcl_bench.io`, :mod:`gcl_bench.config`, :mod:`gcl_bench.devices`.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError
from gcl_bench.fields import check_side_field
from gcl_bench.models.hub import is_hub_arch
from gcl_bench.models.openclip import (
    MODEL_CONFIG_DIR,
    OpenClipRetriever,
    checkpoint_weights,
    open_clip_fingerprint,
)

#: The folder of identity records under the embedding cache root.
IDENTITY_FOLDER = "models"
#: The distributions whose code decides a built model's identity beyond its weights.
IDENTITY_PACKAGES = ("open_clip_torch", "torch", "torchvision", "transformers")
#: Attributes only the built model has; reading one builds it.
BUILT_ATTRIBUTES = frozenset({"model", "preprocess", "device_preprocess", "tokenizer", "tokenize", "arch_config",
                              "hf_text", "hub_weights", "pretrained_tag", "num_workers"})
_CONFIG_KEYS = ("embed_dim", "vision_cfg", "text_cfg")
_ADAPTER_SOURCES = ("openclip.py", "images.py", "base.py", "checkpoint.py")


def arch_config_without_import(arch: str) -> dict[str, Any] | None:
    """The open_clip config of ``arch`` read from the file open_clip would read it from, without
    importing open_clip: gcl_bench's own configs first (open_clip registers them last, so they
    win), then open_clip's ``model_configs``. None for a Hub or local-dir architecture or a name
    found nowhere (the caller then builds the model)."""
    if is_hub_arch(arch) or ":" in arch or "/" in arch or os.sep in arch or not arch:
        return None
    folders = [MODEL_CONFIG_DIR]
    spec = importlib.util.find_spec("open_clip")
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(location) / "model_configs" for location in spec.submodule_search_locations]
    for folder in folders:
        path = folder / f"{arch}.json"
        if path.is_file():
            with open(path, encoding="utf-8") as handle:
                config = json.load(handle)
            if isinstance(config, dict) and all(key in config for key in _CONFIG_KEYS):
                return config
    return None


def checkpoint_fingerprint(arch: str, checkpoint: str | os.PathLike[str]) -> str | None:
    """The fingerprint :class:`OpenClipRetriever` gives ``arch`` with weights from the file
    ``checkpoint``, computed without building it; None when the config cannot be read so."""
    config = arch_config_without_import(arch)
    if config is None:
        return None
    return open_clip_fingerprint(arch, config, checkpoint_weights(checkpoint))


def open_clip_from_file(arch: str, checkpoint: str, kwargs: dict[str, Any],
                        build: Callable[[], OpenClipRetriever]) -> Any:
    """``build()``'s model, or a :class:`DeferredOpenClip` standing for it when an identity record
    of the same model and options exists (see the module docstring)."""
    path = Path(checkpoint).expanduser()
    fingerprint = checkpoint_fingerprint(arch, path) if path.is_file() else None
    if fingerprint is None:
        return build()
    key = identity_key(arch, path, kwargs, fingerprint)
    record_path = identity_path(key)
    record = read_identity(record_path, key)
    if record is not None:
        return DeferredOpenClip(record, build, record_path)
    model = build()
    if model.fingerprint() == fingerprint:  # else the file was read otherwise: keep no record
        write_identity(record_path, key, model)
    return model


def identity_key(arch: str, checkpoint: Path, kwargs: Mapping[str, Any], fingerprint: str) -> dict[str, Any]:
    """Everything that decides a built model's identity, for the name of its record."""
    from importlib.metadata import PackageNotFoundError, version

    from gcl_bench import __version__
    from gcl_bench.devices import resolve_device

    versions = {}
    for dist in IDENTITY_PACKAGES:
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    sources = hashlib.sha256()
    for name in _ADAPTER_SOURCES:
        sources.update((Path(__file__).parent / name).read_bytes())
    return {
        "fingerprint": fingerprint, "arch": arch, "checkpoint": str(checkpoint),
        "options": {name: repr(kwargs[name]) for name in sorted(kwargs)},
        "device": resolve_device(kwargs.get("device", "auto")),
        "versions": versions, "gcl_bench": __version__, "adapter_sources": sources.hexdigest(),
    }


def identity_path(key: Mapping[str, Any]) -> Path:
    """Where the record of ``key`` lives."""
    from gcl_bench.config import cache_dir

    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()
    return cache_dir() / "embeddings" / IDENTITY_FOLDER / f"{digest}.json"


def _identity_of(model: Any) -> dict[str, Any]:
    """What a built model says about itself, as JSON values."""
    fields = {"query": dict(model.query_fields), "doc": dict(model.doc_fields)}
    return {
        "fingerprint": model.fingerprint(),
        "describe": model.describe(),
        "field_cache_keys": {f"{side}/{name}": model.field_cache_key(side, name)
                             for side, weights in fields.items() for name in weights},
        "query_fields": fields["query"], "doc_fields": fields["doc"],
    }


def write_identity(path: Path, key: Mapping[str, Any], model: Any) -> None:
    """Record ``model``'s identity under ``key`` (a failure to write only costs the next run time)."""
    from gcl_bench.io import dumps_json, record_checksum, write_bytes

    try:
        data = dumps_json({"key": dict(key), **_identity_of(model)})
        write_bytes(path, data)
        record_checksum(path)
    except (OSError, GclBenchError):
        return


def read_identity(path: Path, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record at ``path`` if it is intact and made for ``key``; else None."""
    from gcl_bench.io import checksum_matches

    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not checksum_matches(path, data):
        return None
    try:
        record = json.loads(data)
    except ValueError:
        return None
    same_key = isinstance(record, dict) and _as_json(record.get("key")) == _as_json(dict(key))
    return record if same_key else None


def _as_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples as lists), for comparisons with a record."""
    from gcl_bench.io import dumps_json

    return json.loads(dumps_json(value, indent=False))


class DeferredOpenClip:
    """An :class:`OpenClipRetriever` known by its identity record, built on the first encode.

    It is a field encoder and a BEIR dense encoder like the model it stands for; ``built`` says
    whether that model exists yet. Reading an attribute of :data:`BUILT_ATTRIBUTES` builds it.
    """

    family = "open_clip"
    similarity = "cos"
    training_data: dict[str, Any] | None = None
    stands_for = OpenClipRetriever
    """The class results.json names (:func:`~gcl_bench.models.protocols.describe_model`)."""

    def __init__(self, record: dict[str, Any], build: Callable[[], OpenClipRetriever], record_path: Path) -> None:
        self._record = record
        self._build = build
        self._record_path = record_path
        self._model: OpenClipRetriever | None = None
        described = record["describe"]
        self.name: str = described["name"]
        self.arch: str = described["arch"]
        self.checkpoint: str | None = described["checkpoint"]
        self.query_fields: dict[str, float] = dict(record["query_fields"])
        self.doc_fields: dict[str, float] = dict(record["doc_fields"])
        self.prefixes: dict[str, str] = dict(described["prefixes"])
        self.context_length: int | None = described["context_length"]
        self.device: str = described["device"]
        self.precision: str = described["precision"]
        self.decode: str = described["decode"]

    @property
    def built(self) -> bool:
        return self._model is not None

    def built_model(self) -> OpenClipRetriever:
        """The model itself, built now if it was not yet; its identity must be the record's."""
        if self._model is None:
            model = self._build()
            identity = _identity_of(model)
            if _as_json(identity) != _as_json({name: self._record.get(name) for name in identity}):
                self._record_path.unlink(missing_ok=True)
                raise GclBenchError(
                    f"model {self.name}: the model built now differs from its identity record "
                    f"{self._record_path} (removed); run again"
                )
            model.training_data = self.training_data
            self._model = model
        return self._model

    def __getattr__(self, name: str) -> Any:
        if name in BUILT_ATTRIBUTES:
            return getattr(self.built_model(), name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- identity, from the record ---------------------------------------------------------
    def fingerprint(self) -> str:
        return str(self._record["fingerprint"])

    def field_cache_key(self, side: str, field: str) -> dict[str, Any]:
        key = self._record["field_cache_keys"].get(f"{side}/{field}")
        return dict(key) if key is not None else self.built_model().field_cache_key(side, field)

    def fields(self, side: str) -> dict[str, float]:
        """The weighted fields of ``side`` ("query" or "doc")."""
        check_side_field(side)
        return self.query_fields if side == "query" else self.doc_fields

    def checkpoint_sha256(self) -> str | None:
        return self._record["describe"]["checkpoint_sha256"]

    def embedding_dim(self) -> int:
        return int(self._record["describe"]["embedding_dim"])

    def describe(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._record["describe"]))

    # -- encoding, by the built model --------------------------------------------------------
    def encode_field(self, side: str, field: str, values: Sequence[Any], batch_size: int = 256,
                     progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self.built_model().encode_field(side, field, values, batch_size, progress=progress)

    def encode_queries(self, queries: Sequence[Any], batch_size: int = 256, **kwargs: Any) -> np.ndarray:
        return self.built_model().encode_queries(queries, batch_size, **kwargs)

    def encode_corpus(self, corpus: Any, batch_size: int = 256, **kwargs: Any) -> np.ndarray:
        return self.built_model().encode_corpus(corpus, batch_size, **kwargs)
