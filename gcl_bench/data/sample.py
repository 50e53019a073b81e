"""The bundled sample benchmark: a small synthetic dataset in the Marqo-GS-10M folder layout.

Every command works offline on it (``load_split(None, ...)`` reads :func:`default_sample_dir`),
and ``gcl-bench sample --out DIR`` writes one of any size.

What is in it
-------------
Products have four attributes: a colour, a category, a material and a style, plus a
prominence in [-1, 1]. Titles are written from them (several templates, brand names, size words
that follow the prominence, sometimes without the style, and about a third of the attribute
words replaced by a synonym, so that lexical matching alone falls short), and each product has a
small PNG drawn from the same attributes, so an image tower can learn them:

==========  ==================================================================
colour      fill colour of the object (with a little per-product jitter)
category    shape of the object (circle, square, triangle, diamond, bar, ring)
material    texture on the object (plain, horizontal, diagonal or dotted)
style       background colour and frame of the picture
prominence  size of the object in the picture
==========  ==================================================================

Queries name one to three attributes ("vintage red wool pillow", "blue decor"). How well a
product matches a query is the weighted share of the query's attributes it has::

    match(q, p) = sum_a w_a * m_a(q, p) / sum_a w_a      over the attributes a named by q

with weights category 0.40, colour 0.30, material 0.15, style 0.15, and ``m_a`` = 1 for the same
value, 0.5 for a related value (red~pink, pillow~rug, ...; colours and categories only), else 0.
So a full match scores 1, a partial match (some attributes right, or related) less, a weak match
(one minor attribute right) little. Products are ranked by::

    match(q, p) + 0.04 * prominence(p) + uniform noise in [-0.01, 0.01]

so that among products of equal match the more prominent ones come first, as popular products
do in a shop's results; a partial match never ranks above a full one (the best partial match
has 0.83). Each query's candidates (match >= 0.15) are ranked into positions 1..100, as the
released data ranks the top search results of a query, and the scores follow from the position
as in the release: ``score_linear = 101 - position``, ``score_reciprocal = 1 / position``,
``no_score = 1``. The judgement files (``_gt_dev.json``, ``_gt_test.json``) hold grades rescaled
from ``score_linear`` over the whole CSV as the evaluation does when no judgement file exists
(``int(1 + 99 * (s - min) / (max - min))``, so 1..100, strictly decreasing with the position),
for disjoint dev and test subsets of each split's queries.

A binary view of the same data (every listed product relevant) loses both the difference
between full, partial and weak matches and the preference for prominent products among equals;
the graded view keeps them, which is what a score-weighted (GCL) loss can learn from and a plain
contrastive loss cannot.

Splits, as in the paper: 80 % of the queries are "seen" (query set 0) and 20 % "novel" (query
set 1); the products are halved into corpus_1 (training documents) and corpus_2 (unseen
documents). ``query_{a}_product_id_{b}.csv`` ranks query set ``a`` against corpus ``b + 1``; the
in-domain CSV (``query_0_product_id_0``) is the training data, and the in-domain judgements are
for seen queries over seen documents, as in the paper.

Product ids are strings of eight digits, some with leading zeros, so a reader that infers
integers corrupts them. A few products have an empty title and a few others have no image file,
to exercise the loaders' handling of both.

Everything is deterministic for a seed: the same arguments give the same bytes.
"""
from __future__ import annotations

import contextlib
import csv
import io as _stdio
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench import io
from gcl_bench.config import cache_dir
from gcl_bench.errors import GclBenchError

#: Bump when the generated files change, so cached copies of an older sample are not reused.
SAMPLE_VERSION = "v3"

DEFAULT_PRODUCTS = 2000
DEFAULT_QUERIES = 500
DEFAULT_SEED = 0
DEFAULT_IMAGE_SIZE = 32

#: The released data lists up to 100 ranked results per query.
MAX_POSITIONS = 100
#: A product enters a query's list when its match (before noise) is at least this.
MIN_MATCH = 0.15
#: Among products of the same match, more prominent ones (bigger in the picture, "large" in
#: the title) rank higher: prominence in [-1, 1] adds up to this much to the match.
PROMINENCE_WEIGHT = 0.04
#: Half-width of the uniform noise added to the match before ranking.
NOISE = 0.01
#: Fractions of each query set held out as test and dev judgements (disjoint).
TEST_FRACTION = 0.5
DEV_FRACTION = 0.25
#: Fraction of queries that are "seen" (query set 0).
SEEN_FRACTION = 0.8
#: How many products (per mille, at least one per corpus) get an empty title / no image file.
ODD_PER_MILLE = 5

CSV_COLUMNS = (
    "query", "product_id", "position", "title", "pair_id",
    "score_linear", "score_reciprocal", "no_score", "query_id", "image_local",
)
SPLIT_STEMS = (
    "query_0_product_id_0",  # in_domain
    "query_1_product_id_0",  # novel_query
    "query_0_product_id_1",  # novel_document
    "query_1_product_id_1",  # zero_shot
)
INFO_FILE = "sample_info.json"

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


def _vocab(attribute: str) -> list[str]:
    return list({"colour": COLOURS, "category": CATEGORIES, "material": MATERIALS,
                 "style": STYLES}[attribute])


def _relatedness(attribute: str) -> np.ndarray:
    """Matrix m[query value, product value]: 1 same, 0.5 related, 0 otherwise."""
    names = _vocab(attribute)
    matrix = np.eye(len(names))
    pairs = {"colour": RELATED_COLOURS, "category": RELATED_CATEGORIES}.get(attribute, ())
    for first, second in pairs:
        i, j = names.index(first), names.index(second)
        matrix[i, j] = matrix[j, i] = 0.5
    return matrix


# --------------------------------------------------------------------------------------------
# products


def _product_ids(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct eight-digit strings; about one in eight starts with zeros."""
    with_zeros = max(1, count // 8)
    small = rng.choice(10**6, size=with_zeros, replace=False)
    large = 10**7 + rng.choice(9 * 10**7, size=count - with_zeros, replace=False)
    ids = [f"{int(n):08d}" for n in np.concatenate([small, large])]
    order = rng.permutation(count)
    return [ids[i] for i in order]


def _title(rng: np.random.Generator, attrs: dict[str, str], prominence: float) -> str:
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


def _draw(rng: np.random.Generator, attrs: dict[str, str], prominence: float,
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
    y = (yy - centre[0]) / radius
    x = (xx - centre[1]) / radius
    shape = CATEGORIES[attrs["category"]]
    if shape == "circle":
        mask = x**2 + y**2 <= 1.0
    elif shape == "square":
        mask = np.maximum(np.abs(x), np.abs(y)) <= 0.85
    elif shape == "triangle":
        mask = (y >= -1.0) & (y <= 0.9) & (np.abs(x) <= (y + 1.0) * 0.5)
    elif shape == "diamond":
        mask = np.abs(x) + np.abs(y) <= 1.05
    elif shape == "bar":
        mask = (np.abs(x) <= 1.05) & (np.abs(y) <= 0.45)
    else:  # ring
        r2 = x**2 + y**2
        mask = (r2 <= 1.0) & (r2 >= 0.5**2)

    period = max(3, size // 8)
    texture = MATERIALS[attrs["material"]]
    if texture == "horizontal":
        pattern = (yy.astype(int) % period) == 0
    elif texture == "diagonal":
        pattern = ((yy + xx).astype(int) % period) == 0
    elif texture == "dots":
        pattern = ((yy.astype(int) % period) == 1) & ((xx.astype(int) % period) == 1)
    else:
        pattern = np.zeros_like(mask)

    fill = np.clip(np.array(COLOURS[attrs["colour"]]) + rng.integers(-12, 13, size=3), 0, 255)
    image[mask] = fill
    marked = mask & pattern
    image[marked] = image[marked] * 0.5 + 128 * 0.5
    image += rng.integers(-5, 6, size=image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = _stdio.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# queries


def _query_pool() -> list[dict[str, str]]:
    """Every attribute set with one to three attributes, in a fixed order."""
    from itertools import combinations, product

    pool = []
    for k in (1, 2, 3):
        for names in combinations(ATTRIBUTES, k):
            for values in product(*(_vocab(name) for name in names)):
                pool.append(dict(zip(names, values)))
    return pool


#: How often a query names one, two or three attributes (before sampling without replacement).
QUERY_SIZE_SHARE = {1: 0.15, 2: 0.40, 3: 0.45}


def _query_text(rng: np.random.Generator, attrs: dict[str, str]) -> str:
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


# --------------------------------------------------------------------------------------------
# the generator


def _csv_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = _stdio.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _check_sizes(products: int, queries: int, image_size: int) -> None:
    if products < 20:
        raise GclBenchError(f"--products must be at least 20 (got {products})")
    pool = len(_query_pool())
    if not 10 <= queries <= pool:
        raise GclBenchError(f"--queries must be between 10 and {pool} (got {queries})")
    if not 8 <= image_size <= 512:
        raise GclBenchError(f"--image-size must be between 8 and 512 pixels (got {image_size})")


def _generate(out: Path, products: int, queries: int, seed: int, image_size: int) -> dict:
    """Write every file of the sample into the existing empty folder ``out``; return the info."""
    rng = np.random.default_rng([seed, 20240412])

    # products ------------------------------------------------------------------------------
    ids = _product_ids(rng, products)
    codes = {name: rng.integers(len(_vocab(name)), size=products) for name in ATTRIBUTES}
    prominence = rng.uniform(-1.0, 1.0, size=products)
    attrs = [{name: _vocab(name)[int(codes[name][i])] for name in ATTRIBUTES}
             for i in range(products)]
    titles = [_title(rng, a, float(p)) for a, p in zip(attrs, prominence)]

    order = rng.permutation(products)
    half = products // 2
    corpora = [np.sort(order[:half]), np.sort(order[half:])]

    odd_count = max(1, (products * ODD_PER_MILLE) // 2000)
    empty_title: set[int] = set()
    no_image: set[int] = set()
    for members in corpora:
        picked = rng.choice(members, size=min(len(members), 2 * odd_count), replace=False)
        empty_title.update(int(i) for i in picked[:odd_count])
        no_image.update(int(i) for i in picked[odd_count:])
    for i in empty_title:
        titles[i] = ""

    image_paths = [f"images/{pid}.png" for pid in ids]
    (out / "images").mkdir()
    for i in np.argsort(ids, kind="stable"):
        # drawn even when not written, so the random stream does not depend on which are missing
        pixels = _draw(rng, attrs[i], float(prominence[i]), image_size)
        if int(i) in no_image:
            continue
        with io.atomic_path(out / image_paths[i]) as tmp:
            tmp.write_bytes(_png_bytes(pixels))

    for number, members in enumerate(corpora, start=1):
        corpus = {}
        for i in sorted(members.tolist(), key=lambda k: ids[k]):
            corpus[ids[i]] = {"title": titles[i], "image_local": image_paths[i], **attrs[i]}
        io.write_bytes(out / f"corpus_{number}.json", io.dumps_json(corpus, indent=False))

    # queries -------------------------------------------------------------------------------
    pool = _query_pool()
    sizes = np.array([len(a) for a in pool])
    weights = np.array([QUERY_SIZE_SHARE[k] / np.count_nonzero(sizes == k) for k in sizes])
    chosen = rng.choice(len(pool), size=queries, replace=False, p=weights / weights.sum())
    query_attrs = [pool[int(i)] for i in chosen]
    query_texts = [_query_text(rng, a) for a in query_attrs]
    query_ids = [str(10**5 + int(n)) for n in rng.choice(9 * 10**5, size=queries, replace=False)]
    seen = int(round(queries * SEEN_FRACTION))
    query_sets = [list(range(seen)), list(range(seen, queries))]

    # each query's ranked list in each corpus, one query at a time (memory stays O(products))
    related = {name: _relatedness(name) for name in ATTRIBUTES}
    doc_ids = [np.array([ids[i] for i in docs]) for docs in corpora]
    lists: dict[tuple[int, int], np.ndarray] = {}
    for q, a in enumerate(query_attrs):
        match = np.zeros(products)
        total = 0.0
        for name in ATTRIBUTES:
            if name in a:
                match += WEIGHTS[name] * related[name][_vocab(name).index(a[name]), codes[name]]
                total += WEIGHTS[name]
        match /= total
        noisy = match + PROMINENCE_WEIGHT * prominence + rng.uniform(-NOISE, NOISE, size=products)
        for b, docs in enumerate(corpora):
            candidates = np.flatnonzero(match[docs] >= MIN_MATCH)
            # best noisy score first, ties by product id
            candidates = candidates[np.lexsort((doc_ids[b][candidates], -noisy[docs[candidates]]))]
            lists[q, b] = docs[candidates[:MAX_POSITIONS]]

    # held-out judgement queries, per query set (the same for both corpora)
    held_out: list[tuple[set[int], set[int]]] = []
    for members in query_sets:
        shuffled = [members[i] for i in rng.permutation(len(members))]
        n_test = max(1, int(round(len(members) * TEST_FRACTION)))
        n_dev = max(1, int(round(len(members) * DEV_FRACTION)))
        held_out.append((set(shuffled[:n_test]), set(shuffled[n_test:n_test + n_dev])))

    info_splits = {}
    for stem in SPLIT_STEMS:
        a, b = int(stem[6]), int(stem[-1])
        rows: list[list[Any]] = []
        ranked: dict[int, list[tuple[str, int]]] = {}
        for q in sorted(query_sets[a], key=lambda k: int(query_ids[k])):
            ranked[q] = []
            for position, i in enumerate(lists[q, b].tolist(), start=1):
                score_linear = MAX_POSITIONS + 1 - position
                rows.append([
                    query_texts[q], ids[i], position, titles[i], f"{query_ids[q]}-{ids[i]}",
                    score_linear, repr(1.0 / position), 1, query_ids[q], image_paths[i],
                ])
                ranked[q].append((ids[i], score_linear))
        io.write_bytes(out / f"{stem}.csv", _csv_bytes(rows))

        listed = [q for q in sorted(query_sets[a], key=lambda k: int(query_ids[k])) if ranked[q]]
        io.write_bytes(out / f"{stem}_queries.json", io.dumps_json(
            {query_ids[q]: query_texts[q] for q in listed}, indent=False))

        # grades from score_linear over the whole file, int(1 + 99 * (s - min) / (max - min)):
        # 1..100, strictly decreasing with the position (the reference script's order of float
        # operations, ((s - min) / (max - min)) * 99 + 1, gives three grades one less)
        linear = [s for q in listed for _, s in ranked[q]]
        low, high = min(linear), max(linear)
        test, dev = held_out[a]
        counts = {"queries": len(listed), "rows": len(rows)}
        for eval_set, members in (("dev", dev), ("test", test)):
            gt: dict[str, dict[str, int]] = {}
            for q in sorted((q for q in listed if q in members), key=lambda k: query_texts[k]):
                gt[query_texts[q]] = {
                    pid: int(1 + 99 * (s - low) / (high - low)) if high > low else 1
                    for pid, s in ranked[q]
                }
            io.write_bytes(out / f"{stem}_gt_{eval_set}.json", io.dumps_json(gt, indent=False))
            counts[f"gt_{eval_set}"] = len(gt)
        info_splits[stem] = counts

    info = {
        "generator": "gcl_bench.data.sample",
        "sample_version": SAMPLE_VERSION,
        "seed": seed,
        "products": products,
        "queries": queries,
        "image_size": image_size,
        "corpus_1": len(corpora[0]),
        "corpus_2": len(corpora[1]),
        "query_set_0": len(query_sets[0]),
        "query_set_1": len(query_sets[1]),
        "empty_titles": sorted(ids[i] for i in empty_title),
        "missing_images": sorted(ids[i] for i in no_image),
        "splits": info_splits,
        "attributes": {name: _vocab(name) for name in ATTRIBUTES},
        "match_weights": WEIGHTS,
    }
    io.write_json(out / INFO_FILE, info)
    return info


def _staging_dir(final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))


def write_sample(
    out_dir: str | os.PathLike[str],
    products: int = DEFAULT_PRODUCTS,
    queries: int = DEFAULT_QUERIES,
    seed: int = DEFAULT_SEED,
    image_size: int = DEFAULT_IMAGE_SIZE,
    *,
    overwrite: bool = False,
) -> Path:
    """Write one sample sub-dataset folder (Marqo-GS layout) at ``out_dir`` and return its path.

    The folder is built under a temporary name next to ``out_dir`` and renamed into place, so it
    is either complete or absent. An existing non-empty ``out_dir`` is refused
    (:class:`GclBenchError`) unless ``overwrite`` is true, in which case it is replaced.
    Same arguments, same bytes.
    """
    final = Path(out_dir)
    _check_sizes(products, queries, image_size)
    if final.exists() and not final.is_dir():
        raise GclBenchError("exists and is not a folder", final)
    if final.is_dir() and any(final.iterdir()) and not overwrite:
        raise GclBenchError("folder is not empty (use --force to replace it)", final)

    staging = _staging_dir(final)
    try:
        _generate(staging, products, queries, seed, image_size)
        staging.chmod(0o755)
        if final.is_dir() and any(final.iterdir()):
            trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old",
                                          dir=final.parent))
            os.replace(final, trash / "old")
            os.replace(staging, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, final)  # replaces an empty folder too
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def default_sample_dir() -> Path:
    """The bundled default sample, built on first use under ``cache_dir()/sample/<version>``.

    Built in a temporary folder and renamed into place, so a half-built sample is never seen;
    when two processes race, the first rename wins and the other's copy is discarded.
    """
    final = cache_dir() / "sample" / SAMPLE_VERSION
    if (final / INFO_FILE).is_file():
        return final
    staging = _staging_dir(final)
    try:
        _generate(staging, DEFAULT_PRODUCTS, DEFAULT_QUERIES, DEFAULT_SEED, DEFAULT_IMAGE_SIZE)
        staging.chmod(0o755)
        try:
            os.rename(staging, final)
        except OSError:
            if not (final / INFO_FILE).is_file():  # not another process's finished copy
                raise GclBenchError("the cached sample folder is incomplete; remove it and "
                                    "run again", final) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)
    return final
