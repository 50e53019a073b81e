"""BM25: scores match Lucene's formula computed by hand; lists keep only matching documents."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from gcl_bench.errors import GclBenchError
from gcl_bench.models.bm25 import BM25Retriever

DOCS = [
    "red cotton dress",
    "blue denim jacket",
    "red wool scarf red",
    "green summer dress with pockets",
    "",
    "red dress",
    "black leather boots",
]


def lucene_bm25(docs: list[str], query: str, k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """Lucene (>= 8) BM25 written out: idf = ln(1 + (N - df + 0.5) / (df + 0.5)) and
    tf / (tf + k1 * (1 - b + b * dl / avgdl)) (Lucene dropped the constant (k1 + 1) factor)."""
    tokenised = [re.findall(r"\b\w\w+\b", doc.lower()) for doc in docs]
    n = len(docs)
    avgdl = sum(len(tokens) for tokens in tokenised) / n
    scores = np.zeros(n)
    for term in re.findall(r"\b\w\w+\b", query.lower()):  # a repeated term counts twice, as in Lucene
        df = sum(term in tokens for tokens in tokenised)
        if df == 0:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, tokens in enumerate(tokenised):
            tf = tokens.count(term)
            if tf:
                scores[i] += idf * tf / (tf + k1 * (1 - b + b * len(tokens) / avgdl))
    return scores


@pytest.mark.parametrize("query", ["red dress", "summer pockets", "denim", "red red scarf"])
def test_scores_match_lucene_formula(query: str) -> None:
    retriever = BM25Retriever(stopwords=None, stemmer=None)
    scores, indices = retriever.search_arrays(DOCS, [query], top_k=len(DOCS))
    expected = lucene_bm25(DOCS, query)
    matched = indices[0] >= 0
    assert set(indices[0][matched].tolist()) == set(np.flatnonzero(expected > 0).tolist())
    np.testing.assert_allclose(scores[0][matched], expected[indices[0][matched]], rtol=1e-5)
    assert np.all(np.diff(scores[0][matched]) <= 1e-7), "best first"


def test_unmatched_documents_are_not_retrieved() -> None:
    retriever = BM25Retriever()
    scores, indices = retriever.search_arrays(DOCS, ["xylophone", "boots"], top_k=5)
    assert indices.shape == (2, 5)
    assert (indices[0] == -1).all() and (scores[0] == 0).all()
    assert indices[1][0] == 6 and (indices[1][1:] == -1).all()


def test_stemming_matches_plural_forms() -> None:
    retriever = BM25Retriever()
    _, indices = retriever.search_arrays(DOCS, ["dresses"], top_k=7)
    assert {0, 3, 5} == set(indices[0][indices[0] >= 0].tolist())


def test_beir_search_form_returns_doc_ids() -> None:
    corpus = {f"0{i}": {"title": text} for i, text in enumerate(DOCS)}
    run = BM25Retriever().search(corpus, {"q": "black boots"}, top_k=3)
    assert list(run) == ["q"]
    assert list(run["q"]) == ["06"]


def test_top_k_larger_than_corpus_and_empty_corpus() -> None:
    scores, indices = BM25Retriever().search_arrays(DOCS[:2], ["red dress"], top_k=1000)
    assert indices.shape == (1, 2)
    with pytest.raises(GclBenchError, match="non-empty corpus"):
        BM25Retriever().search_arrays([], ["red"], top_k=10)
