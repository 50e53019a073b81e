"""The bundled sample benchmark: a small synthetic dataset in the Marqo-GS-10M folder layout.

Every command works offline on it (``load_split(None, ...)`` reads :func:`default_sample_dir`),
and ``gcl-bench sample -o DIR`` writes one of any size.

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

The package: :mod:`~gcl_bench.data.sample.vocabulary` (the attribute values and words),
:mod:`~gcl_bench.data.sample.render` (titles, pictures, query texts),
:mod:`~gcl_bench.data.sample.generate` (the steps that write the files) and
:mod:`~gcl_bench.data.sample.folder` (the output folder and the cached default).
"""
from __future__ import annotations

from gcl_bench.data.sample.folder import (
    DEFAULT_IMAGE_SIZE,
    DEFAULT_PRODUCTS,
    DEFAULT_QUERIES,
    DEFAULT_SEED,
    default_sample_dir,
    write_sample,
)
from gcl_bench.data.sample.generate import CSV_COLUMNS, INFO_FILE, SAMPLE_VERSION
from gcl_bench.data.sample.vocabulary import (
    ATTRIBUTES,
    CATEGORIES,
    COLOURS,
    MATERIALS,
    STYLES,
    SYNONYMS,
    WEIGHTS,
)

__all__ = [
    "ATTRIBUTES",
    "CATEGORIES",
    "COLOURS",
    "CSV_COLUMNS",
    "DEFAULT_IMAGE_SIZE",
    "DEFAULT_PRODUCTS",
    "DEFAULT_QUERIES",
    "DEFAULT_SEED",
    "INFO_FILE",
    "MATERIALS",
    "SAMPLE_VERSION",
    "STYLES",
    "SYNONYMS",
    "WEIGHTS",
    "default_sample_dir",
    "write_sample",
]
