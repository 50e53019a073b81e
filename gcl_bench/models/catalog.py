"""The built-in registry entries (DESIGN §3), as a table.

Each row names a model, its evaluation *profile* (family, fields, prefixes, context length shared
by the models evaluated alike) and what is its own: architecture, weights, description, source.

Sources: weights URLs from the marqo-ai/GCL README; architectures from its demo (``ViT-B-32`` for
GCL ViT-B/32) and ``evals/cfg`` (E5 as an open_clip model with an HF text tower); fields and
weights from ``evals/eval_gs_v1.py`` defaults, which the README's multi-field table uses (query
``text``; documents ``image`` 0.9 + ``title`` 0.1); the text-only table (E5, xlm-roberta) uses
titles only. This module may import :mod:`gcl_bench.models.registry` and
:mod:`gcl_bench.models.loading` (the family factories).
"""
from __future__ import annotations

from typing import Any

from gcl_bench.models.loading import E5_PREFIXES, FAMILY_FACTORIES, NO_PREFIXES
from gcl_bench.models.registry import register_model

GCL_URL = "https://marqo-gcl-public.s3.us-west-2.amazonaws.com/v1/"

MULTI_FIELD_DOCS = {"image": 0.9, "title": 0.1}
QUERY_TEXT = {"text": 1.0}
TITLE_ONLY = {"title": 1.0}

#: What the models evaluated alike share.
PROFILES: dict[str, dict[str, Any]] = {
    "bm25": {"family": "bm25", "query_fields": QUERY_TEXT, "doc_fields": TITLE_ONLY},
    "multi-field": {"family": "open_clip", "query_fields": QUERY_TEXT, "doc_fields": MULTI_FIELD_DOCS,
                    "prefixes": NO_PREFIXES},
    "text-only": {"family": "open_clip", "query_fields": QUERY_TEXT, "doc_fields": TITLE_ONLY,
                  "prefixes": NO_PREFIXES, "context_length": 77},
    "e5": {"family": "e5", "query_fields": QUERY_TEXT, "doc_fields": TITLE_ONLY,
           "prefixes": E5_PREFIXES, "context_length": 77},
}

_README = "marqo-ai/GCL README (model table)"
_EVAL = "evals/eval_gs_v1.py defaults: left ['text'] [1], right ['image_local','title'] [0.9,0.1]"

#: One row per built-in model, in the order ``gcl-bench models`` lists them.
BUILTIN_MODELS: tuple[dict[str, Any], ...] = (
    {"name": "bm25", "profile": "bm25",
     "description": "BM25 (bm25s) over product titles",
     "source": "DESIGN §3; README text-only table"},
    {"name": "clip-vitl14", "profile": "multi-field", "arch": "ViT-L-14",
     "url": GCL_URL + "clip-vitl14-110-gs-full-states.pt",
     "description": "CLIP ViT-L-14 baseline fine-tuned on GS-Full (cross-entropy)",
     "source": f"{_README}, multi-field table; {_EVAL}"},
    {"name": "gcl-vitb32", "profile": "multi-field", "arch": "ViT-B-32",
     "url": GCL_URL + "gcl-vitb32-117-gs-full-states.pt",
     "description": "GCL ViT-B-32, multi-field (title + image)",
     "source": f"{_README}, multi-field table; demos/openclip_demo.py (ViT-B-32); {_EVAL}"},
    {"name": "gcl-vitl14", "profile": "multi-field", "arch": "ViT-L-14",
     "url": GCL_URL + "gcl-vitl14-120-gs-full-states.pt",
     "description": "GCL ViT-L-14, multi-field (title + image)",
     "source": f"{_README}, multi-field table; {_EVAL}"},
    {"name": "marqo-gcl-vitb32", "profile": "multi-field", "arch": "ViT-B-32",
     "url": GCL_URL + "marqo-gcl-vitb32-127-gs-full_states.pt",
     "description": "GCL ViT-B-32, later release",
     "source": f"DESIGN §3 (URL); fields assumed as for gcl-vitb32 ({_EVAL})"},
    {"name": "marqo-gcl-vitl14", "profile": "multi-field", "arch": "ViT-L-14",
     "url": GCL_URL + "marqo-gcl-vitl14-124-gs-full_states.pt",
     "description": "GCL ViT-L-14, later release",
     "source": f"DESIGN §3 (URL); fields assumed as for gcl-vitl14 ({_EVAL})"},
    {"name": "e5-large-v2", "profile": "e5", "arch": "intfloat/e5-large-v2",
     "hf_name": "intfloat/e5-large-v2",
     "description": "E5 large v2 text baseline (query:/passage: prefixes, as its model card asks)",
     "source": f"{_README}, text-only table; max length 77 as in the README's E5 example"},
    {"name": "gcl-e5-large-v2", "profile": "text-only", "arch": "gcl-e5-large-v2",
     "url": GCL_URL + "gcl-e5l-113-gs-full-states.pt", "hf_name": "Marqo/marqo-gcl-e5-large-v2-130",
     "description": "GCL-trained E5 large v2 (open_clip model with an HF text tower, no prefixes)",
     "source": f"{_README}, text-only table; evals/cfg/e5-large-v2.json (HF tower, mean pooler)"},
    {"name": "gcl-xlmr-b32", "profile": "text-only", "arch": "xlm-roberta-base-ViT-B-32",
     "url": GCL_URL + "gcl-robbxlm-105-gs-full-states.pt",
     "description": "GCL xlm-roberta-base-ViT-B-32, text tower only",
     "source": f"{_README}, text-only table (xlm-roberta-base-ViT-B-32)"},
    {"name": "sample-clip", "profile": "multi-field", "arch": "gcl-tiny",
     "bundled": "sample_models/sample-clip",
     "description": "gcl-tiny trained with the CLIP loss on the bundled sample (ships with the package)",
     "source": "trained by gcl-bench train (loss none) on the bundled sample"},
    {"name": "sample-gcl", "profile": "multi-field", "arch": "gcl-tiny",
     "bundled": "sample_models/sample-gcl",
     "description": "gcl-tiny trained with GCL on the bundled sample (ships with the package)",
     "source": "trained by gcl-bench train on the bundled sample"},
)


def register_builtin_models() -> None:
    """Register every row of :data:`BUILTIN_MODELS` with its family's factory."""
    for row in BUILTIN_MODELS:
        info = {key: value for key, value in row.items() if key not in ("name", "profile")}
        info = {**PROFILES[row["profile"]], **info}
        register_model(row["name"], FAMILY_FACTORIES[info["family"]], **info)
