"""Where a registry entry's weights are: bundled with the package, in the cache, or downloaded.

:func:`resolve_weights` is what loading a registry model uses (bundled, else cached, else a
download unless refused); :func:`download_weights` is ``gcl-bench download model NAME``;
:func:`weights_status` is the ``weights`` column of ``gcl-bench models``. This module may import
the standard library, :mod:`gcl_bench.errors`, :mod:`gcl_bench.download`, :mod:`gcl_bench.formats`,
:mod:`gcl_bench.models.registry` and :mod:`gcl_bench.models.hub`.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gcl_bench.errors import GclBenchError
from gcl_bench.models.registry import ModelInfo

if TYPE_CHECKING:  # pragma: no cover
    from gcl_bench.download import Progress

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
SAMPLE_WEIGHTS_DIR = ASSETS_DIR / "sample_models"
SAMPLE_SUFFIXES = (".safetensors", ".pt", "-states.pt")


def resolve_weights(info: ModelInfo, *, download: bool = True) -> Path:
    """The local weights file of a registry entry: bundled, cached, or downloaded now."""
    if info.bundled:
        path = bundled_weights(info)
        if path is None:
            raise GclBenchError(
                f"the weights of {info.name} are not bundled with this installation (expected "
                f"{SAMPLE_WEIGHTS_DIR / Path(info.bundled).name}{{{','.join(SAMPLE_SUFFIXES)}}}); "
                "train them with gcl-bench train or pass --pretrained PATH",
                SAMPLE_WEIGHTS_DIR,
            )
        return path
    if not info.url:
        raise GclBenchError(f"model {info.name} has no weights URL; pass --pretrained PATH")
    from gcl_bench.download import weights_path

    dest = weights_path(info.url)
    if dest.is_file() or download:
        return _fetch(info, info.url)
    raise GclBenchError(
        f"weights of {info.name} are not in the cache; run gcl-bench download model {info.name} "
        f"or place {info.url} at this path",
        dest,
    )


def download_weights(
    info: ModelInfo, *, url: str | None = None, progress: Progress | None = None
) -> Path:
    """Fetch the weights of ``info`` into the cache (from ``url``, a mirror, when given).

    A bundled entry returns its bundled file; an entry whose weights are on the Hugging Face Hub
    is fetched into the Hugging Face cache (weights, config and tokenizer files); one with no
    weights at all raises GclBenchError saying so.
    """
    if url or info.url:
        return _fetch(info, url or info.url, progress)
    if info.bundled:
        return resolve_weights(info)
    from gcl_bench.models.hub import download_hub_model, is_hub_entry

    if is_hub_entry(info):  # into the Hugging Face cache, where open_clip and transformers look
        return download_hub_model(info)
    raise GclBenchError(f"{info.name} has no weights to download")


def _fetch(info: ModelInfo, url: str, progress: Progress | None = None) -> Path:
    """Download ``url`` to the cache path of the entry's own URL (kept if already complete)."""
    from gcl_bench.download import download_file, weights_path
    from gcl_bench.formats import CHECKPOINT

    return download_file(url, weights_path(info.url or url), sha256=info.sha256, size=info.size,
                         kind=CHECKPOINT, progress=progress)


def bundled_weights(info: ModelInfo) -> Path | None:
    """The bundled weights file of ``info`` (any of the accepted suffixes), if present."""
    if not info.bundled:
        return None
    base = ASSETS_DIR / info.bundled
    for suffix in SAMPLE_SUFFIXES:
        candidate = base.with_name(base.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def weights_status(info: ModelInfo) -> str:
    """``none needed``, ``bundled``, ``missing (bundled)``, ``cached``, ``not downloaded``, and for
    weights on the Hugging Face Hub ``HF cache`` or ``not downloaded (HF hub)``."""
    if info.bundled:
        return "bundled" if bundled_weights(info) else "missing (bundled)"
    if info.url:
        from gcl_bench.download import weights_path

        return "cached" if weights_path(info.url).is_file() else "not downloaded"
    from gcl_bench.models.hub import hub_weights_status, is_hub_entry

    if is_hub_entry(info):
        return hub_weights_status(info)
    return "none needed" if info.family == "bm25" else "-"
