"""The image pipeline of the dense adapters: image files (or PIL images) -> preprocessed batches.

Two decoders, chosen with ``--decode``:

- ``cpu`` (the default): PIL decodes each image and the model's own preprocess transforms it
  (open_clip's Resize / CenterCrop / ToTensor / Normalize, exactly as the reference evaluation),
  in ``num_workers`` DataLoader worker processes, or in this process with one torch thread.
- ``gpu``: the workers only read the file bytes; JPEGs are decoded in batches by nvjpeg on the
  model's GPU (``torchvision.io.decode_jpeg(device=...)``), other formats (and any JPEG that
  nvjpeg refuses) by PIL; resize, crop and normalise run as tensor ops on the GPU, one batched
  call per distinct image size (:class:`TensorPreprocess`, derived from the model's preprocess).
  The resize is computed in float32 and rounded to whole 8-bit levels, as PIL's resize rounds,
  so the pixels differ from the ``cpu`` decoder's by a few levels at sharp edges (PIL resamples
  in two fixed-point passes with an 8-bit intermediate); the embeddings of the two agree to a
  cosine of about 0.99999, and the embedding cache keeps them apart.

The ``gpu`` pipeline runs on any torch device; tests run it on the CPU. An image that cannot be
used (``None``, a blank or NaN value, a file that is missing or does not decode) yields no row:
the adapter leaves its embedding row NaN, which fusion treats as an absent field.

This module may import torch, torchvision and PIL (inside functions) and :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gcl_bench.errors import GclBenchError

DECODERS = ("cpu", "gpu")
"""Values of ``--decode``."""

_JPEG_MAGIC = b"\xff\xd8\xff"
_GROUP_BYTES = 512 << 20
"""Upper bound on one float32 batch of same-sized images in :class:`TensorPreprocess`."""
_PIL_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, TypeError, SyntaxError)


def check_decode(decode: str | None, device: str) -> str:
    """``--decode`` for a model on ``device``: ``cpu`` always; ``gpu`` needs CUDA and the model on it."""
    decode = (decode or "cpu").strip().lower()
    if decode not in DECODERS:
        raise GclBenchError(f"--decode {decode!r}: choose one of {', '.join(DECODERS)}")
    if decode == "gpu":
        import torch

        if not torch.cuda.is_available():
            raise GclBenchError("--decode gpu: no CUDA device is available (use --decode cpu)")
        if not str(device).startswith("cuda"):
            raise GclBenchError(
                f"--decode gpu decodes on the model's GPU, but the model runs on {device} "
                "(use --device cuda, or --decode cpu)"
            )
    return decode


def _unusable(image: Any) -> bool:
    """None, a blank string or a NaN from a pandas column: no image to load."""
    return image is None or isinstance(image, float) or (isinstance(image, str) and not image.strip())


# -- decode: cpu (PIL + the model's preprocess) -------------------------------------------------
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

    if _unusable(image):
        return None
    try:
        if isinstance(image, Image.Image):
            return preprocess(image if image.mode == "RGB" else image.convert("RGB"))
        with Image.open(image) as handle:
            handle.load()  # decode errors surface here, inside the try
            return preprocess(handle if handle.mode == "RGB" else handle.convert("RGB"))
    except (*_PIL_ERRORS, Image.DecompressionBombError):
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


def iter_image_batches(
    images: Sequence[Any], preprocess: Any, batch_size: int, num_workers: int = 0,
    *, decode: str = "cpu", device: str = "cpu",
) -> Iterator[tuple[Any, list[int]]]:
    """``(pixels, row_indices)`` batches of ``images``; rows that cannot be used are left out.

    decode ``cpu``: PIL + ``preprocess`` in ``num_workers`` worker processes (0: in process);
    pixels on the CPU. decode ``gpu``: ``preprocess`` is the model's transform or a
    :class:`TensorPreprocess`; decode and transforms run on ``device``, the pixels stay there.
    """
    if decode == "gpu":
        return iter_device_batches(images, preprocess, batch_size, num_workers, device=device)
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


# -- decode: gpu (nvjpeg + tensor transforms on the device) --------------------------------------
@dataclass(frozen=True)
class TensorPreprocess:
    """The model's preprocess as tensor ops over uint8 ``(3, H, W)`` images on any device.

    ``steps`` holds ``("resize", size, interpolation, max_size)``, ``("crop", size)``,
    ``("scale",)`` (ToTensor's division by 255) and ``("normalize", mean, std)`` in the order of
    the original transform. Resizes before the scale step are rounded to whole levels and clipped
    to 0..255, as PIL's are; every resize is antialiased, as PIL's always is.
    """

    steps: tuple[tuple[Any, ...], ...]

    @classmethod
    def from_transform(cls, preprocess: Any) -> TensorPreprocess:
        """Read a torchvision ``Compose`` (open_clip's preprocess); other steps are refused."""
        from torchvision import transforms as T

        steps: list[tuple[Any, ...]] = []
        for step in getattr(preprocess, "transforms", [preprocess]):
            name = getattr(step, "__name__", type(step).__name__)
            if isinstance(step, T.Resize):
                steps.append(("resize", step.size, step.interpolation, step.max_size))
            elif isinstance(step, T.CenterCrop):
                steps.append(("crop", list(step.size)))
            elif isinstance(step, T.Normalize):
                steps.append(("normalize", tuple(step.mean), tuple(step.std)))
            elif name in ("ToTensor", "MaybeToTensor"):
                steps.append(("scale",))
            elif name in ("MaybeConvertMode", "_convert_to_rgb", "convert_to_rgb"):
                continue  # the decoders already give RGB
            else:
                raise GclBenchError(
                    f"--decode gpu: the preprocess step {name} has no tensor equivalent here "
                    "(use --decode cpu)"
                )
        if [s[0] for s in steps].count("scale") != 1:
            raise GclBenchError("--decode gpu: the preprocess has no single ToTensor step (use --decode cpu)")
        return cls(tuple(steps))

    def __call__(self, images: Sequence[Any]) -> Any:
        """One float32 batch ``(N, 3, h, w)`` on the images' device, in the order given."""
        import torch

        if not images:
            raise GclBenchError("no images to preprocess")
        out: list[Any] = [None] * len(images)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, image in enumerate(images):
            groups.setdefault(tuple(image.shape), []).append(i)
        for shape, rows in groups.items():
            per_call = max(1, _GROUP_BYTES // (4 * math.prod(shape)))
            for start in range(0, len(rows), per_call):
                chunk = rows[start:start + per_call]
                done = self.apply(torch.stack([images[i] for i in chunk]))
                for i, pixels in zip(chunk, done):
                    out[i] = pixels
        return torch.stack(out)

    def apply(self, batch: Any) -> Any:
        """The steps over one uint8 batch ``(n, 3, H, W)`` of equal-sized images."""
        import torch
        from torchvision.transforms.v2 import functional as F

        pixels = batch.to(torch.float32)
        levels = True  # still 0..255 values (a PIL image), before ToTensor's scaling
        for step in self.steps:
            if step[0] == "resize":
                _, size, interpolation, max_size = step
                size = [size] if isinstance(size, int) else list(size)
                pixels = F.resize(pixels, size, interpolation=interpolation, max_size=max_size, antialias=True)
                if levels:
                    pixels = pixels.clamp_(0, 255).round_()
            elif step[0] == "crop":
                pixels = F.center_crop(pixels, step[1])
            elif step[0] == "scale":
                pixels = pixels / 255.0
                levels = False
            else:
                pixels = F.normalize(pixels, list(step[1]), list(step[2]))
        return pixels


class EncodedImageDataset:
    """For DataLoader workers: each image as ``("jpeg", bytes)`` for the device's decoder or
    ``("pixels", uint8 (3, H, W))`` decoded by PIL (other formats, PIL images); ``None`` if unusable."""

    def __init__(self, images: Sequence[Any]) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[int, Any]:
        return index, read_for_device(self.images[index])


def read_for_device(image: Any) -> tuple[str, Any] | None:
    """What a worker hands to :func:`iter_device_batches` for one image (see EncodedImageDataset)."""
    import torch
    from PIL import Image

    if _unusable(image):
        return None
    if isinstance(image, Image.Image):
        return _pil_pixels(image)
    try:
        with open(image, "rb") as handle:
            data = handle.read()
    except (OSError, TypeError, ValueError):
        return None
    if data[:3] == _JPEG_MAGIC:
        return "jpeg", torch.frombuffer(bytearray(data), dtype=torch.uint8)
    return _decode_with_pil(data)


def _pil_pixels(image: Any) -> tuple[str, Any] | None:
    import numpy as np
    import torch

    try:
        rgb = np.array(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.uint8)
    except _PIL_ERRORS:
        return None
    return "pixels", torch.from_numpy(rgb).permute(2, 0, 1).contiguous()


def _decode_with_pil(data: bytes) -> tuple[str, Any] | None:
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as handle:
            handle.load()
            return _pil_pixels(handle)
    except (*_PIL_ERRORS, Image.DecompressionBombError):
        return None


def _decode_jpegs(items: list[tuple[int, Any]], device: str) -> dict[int, Any]:
    """uint8 ``(3, H, W)`` images on ``device`` by row: one batched decode, or one by one when
    the batch fails (then PIL for the files the device's decoder refuses; None if PIL does too)."""
    from torchvision.io import ImageReadMode, decode_jpeg

    data = [encoded for _, encoded in items]
    try:
        return dict(zip((row for row, _ in items), decode_jpeg(data, mode=ImageReadMode.RGB, device=device)))
    except RuntimeError:
        pass
    decoded: dict[int, Any] = {}
    for row, encoded in items:
        try:
            decoded[row] = decode_jpeg(encoded, mode=ImageReadMode.RGB, device=device)
        except RuntimeError:
            fallback = _decode_with_pil(encoded.numpy().tobytes())
            decoded[row] = None if fallback is None else fallback[1].to(device)
    return decoded


def _read_batches(images: Sequence[Any], batch_size: int, num_workers: int) -> Iterator[list[tuple[int, Any]]]:
    if num_workers > 0:
        from torch.utils.data import DataLoader

        yield from DataLoader(EncodedImageDataset(images), batch_size=batch_size, shuffle=False,
                              num_workers=int(num_workers), collate_fn=list)
        return
    for start in range(0, len(images), batch_size):
        yield [(i, read_for_device(images[i])) for i in range(start, min(start + batch_size, len(images)))]


def iter_device_batches(
    images: Sequence[Any], preprocess: Any, batch_size: int, num_workers: int = 0, *, device: str = "cpu",
) -> Iterator[tuple[Any, list[int]]]:
    """``(pixels on device, row_indices)`` batches: files read in ``num_workers`` worker processes,
    JPEGs decoded on ``device`` in one call per batch, transforms batched by image size there."""
    transform = preprocess if isinstance(preprocess, TensorPreprocess) else TensorPreprocess.from_transform(preprocess)
    for batch in _read_batches(images, batch_size, num_workers):
        jpegs = [(row, item[1]) for row, item in batch if item is not None and item[0] == "jpeg"]
        decoded = _decode_jpegs(jpegs, device) if jpegs else {}
        for row, item in batch:
            if item is not None and item[0] == "pixels":
                decoded[row] = item[1].to(device)
        rows = [row for row, _ in batch if decoded.get(row) is not None]
        if not rows:
            yield None, []
            continue
        yield transform([decoded[row] for row in rows]), rows
