"""The built-in registry entries (DESIGN §3), as a table.

Each row names a model, its evaluation *profile* (family, fields, prefixes, context length shared
by the models evaluated alike) and what is its own: architecture, weights, description, source.

Sources: weights URLs from the marqo-ai/GCL README; architectures from its demo (``ViT-B-32`` for
GCL ViT-B/32) and ``evals/cfg`` (E5 as an open_clip model with an HF text tower); fields and
weights from ``evals/eval_gs_v1.py`` defaults, which the README's multi-field table uses (query
``text``; documents ``image`` 0.9 + ``title`` 0.1); the text-only table (E5, xlm-roberta) uses
titles only.

Marqo's later models load from the Hugging Face Hub under the ids their model cards give
(``hf-hub:Marqo/marqo-ecommerce-embeddings-B``, not the ``hf-hub:Marqo/marqo-ecommerce-B`` of
the cards' evaluation scripts, which names no repository); the open_clip baselines use
open_clip's own names: OpenAI's CLIP weights are QuickGELU models, so their architecture is
``ViT-B-32-quickgelu`` / ``ViT-L-14-quickgelu`` with tag ``openai`` (plain ``ViT-B-32`` with
``openai`` builds GELU layers under QuickGELU weights, which open_clip only warns about), and
SigLIP B/16 is ``ViT-B-16-SigLIP`` / ``webli``. The image-text models are evaluated with the
multi-field settings of the GCL table, so their rows compare with it (the ecommerce cards'
own text-to-image protocol is ``--doc-fields image:1``). Each row records what the weights were
trained on (``training_data``, :mod:`gcl_bench.models.training`) and the embedding size they give.

This module may import :mod:`gcl_bench.models.registry` and :mod:`gcl_bench.models.loading`
(the family factories).
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
    "gcl-e5": {"family": "e5", "query_fields": QUERY_TEXT, "doc_fields": TITLE_ONLY,
               "prefixes": NO_PREFIXES, "context_length": 77},
}

#: Training records (see gcl_bench.models.training).
GS_FULL_TRAINED = {
    "datasets": {"marqo-gs-10m": ["in_domain"]},
    "description": "fine-tuned on Marqo-GS-10M GS-Full's training split (the in_domain triplets: the "
                   "training queries and the corpus_1 documents)",
    "source": "marqo-ai/GCL README (weights named *-gs-full-states.pt; results on GSFull-10M)",
}
NO_MARQO_GS = {"datasets": {}}


def _trained(description: str, source: str, datasets: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"datasets": datasets, "description": description, "source": source}


def _gs_full(extra: str) -> dict[str, Any]:
    return {**GS_FULL_TRAINED, "description": f"{GS_FULL_TRAINED['description']}; {extra}"}


OPENAI_WIT = _trained("OpenAI's 400M web image-text pairs (WIT): nothing of Marqo-GS",
                      "open_clip pretrained table (tag openai)", {})
SAMPLE_TRAINED = _trained("the bundled sample's in_domain triplets", "examples/train_sample.sh",
                          {"gcl-bench-sample": ["in_domain"]})

_ECOMMERCE_CARD = ("huggingface.co/Marqo/marqo-ecommerce-embeddings-{size} model card and "
                   "marqo-ai/marqo-ecommerce-embeddings README (id, dimension {dim}, open_clip loading)")
_ECOMMERCE_TRAINING = ("not stated: the model card names only its evaluation sets (GoogleShopping-1m, "
                       "AmazonProducts-3m), so whether it saw Marqo-GS-10M is not known")
_FASHION_TRAINING = ("fine-tuned with GCL from {base} on over 1M fashion products with their metadata (Marqo's "
                     "model release); whether those overlap Marqo-GS-10M is not said")
_FASHION_SOURCE = ("marqo-ai/marqo-FashionCLIP README (hf-hub id, open_clip loading, {arch} with {dim} "
                   "dimensions) and www.marqo.ai/blog/search-model-for-fashion (training data)")

_README = "marqo-ai/GCL README (model table)"
_EVAL = "evals/eval_gs_v1.py defaults: left ['text'] [1], right ['image_local','title'] [0.9,0.1]"

#: One row per built-in model, in the order ``gcl-bench models`` lists them.
BUILTIN_MODELS: tuple[dict[str, Any], ...] = (
    {"name": "bm25", "profile": "bm25",
     "description": "BM25 (bm25s) over product titles",
     "training_data": _trained("no training: term statistics come from the evaluated corpus", "BM25", {}),
     "source": "DESIGN §3; README text-only table"},
    {"name": "clip-vitl14", "profile": "multi-field", "arch": "ViT-L-14",
     "url": GCL_URL + "clip-vitl14-110-gs-full-states.pt",
     "description": "CLIP ViT-L-14 baseline fine-tuned on GS-Full (cross-entropy)",
     "embedding_dim": 768, "training_data": _gs_full("the CLIP cross-entropy loss"),
     "source": f"{_README}, multi-field table; {_EVAL}"},
    {"name": "gcl-vitb32", "profile": "multi-field", "arch": "ViT-B-32",
     "url": GCL_URL + "gcl-vitb32-117-gs-full-states.pt",
     "description": "GCL ViT-B-32, multi-field (title + image)",
     "embedding_dim": 512, "training_data": _gs_full("GCL loss"),
     "source": f"{_README}, multi-field table; demos/openclip_demo.py (ViT-B-32); {_EVAL}"},
    {"name": "gcl-vitl14", "profile": "multi-field", "arch": "ViT-L-14",
     "url": GCL_URL + "gcl-vitl14-120-gs-full-states.pt",
     "description": "GCL ViT-L-14, multi-field (title + image)",
     "embedding_dim": 768, "training_data": _gs_full("GCL loss"),
     "source": f"{_README}, multi-field table; {_EVAL}"},
    {"name": "marqo-gcl-vitb32", "profile": "multi-field", "arch": "ViT-B-32",
     "url": GCL_URL + "marqo-gcl-vitb32-127-gs-full_states.pt",
     "description": "GCL ViT-B-32, later release",
     "embedding_dim": 512, "training_data": _gs_full("GCL loss"),
     "source": f"DESIGN §3 (URL); fields assumed as for gcl-vitb32 ({_EVAL})"},
    {"name": "marqo-gcl-vitl14", "profile": "multi-field", "arch": "ViT-L-14",
     "url": GCL_URL + "marqo-gcl-vitl14-124-gs-full_states.pt",
     "description": "GCL ViT-L-14, later release",
     "embedding_dim": 768, "training_data": _gs_full("GCL loss"),
     "source": f"DESIGN §3 (URL); fields assumed as for gcl-vitl14 ({_EVAL})"},
    {"name": "e5-large-v2", "profile": "e5", "arch": "intfloat/e5-large-v2",
     "hf_name": "intfloat/e5-large-v2",
     "description": "E5 large v2 text baseline (query:/passage: prefixes, as its model card asks)",
     "embedding_dim": 1024,
     "training_data": _trained("E5's web text pairs (CCPairs) then MS MARCO, NQ and NLI: nothing of Marqo-GS",
                               "huggingface.co/intfloat/e5-large-v2 model card", {}),
     "source": f"{_README}, text-only table; max length 77 as in the README's E5 example"},
    {"name": "gcl-e5-large-v2", "profile": "text-only", "arch": "gcl-e5-large-v2",
     "url": GCL_URL + "gcl-e5l-113-gs-full-states.pt", "hf_name": "Marqo/gcl-e5-large-v2-113-gs-full",
     "description": "GCL-trained E5 large v2 (open_clip model with an HF text tower, no prefixes)",
     "embedding_dim": 1024, "training_data": _gs_full("GCL loss, batch size 2048"),
     "source": f"{_README}, text-only table; evals/cfg/e5-large-v2.json (HF tower, mean pooler); HF id of "
               "the same run from the README's E5 demo"},
    {"name": "gcl-xlmr-b32", "profile": "text-only", "arch": "xlm-roberta-base-ViT-B-32",
     "url": GCL_URL + "gcl-robbxlm-105-gs-full-states.pt",
     "description": "GCL xlm-roberta-base-ViT-B-32, text tower only",
     "embedding_dim": 512, "training_data": _gs_full("GCL loss"),
     "source": f"{_README}, text-only table (xlm-roberta-base-ViT-B-32)"},
    {"name": "gcl-e5-large-v2-130", "profile": "gcl-e5", "arch": "Marqo/marqo-gcl-e5-large-v2-130",
     "hf_name": "Marqo/marqo-gcl-e5-large-v2-130", "embedding_dim": 1024,
     "description": "GCL-trained E5 large v2, later run (batch size 3072), as a transformers model on the Hub",
     "training_data": _gs_full("GCL loss, batch size 3072"),
     "source": "huggingface.co/Marqo/marqo-gcl-e5-large-v2-130 (BertModel, hidden size 1024; 130 vs 113: batch "
               "3072 vs 2048, per the maintainers in Marqo/gcl-e5-large-v2-113-gs-full discussion 1); mean "
               "pooling and max length 77 as the README's E5 demo; no prefixes, as GCL's E5 evaluation"},
    {"name": "marqo-ecommerce-b", "profile": "multi-field", "arch": "hf-hub:Marqo/marqo-ecommerce-embeddings-B",
     "embedding_dim": 768, "description": "Marqo-Ecommerce-B (SigLIP B/16 based, 203M parameters)",
     "training_data": _trained(_ECOMMERCE_TRAINING, _ECOMMERCE_CARD.format(size="B", dim=768)),
     "source": _ECOMMERCE_CARD.format(size="B", dim=768)},
    {"name": "marqo-ecommerce-l", "profile": "multi-field", "arch": "hf-hub:Marqo/marqo-ecommerce-embeddings-L",
     "embedding_dim": 1024, "description": "Marqo-Ecommerce-L (SigLIP L/16-384 based, 652M parameters)",
     "training_data": _trained(_ECOMMERCE_TRAINING, _ECOMMERCE_CARD.format(size="L", dim=1024)),
     "source": _ECOMMERCE_CARD.format(size="L", dim=1024)},
    {"name": "marqo-fashionclip", "profile": "multi-field", "arch": "hf-hub:Marqo/marqo-fashionCLIP",
     "embedding_dim": 512, "description": "Marqo-FashionCLIP (ViT-B-16)",
     "training_data": _trained(_FASHION_TRAINING.format(base="ViT-B-16 laion2b_s34b_b88k"),
                               _FASHION_SOURCE.format(arch="ViT-B-16", dim=512)),
     "source": _FASHION_SOURCE.format(arch="ViT-B-16", dim=512)},
    {"name": "marqo-fashionsiglip", "profile": "multi-field", "arch": "hf-hub:Marqo/marqo-fashionSigLIP",
     "embedding_dim": 768, "description": "Marqo-FashionSigLIP (ViT-B-16-SigLIP)",
     "training_data": _trained(_FASHION_TRAINING.format(base="ViT-B-16-SigLIP webli"),
                               _FASHION_SOURCE.format(arch="ViT-B-16-SigLIP", dim=768)),
     "source": _FASHION_SOURCE.format(arch="ViT-B-16-SigLIP", dim=768)},
    {"name": "clip-vitb32-openai", "profile": "multi-field", "arch": "ViT-B-32-quickgelu", "pretrained_tag": "openai",
     "embedding_dim": 512, "description": "OpenAI CLIP ViT-B/32, not fine-tuned",
     "training_data": OPENAI_WIT,
     "source": "open_clip src/open_clip/pretrained.py (openai weights on timm/vit_base_patch32_clip_224.openai, "
               "QuickGELU)"},
    {"name": "clip-vitl14-openai", "profile": "multi-field", "arch": "ViT-L-14-quickgelu", "pretrained_tag": "openai",
     "embedding_dim": 768, "description": "OpenAI CLIP ViT-L/14, not fine-tuned (the initialisation of clip-vitl14)",
     "training_data": OPENAI_WIT,
     "source": "open_clip src/open_clip/pretrained.py (openai weights on timm/vit_large_patch14_clip_224.openai, "
               "QuickGELU)"},
    {"name": "siglip-vitb16-webli", "profile": "multi-field", "arch": "ViT-B-16-SigLIP", "pretrained_tag": "webli",
     "embedding_dim": 768, "description": "SigLIP ViT-B/16 (WebLI), not fine-tuned",
     "training_data": _trained("Google's WebLI web image-text data: nothing of Marqo-GS",
                               "open_clip pretrained table (tag webli)", {}),
     "source": "open_clip src/open_clip/pretrained.py (webli weights on timm/ViT-B-16-SigLIP)"},
    {"name": "sample-clip", "profile": "multi-field", "arch": "gcl-tiny",
     "bundled": "sample_models/sample-clip",
     "description": "gcl-tiny trained with the CLIP loss on the bundled sample (ships with the package)",
     "embedding_dim": 64, "training_data": SAMPLE_TRAINED,
     "source": "trained by gcl-bench train (loss none) on the bundled sample"},
    {"name": "sample-gcl", "profile": "multi-field", "arch": "gcl-tiny",
     "bundled": "sample_models/sample-gcl",
     "description": "gcl-tiny trained with GCL on the bundled sample (ships with the package)",
     "embedding_dim": 64, "training_data": SAMPLE_TRAINED,
     "source": "trained by gcl-bench train on the bundled sample"},
)


def register_builtin_models() -> None:
    """Register every row of :data:`BUILTIN_MODELS` with its family's factory."""
    for row in BUILTIN_MODELS:
        info = {key: value for key, value in row.items() if key not in ("name", "profile")}
        info = {**PROFILES[row["profile"]], **info}
        register_model(row["name"], FAMILY_FACTORIES[info["family"]], **info)
