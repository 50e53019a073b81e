"""The model layer: one place that turns a ``--model`` spec into a retriever.

Specs understood by :func:`load_model`:

- a registry name (``gcl-vitb32``, ``e5-large-v2``, ``bm25``; ``gcl-bench models`` lists them);
- ``open_clip:ARCH`` with ``pretrained=PATH_OR_TAG`` (:class:`~gcl_bench.models.openclip.OpenClipRetriever`);
- ``e5:HF_NAME_OR_PATH`` (:class:`~gcl_bench.models.e5.E5Retriever`);
- ``path/to/file.py:ClassName`` or ``package.module:ClassName``: a plug-in, any class with BEIR's
  ``encode_queries`` / ``encode_corpus`` (or a lexical ``search``), built with ``model_args``.

Third-party packages register models through the ``gcl_bench.models`` entry-point group: each
entry point's name is the model name and its object a factory (called like a plug-in class).
Python code calls :func:`register_model`.

This package only re-exports; each job has its module:

- :mod:`~gcl_bench.models.registry`: :class:`ModelInfo`, :func:`register_model`, look-ups, entry points;
- :mod:`~gcl_bench.models.catalog`: the built-in entries (DESIGN §3) as a table;
- :mod:`~gcl_bench.models.loading`: :func:`load_model` and the built-in families' factories;
- :mod:`~gcl_bench.models.plugins`: plug-in import, ``--model-arg`` parsing, the factory options;
- :mod:`~gcl_bench.models.weights`: bundled, cached and downloaded weights;
- :mod:`~gcl_bench.models.protocols`: the shapes a model can have and the predicates telling them apart;
- the adapters :mod:`~gcl_bench.models.openclip`, :mod:`~gcl_bench.models.e5`,
  :mod:`~gcl_bench.models.bm25` over :mod:`~gcl_bench.models.base` and
  :mod:`~gcl_bench.models.checkpoint` (imported on use: they need torch / bm25s).
"""
from __future__ import annotations

from gcl_bench.models.catalog import (
    GCL_URL,
    MULTI_FIELD_DOCS,
    QUERY_TEXT,
    TITLE_ONLY,
    register_builtin_models,
)
from gcl_bench.models.loading import E5_PREFIXES, NO_PREFIXES, load_model
from gcl_bench.models.loading import _registry_bm25 as _registry_bm25
from gcl_bench.models.loading import _registry_e5 as _registry_e5
from gcl_bench.models.loading import _registry_open_clip as _registry_open_clip
from gcl_bench.models.plugins import FactoryOptions, load_plugin, parse_model_args
from gcl_bench.models.protocols import (
    DenseEncoder,
    FieldEncoder,
    LexicalRetriever,
    describe_model,
    has_fingerprint,
    has_search_arrays,
    is_dense_encoder,
    is_field_encoder,
    is_lexical,
)
from gcl_bench.models.registry import _REGISTRY as _REGISTRY
from gcl_bench.models.registry import (
    ENTRY_POINT_GROUP,
    ModelInfo,
    get_model_info,
    list_models,
    register_model,
)
from gcl_bench.models.weights import (
    ASSETS_DIR,
    SAMPLE_SUFFIXES,
    SAMPLE_WEIGHTS_DIR,
    bundled_weights,
    download_weights,
    resolve_weights,
    weights_status,
)

__all__ = [
    # registry
    "ENTRY_POINT_GROUP",
    "ModelInfo",
    "get_model_info",
    "list_models",
    "register_model",
    # catalog
    "GCL_URL",
    "MULTI_FIELD_DOCS",
    "QUERY_TEXT",
    "TITLE_ONLY",
    # loading and plug-ins
    "E5_PREFIXES",
    "NO_PREFIXES",
    "FactoryOptions",
    "load_model",
    "load_plugin",
    "parse_model_args",
    # weights
    "ASSETS_DIR",
    "SAMPLE_SUFFIXES",
    "SAMPLE_WEIGHTS_DIR",
    "bundled_weights",
    "download_weights",
    "resolve_weights",
    "weights_status",
    # shapes of models
    "DenseEncoder",
    "FieldEncoder",
    "LexicalRetriever",
    "describe_model",
    "has_fingerprint",
    "has_search_arrays",
    "is_dense_encoder",
    "is_field_encoder",
    "is_lexical",
]

register_builtin_models()
