"""The image pipeline of the dense adapters: image files (or PIL images) -> preprocessed batches.

A path is decoded with PIL and run through the model's own preprocess (open_clip's transforms,
as the reference evaluation does), in DataLoader worker processes when ``num_workers`` > 0, else
in this process with one torch thread. An image that cannot be used (``None``, a blank or NaN
value, a file that is missing or does not decode) yields no row: the adapter leaves its
embedding row NaN, which fusion treats as an absent field.

This module may import torch, torchvision and PIL (inside functions) and :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ImageDataset:
    """Decode + preprocess images for a DataLoader; a failure yields ``None`` (a NaN row later)."""

    def __init__(self, images: Sequence[Any], preprocess: Any) -> None:
        self.images = images
        self.preprocess = preprocess

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[int, Any]:
        return index, load_image(self.images[index], self.preprocess)


def load_image(image: Any, preprocess: Any) -> Any:
    """A preprocessed tensor for a path or PIL image, or ``None`` when it cannot be used."""
    from PIL import Image

    if image is None or (isinstance(image, str) and not image.strip()):
        return None
    try:
        if isinstance(image, Image.Image):
            return preprocess(image if image.mode == "RGB" else image.convert("RGB"))
        if isinstance(image, float):  # NaN from a pandas column
            return None
        with Image.open(image) as handle:
            handle.load()  # decode errors surface here, inside the try
            return preprocess(handle if handle.mode == "RGB" else handle.convert("RGB"))
    except (OSError, ValueError, TypeError, SyntaxError, Image.DecompressionBombError):
        return None


def _collate(batch: list[tuple[int, Any]]) -> tuple[Any, list[int]]:
    import torch

    kept = [(index, tensor) for index, tensor in batch if tensor is not None]
    if not kept:
        return None, []
    return torch.stack([tensor for _, tensor in kept]), [index for index, _ in kept]


def _in_process_batches(images: Sequence[Any], preprocess: Any, batch_size: int) -> Any:
    """Batches decoded in this process with one torch thread (as DataLoader workers do).

    Image preprocessing runs many tiny tensor ops; with intra-op threads they oversubscribe the
    CPU (measured 7x slower on a loaded 2-core machine), so threads are lowered around it only.
    """
    import torch

    for start in range(0, len(images), batch_size):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            batch = [(i, load_image(images[i], preprocess))
                     for i in range(start, min(start + batch_size, len(images)))]
        finally:
            torch.set_num_threads(threads)
        yield _collate(batch)


def iter_image_batches(images: Sequence[Any], preprocess: Any, batch_size: int, num_workers: int = 0) -> Any:
    """``(pixels, row_indices)`` batches: worker processes when ``num_workers`` > 0, else in process."""
    if num_workers > 0:
        return iter(image_loader(images, preprocess, batch_size, num_workers))
    return _in_process_batches(images, preprocess, batch_size)


def image_loader(images: Sequence[Any], preprocess: Any, batch_size: int, num_workers: int = 0) -> Any:
    """A DataLoader yielding ``(pixels, row_indices)`` with ``num_workers`` decoding processes."""
    from torch.utils.data import DataLoader

    return DataLoader(
        ImageDataset(images, preprocess),
        batch_size=batch_size,
        shuffle=False,
        num_workers=max(0, int(num_workers)),
        collate_fn=_collate,
        pin_memory=False,
    )
