"""Models from the Hugging Face Hub: which files a model needs, found in the cache or downloaded.

Three kinds of Hub model, each read by its library once its files are in the Hugging Face cache
(:func:`gcl_bench.config.hub_cache_dir`, the cache open_clip and transformers use):

- open_clip ``hf-hub:ORG/NAME`` models (``--model open_clip:hf-hub:ORG/NAME``; Marqo's ecommerce
  and fashion models): ``open_clip_config.json`` and the weights, ``open_clip_model.safetensors``
  or else ``open_clip_pytorch_model.bin`` (open_clip's order) — :func:`open_clip_hub_files`;
- open_clip pretrained tags whose table entry points at a Hub repo (``ViT-B-32-quickgelu`` /
  ``openai`` is ``timm/vit_base_patch32_clip_224.openai``) — :func:`open_clip_tag_file`;
- transformers models (``e5:ORG/NAME``): ``config.json`` and ``model.safetensors`` or
  ``pytorch_model.bin`` — :func:`transformers_hub_files`.

Each look-up is made before the library is called, so a missing model is one line naming the repo
id and how to place it (``HF_HUB_OFFLINE=1`` with a warm cache needs no network at all), and the
resolved commit and file hash (:class:`HubFile`) identify the weights in results.json and in the
embedding cache. :func:`hub_weights_status` and :func:`download_hub_model` serve ``gcl-bench
models`` and ``gcl-bench download model NAME``.

This module may import the standard library, :mod:`gcl_bench.config`, :mod:`gcl_bench.errors`
and :mod:`gcl_bench.models.registry` (huggingface_hub and open_clip inside functions).
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcl_bench.config import hub_cache_dir, hub_offline
from gcl_bench.errors import GclBenchError
from gcl_bench.models.registry import ModelInfo

HF_HUB_PREFIX = "hf-hub:"
OPEN_CLIP_CONFIG = "open_clip_config.json"
OPEN_CLIP_WEIGHTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
TRANSFORMERS_CONFIG = "config.json"
TRANSFORMERS_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
TOKENIZER_PATTERNS = ("tokenizer*", "special_tokens_map.json", "vocab*", "merges.txt", "*.model", "added_tokens.json")

KNOWN_MISSPELLINGS = {
    "Marqo/marqo-ecommerce-B": "Marqo/marqo-ecommerce-embeddings-B",
    "Marqo/marqo-ecommerce-L": "Marqo/marqo-ecommerce-embeddings-L",
}
"""Ids printed in published evaluation scripts that name no repository (marqo-ecommerce-embeddings README)."""

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class HubFile:
    """One file of a Hub repo in the local cache: its path, the commit it belongs to, its blob id."""

    repo_id: str
    filename: str
    path: Path
    commit: str

    @property
    def sha256(self) -> str | None:
        """The file's SHA-256 when the cache names its blob by it (large files, stored with LFS)."""
        blob = self.path.resolve().name
        return blob if _SHA256.fullmatch(blob) else None

    def record(self) -> dict[str, Any]:
        return {"repo_id": self.repo_id, "commit": self.commit, "file": self.filename, "sha256": self.sha256}


def is_hub_arch(arch: str | None) -> bool:
    return bool(arch) and str(arch).startswith(HF_HUB_PREFIX)


def hub_repo(arch: str) -> str:
    """``ORG/NAME`` of ``hf-hub:ORG/NAME``."""
    repo_id = arch[len(HF_HUB_PREFIX):].strip()
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise GclBenchError(f"{arch!r}: expected hf-hub:ORG/NAME (e.g. hf-hub:Marqo/marqo-fashionSigLIP)")
    return repo_id


def hub_file(repo_id: str, filenames: Sequence[str], what: str, *, download: bool = True) -> HubFile:
    """The first of ``filenames`` that ``repo_id`` has, from the cache, else downloaded (unless
    offline or ``download`` is false). ``what`` names the model in errors."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.utils import (
        EntryNotFoundError,
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    local_only = hub_offline() or not download
    not_cached = False
    for filename in filenames:
        try:
            path = Path(hf_hub_download(repo_id, filename, cache_dir=str(hub_cache_dir()), local_files_only=local_only))
        except LocalEntryNotFoundError:
            not_cached = True
            continue
        except EntryNotFoundError:  # the repository has no such file: try the next name
            continue
        except GatedRepoError:
            raise GclBenchError(f"{what}: {repo_id} is gated on the Hugging Face Hub; accept its terms on the "
                                "Hub and log in with `hf auth login`") from None
        except RepositoryNotFoundError:
            raise GclBenchError(_no_repo_message(repo_id, what)) from None
        return HubFile(repo_id, filename, path, _commit_of(path, filename))
    if not_cached:
        raise GclBenchError(_not_cached_message(repo_id, what, download))
    raise GclBenchError(f"{what}: the Hub repository {repo_id} has none of {', '.join(filenames)}")


def _commit_of(path: Path, filename: str) -> str:
    """The commit folder of a snapshot file (``snapshots/<commit>/<filename>``)."""
    folder = path
    for _ in Path(filename).parts:
        folder = folder.parent
    return folder.name


def _no_repo_message(repo_id: str, what: str) -> str:
    hint = KNOWN_MISSPELLINGS.get(repo_id)
    fix = f"; did you mean {hint}? (some published scripts spell it {repo_id})" if hint else ""
    return f"{what}: no model repository {repo_id} on the Hugging Face Hub{fix}"


def _not_cached_message(repo_id: str, what: str, download: bool) -> str:
    cache = hub_cache_dir()
    if not download:
        why = "downloads are off"
    elif hub_offline():
        why = "HF_HUB_OFFLINE is set"
    else:
        why = "the Hub cannot be reached"
    hint = KNOWN_MISSPELLINGS.get(repo_id)
    fix = f" (did you mean {hint}? some published scripts spell it {repo_id})" if hint else ""
    return (
        f"{what}: the Hub model {repo_id}{fix} is not in the Hugging Face cache ({cache}) and {why}; where there "
        f"is network run `hf download {repo_id}` and copy {cache / ('models--' + repo_id.replace('/', '--'))} to "
        "this cache (HF_HUB_OFFLINE=1 then needs no network)"
    )


def open_clip_hub_files(arch: str, *, weights: bool = True, download: bool = True) -> tuple[HubFile, HubFile | None]:
    """The config and (when ``weights``) the weights file of an open_clip ``hf-hub:`` model."""
    repo_id = hub_repo(arch)
    config = hub_file(repo_id, [OPEN_CLIP_CONFIG], arch, download=download)
    return config, hub_file(repo_id, OPEN_CLIP_WEIGHTS, arch, download=download) if weights else None


def read_open_clip_config(config: HubFile) -> dict[str, Any]:
    """The ``model_cfg`` of an ``open_clip_config.json`` (the whole file when it has none)."""
    try:
        data = json.loads(config.path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GclBenchError(f"unreadable open_clip config of {config.repo_id} ({err})", config.path) from None
    if not isinstance(data, dict):
        raise GclBenchError(f"the open_clip config of {config.repo_id} is not a JSON object", config.path)
    return data.get("model_cfg", data)


def open_clip_tag_file(arch: str, tag: str, *, download: bool = True) -> HubFile | None:
    """The weights of open_clip tag ``arch``/``tag`` when open_clip's table puts them on the Hub
    (None when it downloads them from a URL itself)."""
    from open_clip.pretrained import get_pretrained_cfg

    source = (get_pretrained_cfg(arch, tag) or {}).get("hf_hub", "")
    if not source:
        return None
    repo_id, filename = os.path.split(source)
    filename = filename or "open_clip_pytorch_model.bin"
    candidates = [filename]
    if filename.endswith((".bin", ".pth")):  # open_clip prefers a safetensors copy
        candidates.insert(0, "open_clip_model.safetensors" if filename == "open_clip_pytorch_model.bin"
                          else filename[:-4] + ".safetensors")
    return hub_file(repo_id, candidates, f"open_clip:{arch} --pretrained {tag}", download=download)


def transformers_hub_files(repo_id: str, what: str, *, download: bool = True) -> tuple[HubFile, HubFile]:
    """``config.json`` and the weights of a transformers model on the Hub."""
    config = hub_file(repo_id, [TRANSFORMERS_CONFIG], what, download=download)
    return config, hub_file(repo_id, TRANSFORMERS_WEIGHTS, what, download=download)


def entry_weights(info: ModelInfo, *, download: bool = True) -> HubFile | None:
    """The Hub weights file of registry entry ``info`` (None: its weights are not on the Hub)."""
    if info.url or info.bundled:
        return None
    if info.family == "open_clip" and is_hub_arch(info.arch):
        return open_clip_hub_files(str(info.arch), download=download)[1]
    if info.family == "open_clip" and info.arch and info.pretrained_tag:
        return open_clip_tag_file(info.arch, info.pretrained_tag, download=download)
    if info.family == "e5" and info.hf_name:
        return transformers_hub_files(info.hf_name, info.name, download=download)[1]
    return None


def is_hub_entry(info: ModelInfo) -> bool:
    """Whether the weights of registry entry ``info`` come from the Hugging Face Hub."""
    if info.url or info.bundled:
        return False
    if info.family == "e5":
        return bool(info.hf_name)
    if is_hub_arch(info.arch):
        return True
    if info.family == "open_clip" and info.arch and info.pretrained_tag:
        from open_clip.pretrained import get_pretrained_cfg

        return bool((get_pretrained_cfg(info.arch, info.pretrained_tag) or {}).get("hf_hub"))
    return False


def hub_weights_status(info: ModelInfo) -> str:
    """``HF cache`` when the entry's Hub weights are cached, else ``not downloaded (HF hub)``."""
    try:
        found = entry_weights(info, download=False)
    except GclBenchError:
        found = None
    return "HF cache" if found is not None else "not downloaded (HF hub)"


def download_hub_model(info: ModelInfo) -> Path:
    """Fetch everything entry ``info`` needs from the Hub (config, weights, tokenizer files)."""
    from huggingface_hub import snapshot_download

    weights = entry_weights(info)
    assert weights is not None, info.name
    tokenizer_repo = None
    if info.family == "e5":
        tokenizer_repo = weights.repo_id
    else:
        config: dict[str, Any] = {}
        if is_hub_arch(info.arch):
            config = read_open_clip_config(open_clip_hub_files(str(info.arch), weights=False)[0])
        elif info.arch:
            import open_clip

            config = open_clip.get_model_config(info.arch) or {}
        tokenizer_repo = config.get("text_cfg", {}).get("hf_tokenizer_name") or None
    if tokenizer_repo:
        try:
            snapshot_download(tokenizer_repo, cache_dir=str(hub_cache_dir()), allow_patterns=list(TOKENIZER_PATTERNS),
                              local_files_only=hub_offline())
        except Exception as err:  # the weights are there; the tokenizer error names its repo
            text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise GclBenchError(f"{info.name}: its tokenizer files ({tokenizer_repo}) could not be fetched ({text})") from None
    return weights.path
