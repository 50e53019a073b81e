"""The E5 adapter: Hugging Face text encoders with mean pooling (``--model e5:NAME_OR_PATH``).

E5 embeds a text as the mean of its last hidden states over the attention mask, L2-normalised.
Its model card asks for ``query: `` / ``passage: `` prefixes, so they are on by default; GCL's
fine-tuned E5 checkpoints were evaluated without them (the reference evaluation feeds raw
texts), and their registry entries turn them off. Texts are truncated to 77 tokens, as in the
GCL evaluation. E5 is text-only: documents are encoded from their ``title``.

GCL's E5 training checkpoints (``gcl-e5l-113-gs-full-states.pt``) are open_clip models with an
HF text tower; they load through the open_clip adapter with the ``gcl-e5-large-v2`` architecture
(see ``gcl_bench/assets/model_configs``), not through this class.

Usage::

    model = E5Retriever("intfloat/e5-large-v2")          # or a local folder
    query_embeddings = model.encode_queries([{"text": "red running shoes"}])

This module may import torch and transformers (inside the class), :mod:`gcl_bench.devices`,
:mod:`gcl_bench.errors`, :mod:`gcl_bench.fields`, :mod:`gcl_bench.config` and :mod:`gcl_bench.models.base` /
:mod:`~gcl_bench.models.checkpoint` / :mod:`~gcl_bench.models.hub` (Hub models are looked up in
the Hugging Face cache first, then downloaded unless ``HF_HUB_OFFLINE`` is set).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench.config import hub_cache_dir, hub_offline
from gcl_bench.devices import resolve_device
from gcl_bench.errors import GclBenchError
from gcl_bench.fields import DEFAULT_QUERY_FIELDS, check_side_field, is_missing_text, parse_fields
from gcl_bench.models.base import DenseAdapter, autocast, first_line, resolve_precision, sha256_text
from gcl_bench.models.hub import transformers_hub_files

DEFAULT_QUERY_PREFIX = "query: "
DEFAULT_DOC_PREFIX = "passage: "
DEFAULT_MAX_LENGTH = 77
WEIGHT_FILE_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "config.json", "tokenizer.json", "vocab.txt")


def mean_pool(last_hidden_state: Any, attention_mask: Any) -> Any:
    """Mean of ``last_hidden_state`` (B, L, H) over positions where ``attention_mask`` (B, L) is 1."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    summed = (last_hidden_state * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1)
    return summed / counts


class E5Retriever(DenseAdapter):
    """A Hugging Face encoder with mean pooling and E5 prefixes (see module docstring)."""

    family = "e5"

    def __init__(
        self,
        name_or_path: str | os.PathLike[str],
        *,
        query_prefix: str | None = DEFAULT_QUERY_PREFIX,
        doc_prefix: str | None = DEFAULT_DOC_PREFIX,
        max_length: int = DEFAULT_MAX_LENGTH,
        query_fields: str | Mapping[str, float] | None = None,
        doc_fields: str | Mapping[str, float] | None = None,
        device: str = "auto",
        precision: str = "auto",
        name: str | None = None,
        context_length: int | None = None,
    ) -> None:
        import torch  # noqa: F401 - fail early with a clear import error
        from transformers import AutoModel, AutoTokenizer

        self.source = os.fspath(name_or_path)
        self.name = name or f"e5:{self.source}"
        self.query_fields = parse_fields(query_fields, "query", DEFAULT_QUERY_FIELDS)
        self.doc_fields = parse_fields(doc_fields, "doc", {"title": 1.0})
        if self.doc_fields.get("image", 0) > 0:
            raise GclBenchError(f"{self.name} encodes text only; use --doc-fields title")
        self.prefixes = {"query": query_prefix or "", "doc": doc_prefix or ""}
        self.context_length = int(context_length or max_length)
        if self.context_length <= 0:
            raise GclBenchError(f"max length must be positive, got {self.context_length}")
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)
        local = Path(self.source).expanduser()
        self._local_dir = local if local.is_dir() else None
        if self._local_dir is None and (self.source.startswith((".", "/", "~")) or local.suffix):
            raise GclBenchError("model folder not found", self.source)
        # a Hub model is looked up first, so a missing one is one line naming its repo
        self.hub_weights = None if self._local_dir else transformers_hub_files(self.source, self.name)[1]
        hub = {} if self._local_dir else {"cache_dir": str(hub_cache_dir()), "local_files_only": hub_offline()}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.source, **hub)
            model = AutoModel.from_pretrained(self.source, **hub)
        except Exception as err:  # missing tokenizer files, bad config
            text = first_line(err)
            raise GclBenchError(
                f"cannot load Hugging Face model {self.source!r} ({text}); without network it "
                "must already be in the Hugging Face cache, or pass a local folder",
            ) from None
        model.eval().requires_grad_(False)
        self.model = model.to(self.device)
        self.checkpoint = self.source
        self._dim = int(getattr(model.config, "hidden_size", 0) or getattr(model.config, "d_model", 0))
        if not self._dim:
            raise GclBenchError(f"cannot tell the embedding size of {self.source!r} (no hidden_size)")
        self._fingerprint: str | None = None

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            if self._local_dir is not None:
                from gcl_bench.models.checkpoint import checkpoint_sha256

                files = sorted({p for pat in WEIGHT_FILE_PATTERNS for p in self._local_dir.glob(pat)})
                weights = [(p.name, checkpoint_sha256(p)) for p in files]
            else:
                hub = self.hub_weights
                weights = [("hf-hub", hub.repo_id, hub.commit, hub.filename, hub.path.resolve().name)]
            self._fingerprint = sha256_text("e5", self.source, weights)
        return self._fingerprint

    def checkpoint_sha256(self) -> str | None:
        return self.hub_weights.sha256 if self.hub_weights is not None else None

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self.hub_weights is not None:
            info["hub"] = self.hub_weights.record()
        return info

    def field_cache_key(self, side: str, field: str) -> dict[str, Any]:
        check_side_field(side, field)
        if field == "image":
            raise GclBenchError(f"{self.name} encodes text only; it has no image field")
        return {
            "family": self.family,
            "side": side,
            "field": field,
            "kind": "text",
            "max_length": self.context_length,
            "prefix": self.prefixes[side],
            "pooling": "mean",
            "precision": self.precision,
            "dtype": "float32",
            "normalized": True,
        }

    def embedding_dim(self) -> int:
        return self._dim

    def encode_field(
        self, side: str, field: str, values: Sequence[Any], batch_size: int = 256,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Encode texts of one field: float32 (n, D), rows L2-normalised, NaN rows for missing texts.

        ``progress(n)`` is called after each batch with the number of values it covered.
        """
        import torch
        import torch.nn.functional as F

        self.field_cache_key(side, field)  # validates side / field
        if batch_size <= 0:
            raise GclBenchError(f"batch size must be positive, got {batch_size}")
        values = list(values)
        prefix = self.prefixes[side]
        out = np.full((len(values), self.embedding_dim()), np.nan, dtype=np.float32)
        rows = [i for i, text in enumerate(values) if not is_missing_text(text)]
        # Longest first, so each batch pads to similar lengths (rows are written back in place).
        rows.sort(key=lambda i: len(str(values[i])), reverse=True)
        if progress is not None:
            progress(len(values) - len(rows))  # missing texts are done at once (NaN rows)
        with torch.inference_mode(), autocast(self.device, self.precision):
            for start in range(0, len(rows), batch_size):
                chunk = rows[start:start + batch_size]
                batch = self.tokenizer(
                    [prefix + str(values[i]) for i in chunk],
                    max_length=self.context_length,
                    padding=True,
                    truncation=True,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**batch).last_hidden_state
                pooled = mean_pool(hidden.float(), batch["attention_mask"])
                out[chunk] = F.normalize(pooled, dim=-1).cpu().numpy()
                if progress is not None:
                    progress(len(chunk))
        return out
