"""The open_clip adapter: CLIP and GCL checkpoints, multi-field on both sides.

``--model open_clip:ARCH --pretrained PATH_OR_TAG``: ARCH is any open_clip architecture (the
package's own configs in ``gcl_bench/assets/model_configs`` are registered on import, so
``open_clip:gcl-tiny`` and ``open_clip:gcl-e5-large-v2`` work); PATH is a checkpoint file read by
:mod:`gcl_bench.models.checkpoint` (states file, plain state dict or ``.safetensors``, loaded with
``weights_only=True``); TAG is an open_clip pretrained tag (``laion2b_s34b_b79k``), which open_clip
downloads itself. Without ``--pretrained`` the model is randomly initialised with seed 0, which is
only useful for tests and speed measurements. ARCH may also be a Hub model, ``hf-hub:ORG/NAME``:
its config and weights come from the Hub repo (found in the Hugging Face cache or downloaded
first, :mod:`gcl_bench.models.hub`), and ``--pretrained PATH`` puts other weights on its architecture.

Usage::

    model = OpenClipRetriever("ViT-B-32", "gcl-vitb32-117-gs-full-states.pt",
                              doc_fields="image:0.9,title:0.1")
    doc_embeddings = model.encode_corpus([{"title": "red shoe", "image": "shoe.jpg"}])

This module may import torch, open_clip and PIL (inside functions), :mod:`gcl_bench.devices`,
:mod:`gcl_bench.errors`, :mod:`gcl_bench.fields`, :mod:`gcl_bench.config` and :mod:`gcl_bench.models.base` /
:mod:`~gcl_bench.models.checkpoint` / :mod:`~gcl_bench.models.hub` / :mod:`~gcl_bench.models.images`
(the image pipeline).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench.config import hub_cache_dir
from gcl_bench.devices import resolve_device
from gcl_bench.errors import GclBenchError
from gcl_bench.fields import (
    DEFAULT_DOC_FIELDS,
    DEFAULT_QUERY_FIELDS,
    field_tower,
    is_missing_text,
    parse_fields,
)
from gcl_bench.models.base import DenseAdapter, autocast, first_line, resolve_precision, sha256_text
from gcl_bench.models.checkpoint import apply_state_dict, checkpoint_sha256, load_state_dict
from gcl_bench.models.hub import (
    HubFile,
    is_hub_arch,
    open_clip_hub_files,
    open_clip_tag_file,
    read_open_clip_config,
)
from gcl_bench.models.images import TensorPreprocess, check_decode, iter_image_batches

#: gcl_bench's own open_clip architecture configs (gcl-tiny, gcl-e5-large-v2).
MODEL_CONFIG_DIR = Path(__file__).resolve().parent.parent / "assets" / "model_configs"

DEFAULT_CONTEXT_LENGTH = 77
RANDOM_INIT_SEED = 0

_CONFIGS_REGISTERED = False


def register_model_configs() -> None:
    """Make gcl_bench's architecture configs known to open_clip (idempotent)."""
    global _CONFIGS_REGISTERED
    if _CONFIGS_REGISTERED:
        return
    import open_clip

    if MODEL_CONFIG_DIR.is_dir():
        open_clip.add_model_config(MODEL_CONFIG_DIR)
    _CONFIGS_REGISTERED = True


def get_arch_config(arch: str) -> dict[str, Any]:
    """The open_clip config of ``arch`` (of its Hub repo for ``hf-hub:ORG/NAME``); unknown names
    raise GclBenchError with close matches."""
    import difflib

    import open_clip

    if is_hub_arch(arch):
        return read_open_clip_config(open_clip_hub_files(arch, weights=False)[0])
    register_model_configs()
    config = open_clip.get_model_config(arch)
    if config is None:
        close = difflib.get_close_matches(arch, open_clip.list_models(), n=5, cutoff=0.5)
        hint = f" (close matches: {', '.join(close)})" if close else ""
        raise GclBenchError(f"unknown open_clip architecture {arch!r}{hint}")
    return config


def checkpoint_weights(path: str | os.PathLike[str]) -> str:
    """How a fingerprint names weights read from a checkpoint file: ``sha256:<hex of the file>``."""
    return f"sha256:{checkpoint_sha256(path)}"


def open_clip_fingerprint(arch: str, arch_config: dict[str, Any], weights: str) -> str:
    """The embedding-cache fingerprint of an open_clip model: its architecture, that
    architecture's config and where its ``weights`` come from (``sha256:<hex>`` of a checkpoint
    file, a Hub file, an open_clip tag or the random initialisation)."""
    return sha256_text("open_clip", arch, arch_config, weights)


class OpenClipRetriever(DenseAdapter):
    """An open_clip model as a multi-field dense retriever (see module docstring)."""

    family = "open_clip"

    def __init__(
        self,
        arch: str,
        pretrained: str | os.PathLike[str] | None = None,
        *,
        query_fields: str | Mapping[str, float] | None = None,
        doc_fields: str | Mapping[str, float] | None = None,
        context_length: int | None = None,
        query_prefix: str = "",
        doc_prefix: str = "",
        device: str = "auto",
        precision: str = "auto",
        num_workers: int = 0,
        decode: str = "cpu",
        trust_checkpoint: bool = False,
        name: str | None = None,
    ) -> None:
        import open_clip
        import torch

        self.arch = arch
        pretrained = None if pretrained in (None, "") else os.fspath(pretrained)
        is_file = pretrained is not None and (Path(pretrained).is_file() or _looks_like_path(pretrained))
        # Hub weights are looked up first, so a missing model is one line naming its repo
        self.hub_weights: HubFile | None = None
        build_name = arch
        if is_hub_arch(arch):
            if pretrained is not None and not is_file:
                raise GclBenchError(f"{arch} brings its own weights; --pretrained takes a checkpoint file for it, "
                                    f"not a tag ({pretrained!r})")
            hub_config, self.hub_weights = open_clip_hub_files(arch, weights=not is_file)
            if is_file:  # the architecture from the cached config, without fetching the Hub weights
                build_name = f"local-dir:{hub_config.path.parent}"
        self.arch_config = get_arch_config(arch)
        self.query_fields = parse_fields(query_fields, "query", DEFAULT_QUERY_FIELDS)
        self.doc_fields = parse_fields(doc_fields, "doc", DEFAULT_DOC_FIELDS)
        self.prefixes = {"query": query_prefix or "", "doc": doc_prefix or ""}
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.num_workers = int(num_workers)
        self.decode = check_decode(decode, self.device)
        self.name = name or f"open_clip:{arch}"

        text_cfg = self.arch_config.get("text_cfg", {})
        self.hf_text = bool(text_cfg.get("hf_model_name"))
        arch_context = int(text_cfg.get("context_length") or DEFAULT_CONTEXT_LENGTH)
        if context_length is not None and int(context_length) <= 0:
            raise GclBenchError(f"context length must be positive, got {context_length}")
        self.context_length = int(context_length) if context_length else arch_context
        force_context = None if self.hf_text or self.context_length == arch_context else self.context_length

        self._checkpoint_path: Path | None = None
        self.pretrained_tag: str | None = None
        common: dict[str, Any] = {"force_context_length": force_context, "precision": "fp32", "device": "cpu"}
        if is_hub_arch(arch) or text_cfg.get("hf_tokenizer_name"):
            common["cache_dir"] = str(hub_cache_dir())
        if pretrained is not None and is_file:
            path = Path(pretrained).expanduser()
            state_dict = load_state_dict(path, trust_checkpoint=trust_checkpoint)
            model, preprocess = self._create(build_name, None, pretrained_text=False, load_weights=False, **common)
            apply_state_dict(model, state_dict, path)
            self._checkpoint_path = path
            self.checkpoint: str | None = str(path)
        elif self.hub_weights is not None:
            model, preprocess = self._create(arch, None, **common)
            self.checkpoint = f"{arch}@{self.hub_weights.commit}"
        elif pretrained is not None:
            tags = open_clip.list_pretrained_tags_by_model(arch)
            if pretrained not in tags:
                known = f"known tags for {arch}: {', '.join(tags)}" if tags else f"{arch} has no pretrained tags"
                raise GclBenchError(
                    f"--pretrained {pretrained!r} is neither a checkpoint file nor an open_clip "
                    f"tag ({known})"
                )
            self.hub_weights = open_clip_tag_file(arch, pretrained)
            if self.hub_weights is not None:
                common["cache_dir"] = str(hub_cache_dir())
            model, preprocess = self._create(arch, pretrained, **common)
            self.pretrained_tag = pretrained
            self.checkpoint = f"open_clip:{pretrained}"
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(RANDOM_INIT_SEED)
                model, preprocess = self._create(arch, None, pretrained_text=False, **common)
            self.checkpoint = None
        if self.checkpoint is None:
            self.training_data = {"datasets": {}, "description": f"none: random initialisation (seed {RANDOM_INIT_SEED})"}
        elif self.pretrained_tag is not None:
            self.training_data = {"datasets": {}, "source": "open_clip pretrained table",
                                  "description": f"the pretraining data of open_clip's {arch} / {self.pretrained_tag}"}
        model.eval().requires_grad_(False)
        self.model = model.to(self.device)
        self.preprocess = preprocess
        # --decode gpu: the same transforms as tensor ops (an unsupported preprocess fails here)
        self.device_preprocess = TensorPreprocess.from_transform(preprocess) if self.decode == "gpu" else None
        self.tokenizer = self._tokenizer(arch)
        self._fingerprint: str | None = None

    # -- construction helpers ---------------------------------------------------------------
    def _create(self, arch: str, tag: str | None, **kwargs: Any) -> tuple[Any, Any]:
        import open_clip

        previous = logging.root.manager.disable
        logging.disable(logging.ERROR)  # open_clip logs warnings/errors that the GclBenchError below replaces
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=tag, **kwargs)
        except Exception as err:  # download / HF config failures
            text = first_line(err)
            if tag is not None:
                raise GclBenchError(
                    f"cannot load open_clip weights {arch}/{tag} ({text}); open_clip downloads "
                    "tagged weights itself, which needs the network: pass --pretrained PATH to a "
                    "local checkpoint instead"
                ) from None
            hf = self.arch_config.get("text_cfg", {}).get("hf_model_name")
            if hf:
                raise GclBenchError(
                    f"cannot build {arch}: its text tower needs the Hugging Face config of {hf!r} "
                    f"({text}); put that model in the Hugging Face cache or set hf_model_name in "
                    "the architecture config to a local folder"
                ) from None
            raise GclBenchError(f"cannot build open_clip model {arch} ({text})") from None
        finally:
            logging.disable(previous)
        return model, preprocess

    def _tokenizer(self, arch: str) -> Any:
        import open_clip

        source = self.arch_config.get("text_cfg", {}).get("hf_tokenizer_name")
        try:
            return open_clip.get_tokenizer(arch, context_length=self.context_length, cache_dir=str(hub_cache_dir()))
        except Exception as err:
            where = (f"; it comes from the Hub repo {source}, which must be in the Hugging Face cache "
                     f"({hub_cache_dir()}) when offline" if source else "")
            raise GclBenchError(f"cannot load the tokenizer of {arch} ({first_line(err)}){where}") from None

    # -- identity -------------------------------------------------------------------------
    def checkpoint_sha256(self) -> str | None:
        if self._checkpoint_path is not None:
            return checkpoint_sha256(self._checkpoint_path)
        return self.hub_weights.sha256 if self.hub_weights is not None else None

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            if self._checkpoint_path is not None:
                weights = checkpoint_weights(self._checkpoint_path)
            elif self.hub_weights is not None and self.pretrained_tag is None:
                hub = self.hub_weights
                weights = f"hf-hub:{hub.repo_id}@{hub.commit}/{hub.filename}:{hub.path.resolve().name}"
            elif self.pretrained_tag is not None:
                weights = f"open_clip-tag:{self.pretrained_tag}"
            else:
                weights = f"random-init:seed{RANDOM_INIT_SEED}"
            self._fingerprint = open_clip_fingerprint(self.arch, self.arch_config, weights)
        return self._fingerprint

    def field_cache_key(self, side: str, field: str) -> dict[str, Any]:
        kind = field_tower(side, field)
        key: dict[str, Any] = {
            "family": self.family,
            "arch": self.arch,
            "side": side,
            "field": field,
            "kind": kind,
            "precision": self.precision,
            "dtype": "float32",
            "normalized": True,
        }
        if kind == "text":
            key.update(
                context_length=self.context_length,
                prefix=self.prefixes[side],
                tokenizer=type(self.tokenizer).__name__,
            )
        else:
            key.update(preprocess=repr(self.preprocess))
            if self.decode != "cpu":  # other decoders give slightly different pixels
                key["decode"] = self.decode
        return key

    def embedding_dim(self) -> int:
        return int(self.arch_config["embed_dim"])

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["arch"] = self.arch
        info["pretrained_tag"] = self.pretrained_tag
        if self.hub_weights is not None:
            info["hub"] = self.hub_weights.record()
        info["decode"] = self.decode
        return info

    # -- encoding -------------------------------------------------------------------------
    def encode_field(
        self, side: str, field: str, values: Sequence[Any], batch_size: int = 256,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Encode ``values`` of one field; float32 (n, D), rows L2-normalised, NaN rows unusable.

        ``progress(n)`` is called after each batch with the number of values it covered.
        """
        kind = field_tower(side, field)
        if batch_size <= 0:
            raise GclBenchError(f"batch size must be positive, got {batch_size}")
        advance = progress or _ignore
        if kind == "text":
            return self._encode_texts(list(values), self.prefixes[side], batch_size, advance)
        return self._encode_images(list(values), batch_size, advance)

    def tokenize(self, texts: Sequence[str]) -> Any:
        """Token ids (n, context_length) for already-prefixed texts."""
        return self.tokenizer(list(texts), context_length=self.context_length)

    def _encode_texts(self, texts: list[Any], prefix: str, batch_size: int, advance: Callable[[int], None]) -> np.ndarray:
        import torch

        out = np.full((len(texts), self.embedding_dim()), np.nan, dtype=np.float32)
        rows = [i for i, text in enumerate(texts) if not is_missing_text(text)]
        advance(len(texts) - len(rows))  # missing texts are done at once (NaN rows)
        with torch.inference_mode(), autocast(self.device, self.precision):
            for start in range(0, len(rows), batch_size):
                chunk = rows[start:start + batch_size]
                tokens = self.tokenize([prefix + str(texts[i]) for i in chunk]).to(self.device)
                features = self.model.encode_text(tokens).float()
                out[chunk] = _normalize(features)
                advance(len(chunk))
        return out

    def _encode_images(self, images: list[Any], batch_size: int, advance: Callable[[int], None]) -> np.ndarray:
        import torch

        out = np.full((len(images), self.embedding_dim()), np.nan, dtype=np.float32)
        loader = iter_image_batches(
            images, self.device_preprocess or self.preprocess, batch_size, self.num_workers,
            decode=self.decode, device=self.device,
        )
        with torch.inference_mode(), autocast(self.device, self.precision):
            for start, (pixels, rows) in zip(range(0, len(images), batch_size), loader):
                if rows:  # batches cover consecutive batch_size slices; unreadable images stay NaN
                    pixels = pixels.to(self.device, non_blocking=True)
                    features = self.model.encode_image(pixels).float()
                    out[rows] = _normalize(features)
                advance(min(batch_size, len(images) - start))
        return out


def _ignore(items: int) -> None:
    """The progress callback of a caller that wants none."""


def _normalize(features: Any) -> np.ndarray:
    import torch.nn.functional as F

    return F.normalize(features, dim=-1).cpu().numpy().astype(np.float32, copy=False)


def _looks_like_path(value: str) -> bool:
    return (
        os.sep in value or "/" in value or value.startswith(".")
        or Path(value).suffix in (".pt", ".pth", ".bin", ".safetensors", ".ckpt")
    )
