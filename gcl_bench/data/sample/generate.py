"""Generating the sample's files, step by step, from one random stream.

:func:`generate` runs the steps in a fixed order, each drawing from the same stream, so a seed
gives the same bytes: products (ids, attributes, titles), the two corpora and the odd products
(empty title, no image), the pictures, the queries, each query's ranked list in each corpus,
the held-out judgement queries, then per split the CSV, the queries file and the gt files, and
last ``sample_info.json``.

May import: :mod:`~gcl_bench.data.sample.vocabulary`, :mod:`~gcl_bench.data.sample.render`,
:mod:`~gcl_bench.data.files`, :mod:`~gcl_bench.data.splits`, :mod:`gcl_bench.io`,
:mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import csv
import io as _stdio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gcl_bench import io
from gcl_bench.data.files import MarqoFiles, corpus_file
from gcl_bench.data.sample.render import draw_product, png_bytes, product_title, query_text
from gcl_bench.data.sample.vocabulary import (
    ATTRIBUTES,
    QUERY_SIZE_SHARE,
    WEIGHTS,
    query_pool,
    relatedness,
    vocab,
)
from gcl_bench.data.splits import CORPORA, SPLIT_CORPUS, SPLIT_QUERY_SET, SPLITS
from gcl_bench.errors import GclBenchError

#: Bump when the generated files change, so cached copies of an older sample are not reused.
SAMPLE_VERSION = "v3"
INFO_FILE = "sample_info.json"

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


@dataclass
class Products:
    """Product ``i``: ``ids[i]``, attribute value codes ``codes[name][i]`` (= ``attrs[i][name]``),
    ``prominence[i]`` in [-1, 1], ``titles[i]`` and ``image_paths[i]`` (relative to the folder)."""

    ids: list[str]
    codes: dict[str, np.ndarray]
    prominence: np.ndarray
    attrs: list[dict[str, str]]
    titles: list[str]
    image_paths: list[str]


@dataclass
class Queries:
    """Query ``q``: ``attrs[q]``, ``texts[q]``, ``ids[q]``; ``sets[a]`` lists the queries of
    query set ``a`` (0 seen, 1 novel)."""

    attrs: list[dict[str, str]]
    texts: list[str]
    ids: list[str]
    sets: list[list[int]]


def check_sizes(products: int, queries: int, image_size: int) -> None:
    """Refuse sizes the generator cannot honour (the messages name the CLI options)."""
    if products < 20:
        raise GclBenchError(f"--products must be at least 20 (got {products})")
    pool = len(query_pool())
    if not 10 <= queries <= pool:
        raise GclBenchError(f"--queries must be between 10 and {pool} (got {queries})")
    if not 8 <= image_size <= 512:
        raise GclBenchError(f"--image-size must be between 8 and 512 pixels (got {image_size})")


def generate(out: Path, products: int, queries: int, seed: int, image_size: int,
             progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Write every file of the sample into the existing empty folder ``out``; return the info.

    ``progress("images", done, total)`` follows the drawing of the product images (most of the
    time), then ``progress("files", done, total)`` the corpora, rankings and split files.
    """
    report = progress or _no_progress
    files_total = 2 + len(SPLITS)
    rng = np.random.default_rng([seed, 20240412])
    catalogue = make_products(rng, products)
    corpora = split_corpora(rng, products)
    empty_title, no_image = pick_odd_products(rng, catalogue, corpora)
    write_images(out, rng, catalogue, no_image, image_size, progress)
    report("files", 0, files_total)
    write_corpora(out, catalogue, corpora)
    report("files", 1, files_total)
    asked = make_queries(rng, queries)
    lists = rank_lists(rng, catalogue, corpora, asked)
    held_out = hold_out(rng, asked.sets)
    report("files", 2, files_total)
    info_splits = {}
    for done, split in enumerate(SPLITS, start=3):
        files = MarqoFiles(out, split)
        info_splits[files.stem] = write_split(files, catalogue, asked, lists, held_out)
        report("files", done, files_total)
    info = {
        "generator": "gcl_bench.data.sample",
        "sample_version": SAMPLE_VERSION,
        "seed": seed,
        "products": products,
        "queries": queries,
        "image_size": image_size,
        **{corpus: len(members) for corpus, members in zip(CORPORA, corpora)},
        "query_set_0": len(asked.sets[0]),
        "query_set_1": len(asked.sets[1]),
        "empty_titles": sorted(catalogue.ids[i] for i in empty_title),
        "missing_images": sorted(catalogue.ids[i] for i in no_image),
        "splits": info_splits,
        "attributes": {name: vocab(name) for name in ATTRIBUTES},
        "match_weights": WEIGHTS,
    }
    io.write_json(out / INFO_FILE, info)
    return info


# ------------------------------------------------------------------------------------ products


def _product_ids(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct eight-digit strings; about one in eight starts with zeros."""
    with_zeros = max(1, count // 8)
    small = rng.choice(10**6, size=with_zeros, replace=False)
    large = 10**7 + rng.choice(9 * 10**7, size=count - with_zeros, replace=False)
    ids = [f"{int(n):08d}" for n in np.concatenate([small, large])]
    order = rng.permutation(count)
    return [ids[i] for i in order]


def make_products(rng: np.random.Generator, count: int) -> Products:
    """Ids, attributes (uniform), prominence and titles of ``count`` products."""
    ids = _product_ids(rng, count)
    codes = {name: rng.integers(len(vocab(name)), size=count) for name in ATTRIBUTES}
    prominence = rng.uniform(-1.0, 1.0, size=count)
    attrs = [{name: vocab(name)[int(codes[name][i])] for name in ATTRIBUTES} for i in range(count)]
    titles = [product_title(rng, a, float(p)) for a, p in zip(attrs, prominence)]
    image_paths = [f"images/{pid}.png" for pid in ids]
    return Products(ids, codes, prominence, attrs, titles, image_paths)


def split_corpora(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """The products of corpus_1 and corpus_2: a random half each, in index order."""
    order = rng.permutation(count)
    half = count // 2
    return [np.sort(order[:half]), np.sort(order[half:])]


def pick_odd_products(rng: np.random.Generator, catalogue: Products,
                      corpora: list[np.ndarray]) -> tuple[set[int], set[int]]:
    """Per corpus, a few products whose title is emptied and a few others without a picture."""
    odd_count = max(1, (len(catalogue.ids) * ODD_PER_MILLE) // 2000)
    empty_title: set[int] = set()
    no_image: set[int] = set()
    for members in corpora:
        picked = rng.choice(members, size=min(len(members), 2 * odd_count), replace=False)
        empty_title.update(int(i) for i in picked[:odd_count])
        no_image.update(int(i) for i in picked[odd_count:])
    for i in empty_title:
        catalogue.titles[i] = ""
    return empty_title, no_image


def _no_progress(step: str, done: int, total: int) -> None:
    """The progress callback of a caller that wants none."""


def write_images(out: Path, rng: np.random.Generator, catalogue: Products, no_image: set[int],
                 image_size: int, progress: Callable[[str, int, int], None] | None = None) -> None:
    """One PNG per product under ``images/``, but for those in ``no_image``; ``progress`` every 25."""
    (out / "images").mkdir()
    total = len(catalogue.ids)
    for done, i in enumerate(np.argsort(catalogue.ids, kind="stable"), start=1):
        # drawn even when not written, so the random stream does not depend on which are missing
        pixels = draw_product(rng, catalogue.attrs[i], float(catalogue.prominence[i]), image_size)
        if progress is not None and (done % 25 == 0 or done == total):
            progress("images", done, total)
        if int(i) in no_image:
            continue
        with io.atomic_path(out / catalogue.image_paths[i]) as tmp:
            tmp.write_bytes(png_bytes(pixels))


def write_corpora(out: Path, catalogue: Products, corpora: list[np.ndarray]) -> None:
    """``corpus_1.json`` and ``corpus_2.json``: ``{product_id: {title, image_local, attributes}}``."""
    ids = catalogue.ids
    for corpus, members in zip(CORPORA, corpora):
        entries = {}
        for i in sorted(members.tolist(), key=lambda k: ids[k]):
            entries[ids[i]] = {"title": catalogue.titles[i], "image_local": catalogue.image_paths[i],
                               **catalogue.attrs[i]}
        io.write_bytes(corpus_file(out, corpus), io.dumps_json(entries, indent=False))


# ------------------------------------------------------------------------------------- queries


def make_queries(rng: np.random.Generator, count: int) -> Queries:
    """``count`` distinct attribute sets (by :data:`QUERY_SIZE_SHARE`), their texts and ids;
    the first :data:`SEEN_FRACTION` are query set 0."""
    pool = query_pool()
    sizes = np.array([len(a) for a in pool])
    weights = np.array([QUERY_SIZE_SHARE[k] / np.count_nonzero(sizes == k) for k in sizes])
    chosen = rng.choice(len(pool), size=count, replace=False, p=weights / weights.sum())
    attrs = [pool[int(i)] for i in chosen]
    texts = [query_text(rng, a) for a in attrs]
    ids = [str(10**5 + int(n)) for n in rng.choice(9 * 10**5, size=count, replace=False)]
    seen = int(round(count * SEEN_FRACTION))
    return Queries(attrs, texts, ids, [list(range(seen)), list(range(seen, count))])


def rank_lists(rng: np.random.Generator, catalogue: Products, corpora: list[np.ndarray],
               asked: Queries) -> dict[tuple[int, int], np.ndarray]:
    """``lists[q, b]``: the products of corpus ``b`` listed for query ``q``, best first.

    One query at a time (memory stays O(products)): match, plus prominence and noise, ranks
    the candidates (match >= :data:`MIN_MATCH`); ties by product id; at most
    :data:`MAX_POSITIONS`.
    """
    count = len(catalogue.ids)
    related = {name: relatedness(name) for name in ATTRIBUTES}
    doc_ids = [np.array([catalogue.ids[i] for i in docs]) for docs in corpora]
    lists: dict[tuple[int, int], np.ndarray] = {}
    for q, a in enumerate(asked.attrs):
        match = np.zeros(count)
        total = 0.0
        for name in ATTRIBUTES:
            if name in a:
                match += WEIGHTS[name] * related[name][vocab(name).index(a[name]), catalogue.codes[name]]
                total += WEIGHTS[name]
        match /= total
        noisy = match + PROMINENCE_WEIGHT * catalogue.prominence + rng.uniform(-NOISE, NOISE, size=count)
        for b, docs in enumerate(corpora):
            candidates = np.flatnonzero(match[docs] >= MIN_MATCH)
            # best noisy score first, ties by product id
            candidates = candidates[np.lexsort((doc_ids[b][candidates], -noisy[docs[candidates]]))]
            lists[q, b] = docs[candidates[:MAX_POSITIONS]]
    return lists


def hold_out(rng: np.random.Generator, query_sets: list[list[int]]) -> list[tuple[set[int], set[int]]]:
    """Per query set, disjoint ``(test, dev)`` judgement queries (the same for both corpora)."""
    held_out: list[tuple[set[int], set[int]]] = []
    for members in query_sets:
        shuffled = [members[i] for i in rng.permutation(len(members))]
        n_test = max(1, int(round(len(members) * TEST_FRACTION)))
        n_dev = max(1, int(round(len(members) * DEV_FRACTION)))
        held_out.append((set(shuffled[:n_test]), set(shuffled[n_test:n_test + n_dev])))
    return held_out


# -------------------------------------------------------------------------------------- splits


def _csv_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = _stdio.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _positions(queries: list[int], corpus: int, catalogue: Products, asked: Queries,
               lists: dict[tuple[int, int], np.ndarray]) -> tuple[list[list[Any]], dict[int, list[tuple[str, int]]]]:
    """The CSV rows of ``queries`` ranked in corpus ``corpus``, and each query's
    ``(product id, score_linear)`` list; scores follow from the position as in the release."""
    ids, titles, image_paths = catalogue.ids, catalogue.titles, catalogue.image_paths
    rows: list[list[Any]] = []
    ranked: dict[int, list[tuple[str, int]]] = {}
    for q in queries:
        ranked[q] = []
        for position, i in enumerate(lists[q, corpus].tolist(), start=1):
            score_linear = MAX_POSITIONS + 1 - position
            rows.append([
                asked.texts[q], ids[i], position, titles[i], f"{asked.ids[q]}-{ids[i]}",
                score_linear, repr(1.0 / position), 1, asked.ids[q], image_paths[i],
            ])
            ranked[q].append((ids[i], score_linear))
    return rows, ranked


def _grades(listed: list[int], ranked: dict[int, list[tuple[str, int]]], members: set[int],
            texts: list[str]) -> dict[str, dict[str, int]]:
    """The judgements of the ``members`` among ``listed``, keyed by query text.

    Grades from score_linear over the whole file, int(1 + 99 * (s - min) / (max - min)):
    1..100, strictly decreasing with the position (the reference script's order of float
    operations, ((s - min) / (max - min)) * 99 + 1, gives three grades one less).
    """
    linear = [s for q in listed for _, s in ranked[q]]
    low, high = min(linear), max(linear)
    gt: dict[str, dict[str, int]] = {}
    for q in sorted((q for q in listed if q in members), key=lambda k: texts[k]):
        gt[texts[q]] = {
            pid: int(1 + 99 * (s - low) / (high - low)) if high > low else 1
            for pid, s in ranked[q]
        }
    return gt


def write_split(files: MarqoFiles, catalogue: Products, asked: Queries,
                lists: dict[tuple[int, int], np.ndarray],
                held_out: list[tuple[set[int], set[int]]]) -> dict[str, int]:
    """The CSV, queries file and gt files of one split; returns its counts for the info file."""
    query_set, corpus = SPLIT_QUERY_SET[files.split], CORPORA.index(SPLIT_CORPUS[files.split])
    ordered = sorted(asked.sets[query_set], key=lambda k: int(asked.ids[k]))
    rows, ranked = _positions(ordered, corpus, catalogue, asked, lists)
    io.write_bytes(files.csv, _csv_bytes(rows))

    listed = [q for q in ordered if ranked[q]]
    io.write_bytes(files.queries, io.dumps_json({asked.ids[q]: asked.texts[q] for q in listed}, indent=False))

    test, dev = held_out[query_set]
    counts = {"queries": len(listed), "rows": len(rows)}
    for eval_set, members in (("dev", dev), ("test", test)):
        gt = _grades(listed, ranked, members, asked.texts)
        io.write_bytes(files.gt(eval_set), io.dumps_json(gt, indent=False))
        counts[f"gt_{eval_set}"] = len(gt)
    return counts
