"""The model registry: names for ``--model``, what each is built with and evaluated with.

:func:`register_model` adds an entry (a :class:`ModelInfo`), :func:`get_model_info` and
:func:`list_models` read them; third-party packages add entries through the ``gcl_bench.models``
entry-point group (each entry point's name is the model name, its object a factory called like a
plug-in class), read on first use. An unknown name is an error listing close matches.

The built-in entries are the table in :mod:`gcl_bench.models.catalog`. This module may import
only the standard library, :mod:`gcl_bench.errors` and, for a hint in an error message,
:mod:`gcl_bench.models.openclip`.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gcl_bench.errors import GclBenchError

ENTRY_POINT_GROUP = "gcl_bench.models"


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
    """A transformers model id on the Hugging Face Hub (the e5 family loads it)."""
    pretrained_tag: str | None = None
    """An open_clip pretrained tag the weights come from (``openai``, ``webli``)."""
    bundled: str | None = None
    """Weights shipped inside the package: a path relative to ``gcl_bench/assets`` without suffix."""
    query_fields: dict[str, float] | None = None
    doc_fields: dict[str, float] | None = None
    prefixes: dict[str, str] | None = None
    context_length: int | None = None
    embedding_dim: int | None = None
    """The embedding size the weights must give (checked when the model is built)."""
    training_data: dict[str, Any] | None = None
    """What the weights were trained or fine-tuned on (:mod:`gcl_bench.models.training`); None: not known."""
    description: str = ""
    source: str = ""
    """Where the settings of this entry come from."""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view (the factory as a string)."""
        factory = self.factory if isinstance(self.factory, str) else qualname(self.factory)
        return {
            "name": self.name, "family": self.family, "arch": self.arch, "url": self.url,
            "sha256": self.sha256, "size": self.size, "hf_name": self.hf_name,
            "pretrained_tag": self.pretrained_tag, "bundled": self.bundled, "query_fields": self.query_fields,
            "doc_fields": self.doc_fields, "prefixes": self.prefixes,
            "context_length": self.context_length, "embedding_dim": self.embedding_dim,
            "training_data": self.training_data, "description": self.description,
            "source": self.source, "factory": factory, **self.extra,
        }


#: The :class:`ModelInfo` fields that ``register_model(**info)`` fills (others go to ``extra``).
INFO_FIELDS = tuple(f for f in ModelInfo.__dataclass_fields__ if f not in ("name", "factory", "extra"))

_REGISTRY: dict[str, ModelInfo] = {}
_ENTRY_POINTS_LOADED = False


def register_model(
    name: str, factory: Callable[..., Any] | str, *, overwrite: bool = False, **info: Any
) -> ModelInfo:
    """Add ``name`` to the registry; ``info`` fills :class:`ModelInfo` fields (others go to ``extra``).

    ``factory`` is called by :func:`~gcl_bench.models.load_model` with the keyword arguments it
    accepts among ``pretrained, device, query_fields, doc_fields, trust_checkpoint, ...`` plus
    ``model_args``. Re-registering a name raises unless ``overwrite``.
    """
    if not name or ":" in name:
        raise GclBenchError(f"model name {name!r} must be non-empty and contain no ':'")
    if name in _REGISTRY and not overwrite:
        raise GclBenchError(f"model {name!r} is already registered (pass overwrite=True to replace it)")
    fields = {k: v for k, v in info.items() if k in INFO_FIELDS}
    extra = {k: v for k, v in info.items() if k not in INFO_FIELDS}
    entry = ModelInfo(name=name, factory=factory, extra=extra, **fields)
    _REGISTRY[name] = entry
    return entry


def list_models() -> list[str]:
    """Registered model names, built-ins first, in registration order."""
    _load_entry_points()
    return list(_REGISTRY)


def find_model(name: str) -> ModelInfo | None:
    """The entry for ``name``, or ``None`` when no entry has that name."""
    _load_entry_points()
    return _REGISTRY.get(name)


def get_model_info(name: str) -> ModelInfo:
    """The entry for ``name``; an unknown name raises GclBenchError listing close matches."""
    entry = find_model(name)
    if entry is None:
        raise GclBenchError(unknown_model_message(name))
    return entry


def unknown_model_message(name: str) -> str:
    """The error for a ``--model`` that is no registry name nor any other spec form."""
    close = difflib.get_close_matches(name, list(_REGISTRY), n=4, cutoff=0.5)
    if (":" not in name and _is_open_clip_arch(name)) or name.startswith("hf-hub:"):
        close.insert(0, f"open_clip:{name}")
    hint = f"close matches: {', '.join(close)}" if close else f"registered: {', '.join(_REGISTRY)}"
    return (
        f"unknown model {name!r} ({hint}; or use open_clip:ARCH, e5:NAME, "
        "path/to/file.py:Class, package.module:Class)"
    )


def qualname(obj: Any) -> str:
    """``module.QualifiedName`` of a class or function (for JSON views and results.json)."""
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _is_open_clip_arch(name: str) -> bool:
    try:
        from gcl_bench.models.openclip import get_arch_config

        get_arch_config(name)
        return True
    except Exception:  # only a hint; no open_clip or unknown arch
        return False


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    try:
        eps = entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # broken metadata must not break the registry
        return
    for ep in eps:
        if ep.name not in _REGISTRY:
            register_model(ep.name, ep.value, family="plugin", description=f"entry point {ep.value}")
