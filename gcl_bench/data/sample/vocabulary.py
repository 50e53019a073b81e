"""The words of the sample's world: attribute values, how they relate, and how titles and
queries name them.

Products have a colour, a category, a material and a style; each value also has a look in the
picture (colour -> fill, category -> shape, material -> texture, style -> background and frame).
Nothing here is random: the generator draws from these tables.

May import: numpy only.
"""
from __future__ import annotations

from itertools import combinations, product

import numpy as np

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (210, 30, 35),
    "orange": (240, 130, 20),
    "yellow": (235, 215, 30),
    "green": (40, 160, 60),
    "blue": (35, 80, 210),
    "purple": (130, 50, 170),
    "pink": (240, 120, 180),
    "black": (25, 25, 25),
}
RELATED_COLOURS = (("red", "pink"), ("red", "orange"), ("orange", "yellow"),
                   ("blue", "purple"), ("purple", "pink"), ("green", "yellow"))
#: category -> shape drawn
CATEGORIES: dict[str, str] = {
    "clock": "circle",
    "pillow": "square",
    "lamp": "triangle",
    "vase": "diamond",
    "rug": "bar",
    "basket": "ring",
}
RELATED_CATEGORIES = (("pillow", "rug"), ("vase", "basket"), ("clock", "lamp"))
#: material -> texture drawn on the object
MATERIALS: dict[str, str] = {
    "cotton": "plain",
    "wool": "horizontal",
    "wood": "diagonal",
    "metal": "dots",
}
#: style -> (background colour, frame colour or None, frame width as a fraction of the size)
STYLES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int] | None, float]] = {
    "modern": ((246, 246, 246), None, 0.0),
    "vintage": ((226, 206, 160), (110, 70, 30), 0.07),
    "rustic": ((165, 125, 85), (70, 45, 20), 0.14),
    "minimalist": ((185, 200, 215), None, 0.0),
}
ATTRIBUTES = ("colour", "category", "material", "style")
WEIGHTS = {"colour": 0.30, "category": 0.40, "material": 0.15, "style": 0.15}

BRANDS = ("Nordhaus", "Casa Verde", "Lumen & Co", "Oakfield", "Kiyomi", "Brightline",
          "Hearth+Home", "Atelier 9", "Maison Rue", "Fjordly")
#: Size words in titles, from the least to the most prominent products.
SIZES = (("small", '12"'), ('16"', "medium"), ('18"', "2-pack"), ("large", '24"'))
#: Titles name an attribute by another word this often, so matching query words to titles
#: (BM25) is not enough: the same product sells as a "crimson cushion" and a "red pillow".
SYNONYM_SHARE = 0.35
SYNONYMS: dict[str, tuple[str, ...]] = {
    "red": ("crimson", "scarlet"), "orange": ("tangerine", "amber"),
    "yellow": ("mustard", "lemon"), "green": ("emerald", "olive"), "blue": ("navy", "cobalt"),
    "purple": ("violet", "plum"), "pink": ("rose", "blush"), "black": ("ebony", "jet"),
    "clock": ("timepiece", "wall clock"), "pillow": ("cushion", "throw pillow"),
    "lamp": ("light", "lantern"), "vase": ("jar", "urn"), "rug": ("carpet", "mat"),
    "basket": ("hamper", "bin"),
    "cotton": ("canvas", "cotton-blend"), "wool": ("woollen", "knit"), "wood": ("wooden", "oak"),
    "metal": ("steel", "iron"),
    "modern": ("contemporary", "sleek"), "vintage": ("retro", "antique"),
    "rustic": ("farmhouse", "cabin"), "minimalist": ("scandi", "simple"),
}
TITLE_TEMPLATES = (
    "{brand} {style} {colour} {material} {category}",
    "{colour} {material} {category} - {style} style",
    "{style} {category} in {colour}, {material}",
    "{brand} {category}, {colour} {material} ({size})",
    "{colour} {category} | {material} | {brand}",
    "{size} {style} {material} {category}, {colour}",
    "{Colour} {Material} {Category} by {brand}",
)
#: How often a query names one, two or three attributes (before sampling without replacement).
QUERY_SIZE_SHARE = {1: 0.15, 2: 0.40, 3: 0.45}


def vocab(attribute: str) -> list[str]:
    """The values of ``attribute``, in a fixed order (a value's code is its index here)."""
    return list({"colour": COLOURS, "category": CATEGORIES, "material": MATERIALS,
                 "style": STYLES}[attribute])


def relatedness(attribute: str) -> np.ndarray:
    """Matrix m[query value, product value]: 1 same, 0.5 related, 0 otherwise."""
    names = vocab(attribute)
    matrix = np.eye(len(names))
    pairs = {"colour": RELATED_COLOURS, "category": RELATED_CATEGORIES}.get(attribute, ())
    for first, second in pairs:
        i, j = names.index(first), names.index(second)
        matrix[i, j] = matrix[j, i] = 0.5
    return matrix


def query_pool() -> list[dict[str, str]]:
    """Every attribute set with one to three attributes, in a fixed order."""
    pool = []
    for k in (1, 2, 3):
        for names in combinations(ATTRIBUTES, k):
            for values in product(*(vocab(name) for name in names)):
                pool.append(dict(zip(names, values)))
    return pool
