"""The model the trainer trains: an open_clip model built from an architecture name, wrapped so one
``forward`` encodes both sides of a batch.

The trainer is a client of the model code: architectures and checkpoint loading come from
:mod:`gcl_bench.models`, field rules from :mod:`gcl_bench.fields`; open_clip is imported on use.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gcl_bench.errors import GclBenchError
from gcl_bench.fields import field_tower, fuse_fields_torch


def build_model(arch: str, seed: int, pretrained: str | None = None,
                trust_checkpoint: bool = False) -> tuple[nn.Module, Any, Any]:
    """Create ``arch`` (random init from ``seed``, or ``pretrained``), its eval preprocess and tokenizer."""
    import open_clip

    from gcl_bench.models.openclip import get_arch_config, register_model_configs

    register_model_configs()
    get_arch_config(arch)  # unknown architectures fail here with close matches
    tag = None
    if pretrained and not Path(pretrained).expanduser().is_file():
        tags = open_clip.list_pretrained_tags_by_model(arch)
        if pretrained not in tags:
            raise GclBenchError(f"--pretrained {pretrained!r} is neither a checkpoint file nor an "
                                f"open_clip tag of {arch}")
        tag = pretrained
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=tag)
    if pretrained and tag is None:
        from gcl_bench.models.checkpoint import apply_state_dict, load_state_dict

        path = Path(pretrained).expanduser()
        apply_state_dict(model, load_state_dict(path, trust_checkpoint=trust_checkpoint), path)
    tokenizer = open_clip.get_tokenizer(arch)
    return model, preprocess, tokenizer


def image_size(model: nn.Module) -> int:
    """The side of the square images the model's vision tower takes (224 when it has none)."""
    size = getattr(getattr(model, "visual", None), "image_size", 224)
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def state_digest(model: nn.Module) -> str:
    """SHA-256 over the model's parameters and buffers, in state-dict order."""
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class DualEncoder(nn.Module):
    """Wraps an open_clip model so one ``forward`` encodes both sides of a batch (what DDP needs)."""

    def __init__(self, model: nn.Module, query_fields: dict[str, float],
                 doc_fields: dict[str, float]) -> None:
        super().__init__()
        self.model = model
        self.query_fields = query_fields
        self.doc_fields = doc_fields

    def _encode(self, side: str, fields: dict[str, float], inputs: dict[str, torch.Tensor],
                present: dict[str, torch.Tensor] | None) -> torch.Tensor:
        embeddings = {}
        for name in fields:
            if field_tower(side, name) == "image":
                features = self.model.encode_image(inputs[name])
            else:
                features = self.model.encode_text(inputs[name])
            embeddings[name] = F.normalize(features.float(), dim=-1)
        return fuse_fields_torch(embeddings, fields, present)

    def forward(self, query_inputs: dict[str, torch.Tensor], doc_inputs: dict[str, torch.Tensor],
                doc_present: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        queries = self._encode("query", self.query_fields, query_inputs, None)
        docs = self._encode("doc", self.doc_fields, doc_inputs, doc_present)
        return queries, docs, self.model.logit_scale.exp()
