"""How a sample product looks and reads: its title, its picture, and the text of a query.

Each function takes the generator's random stream and draws from it in a fixed order, so the
same stream gives the same bytes.

May import: :mod:`~gcl_bench.data.sample.vocabulary`, numpy, PIL.
"""
from __future__ import annotations

import io as _stdio

import numpy as np

from gcl_bench.data.sample.vocabulary import (
    BRANDS,
    CATEGORIES,
    COLOURS,
    MATERIALS,
    SIZES,
    STYLES,
    SYNONYM_SHARE,
    SYNONYMS,
    TITLE_TEMPLATES,
)


def product_title(rng: np.random.Generator, attrs: dict[str, str], prominence: float) -> str:
    """A shop title naming the product's attributes (a template, a brand, a size word that
    follows the prominence, each attribute word sometimes replaced by a synonym)."""
    template = TITLE_TEMPLATES[int(rng.integers(len(TITLE_TEMPLATES)))]
    brand = BRANDS[int(rng.integers(len(BRANDS)))]
    # size words follow the prominence: small/12" ... 24"/large
    band = SIZES[min(len(SIZES) - 1, int((prominence + 1) / 2 * len(SIZES)))]
    size = band[int(rng.integers(len(band)))]
    words = {}
    for name, value in attrs.items():
        alternatives = SYNONYMS[value]
        use = rng.random() < SYNONYM_SHARE
        words[name] = alternatives[int(rng.integers(len(alternatives)))] if use else value
    return template.format(
        brand=brand, size=size,
        **words, **{key.capitalize(): value.capitalize() for key, value in words.items()},
    )


def _shape_mask(shape: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pixels inside ``shape`` (coordinates relative to the centre, in radii)."""
    if shape == "circle":
        return x**2 + y**2 <= 1.0
    if shape == "square":
        return np.maximum(np.abs(x), np.abs(y)) <= 0.85
    if shape == "triangle":
        return (y >= -1.0) & (y <= 0.9) & (np.abs(x) <= (y + 1.0) * 0.5)
    if shape == "diamond":
        return np.abs(x) + np.abs(y) <= 1.05
    if shape == "bar":
        return (np.abs(x) <= 1.05) & (np.abs(y) <= 0.45)
    r2 = x**2 + y**2  # ring
    return (r2 <= 1.0) & (r2 >= 0.5**2)


def _texture_pattern(texture: str, yy: np.ndarray, xx: np.ndarray, period: int) -> np.ndarray:
    """Pixels of ``texture``'s marks (pixel coordinates)."""
    if texture == "horizontal":
        return (yy.astype(int) % period) == 0
    if texture == "diagonal":
        return ((yy + xx).astype(int) % period) == 0
    if texture == "dots":
        return ((yy.astype(int) % period) == 1) & ((xx.astype(int) % period) == 1)
    return np.zeros(yy.shape, dtype=bool)


def draw_product(rng: np.random.Generator, attrs: dict[str, str], prominence: float,
                 size: int) -> np.ndarray:
    """An RGB uint8 picture of one product: style -> background/frame, category -> shape,
    colour -> fill, material -> texture. Small random jitter in position, scale and colour."""
    background, frame, frame_width = STYLES[attrs["style"]]
    image = np.empty((size, size, 3), dtype=np.float64)
    image[:] = background
    pad = int(round(frame_width * size))
    if frame is not None and pad > 0:
        image[:pad] = frame
        image[-pad:] = frame
        image[:, :pad] = frame
        image[:, -pad:] = frame

    centre = (size - 1) / 2 + rng.uniform(-0.06, 0.06, size=2) * size
    radius = size * (0.32 + 0.05 * prominence)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    mask = _shape_mask(CATEGORIES[attrs["category"]], (xx - centre[1]) / radius, (yy - centre[0]) / radius)
    pattern = _texture_pattern(MATERIALS[attrs["material"]], yy, xx, period=max(3, size // 8))

    fill = np.clip(np.array(COLOURS[attrs["colour"]]) + rng.integers(-12, 13, size=3), 0, 255)
    image[mask] = fill
    marked = mask & pattern
    image[marked] = image[marked] * 0.5 + 128 * 0.5
    image += rng.integers(-5, 6, size=image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def png_bytes(pixels: np.ndarray) -> bytes:
    """The picture as a PNG file."""
    from PIL import Image

    buffer = _stdio.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def query_text(rng: np.random.Generator, attrs: dict[str, str]) -> str:
    """A query naming ``attrs``: "vintage red wool pillow", "blue decor", "pillow in red wool"."""
    adjectives = [attrs[name] for name in ("style", "colour", "material") if name in attrs]
    noun = attrs.get("category", "decor")
    if "category" in attrs and len(adjectives) >= 2 and rng.random() < 0.35:
        # "pillow in red wool", "vintage lamp in blue"
        lead = attrs.get("style")
        rest = [attrs[name] for name in ("colour", "material") if name in attrs]
        head = f"{lead} {noun}" if lead and rest else noun
        tail = rest if lead and rest else adjectives
        return f"{head} in {' '.join(tail)}"
    return " ".join([*adjectives, noun])
