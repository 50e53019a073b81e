"""The array-built Lucene BM25 matrix equals bm25s' own index, array for array, and retrieves
the same lists."""
from __future__ import annotations

import bm25s
import numpy as np
import pytest
from bm25s.tokenization import Tokenized

from gcl_bench.models.bm25 import BM25Retriever
from gcl_bench.models.bm25_build import lucene_scores


@pytest.mark.parametrize(("seed", "k1", "b"), [(0, 1.5, 0.75), (1, 0.9, 0.4), (2, 2.0, 1.0), (3, 1.2, 0.0)])
def test_matrix_equals_bm25s(seed: int, k1: float, b: float) -> None:
    rng = np.random.default_rng(seed)
    vocab_size = 300  # some terms occur in no document
    docs = [rng.integers(0, vocab_size, rng.integers(0, 15)).tolist() for _ in range(2000)]  # empty ones too
    reference = bm25s.BM25(k1=k1, b=b, method="lucene")
    reference.index(Tokenized(ids=[list(d) for d in docs], vocab={f"t{i}": i for i in range(vocab_size)}),
                    show_progress=False)
    ids = [list(d) for d in docs]
    built = lucene_scores(ids, vocab_size, k1, b)
    assert ids == []  # the token lists are freed as they are read
    assert built["num_docs"] == reference.scores["num_docs"]
    for name in ("data", "indices", "indptr"):
        assert built[name].dtype == reference.scores[name].dtype, name
        assert np.array_equal(built[name], reference.scores[name]), name


def test_retriever_lists_equal_bm25s_index() -> None:
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(120)]
    titles = [" ".join(rng.choice(words, rng.integers(1, 9))) for _ in range(1500)] + ["", "the of and"]
    queries = [" ".join(rng.choice(words, 3)) for _ in range(60)]
    ours = BM25Retriever()
    scores, indices = ours.retrieve(ours.index(titles), queries, 50)
    tokens = ours._tokenize(titles)
    reference = bm25s.BM25(k1=ours.k1, b=ours.b, method="lucene", backend="numba")
    reference.index(tokens, show_progress=False)
    reference.gcl_vocab, reference.gcl_num_docs = tokens.vocab, len(titles)
    ref_scores, ref_indices = ours.retrieve(reference, queries, 50)
    assert np.array_equal(indices, ref_indices)
    assert np.array_equal(scores, ref_scores)
