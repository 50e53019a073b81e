"""The BM25 index (Lucene variant) of tokenised documents, built with array operations.

bm25s builds its score matrix with a Python loop over documents (a ``Counter`` and small
arrays per document: about 50 s and 1 GB of temporary objects for two million titles); this
module computes the same matrix from flat arrays: one sort of (term, document) keys gives the
term frequencies in the column order of the CSC matrix bm25s stores. Every float operation is
the one bm25s performs, in its order and dtypes (idf with :func:`math.log` in float64, stored
as float32; the term-frequency part in float64; their product rounded to float32), so the
arrays are identical to bm25s' own (tested against it). Other BM25 variants go through bm25s.

May import: numpy.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np


def lucene_scores(doc_token_ids: list[Sequence[int]], n_vocab: int, k1: float, b: float) -> dict[str, Any]:
    """bm25s' ``scores`` dict (``data``, ``indices``, ``indptr``, ``num_docs``) of the Lucene BM25
    matrix of ``doc_token_ids`` (term ids below ``n_vocab``). The lists are emptied as they are
    read (``doc_token_ids.clear()``), so their memory is free before the matrix is built."""
    n_docs = len(doc_token_ids)
    lengths = np.fromiter(map(len, doc_token_ids), dtype=np.int64, count=n_docs)
    total = int(lengths.sum())
    terms = np.fromiter(chain.from_iterable(doc_token_ids), dtype=np.int64, count=total)
    doc_token_ids.clear()
    avg_doc_len = lengths.mean()  # as bm25s: the mean of an int64 array, float64
    keys = terms << 32
    del terms
    keys |= np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    keys.sort()  # term, then document: the CSC order
    first = np.empty(keys.size, dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    del first
    tf = np.diff(np.append(starts, keys.size)).astype(np.float32)
    pairs = keys[starts]
    del keys, starts
    rows = (pairs & 0xFFFFFFFF).astype(np.int32)
    cols = (pairs >> 32).astype(np.int64)
    del pairs
    doc_freq = np.bincount(cols, minlength=n_vocab)
    idf = np.zeros(n_vocab, dtype=np.float32)
    for term, df in zip(np.flatnonzero(doc_freq).tolist(), doc_freq[doc_freq > 0].tolist(), strict=True):
        idf[term] = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    tfc = tf / (k1 * ((1 - b) + b * lengths[rows] / avg_doc_len) + tf)
    data = (idf[cols] * tfc).astype(np.float32)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(doc_freq, out=indptr[1:])
    return {"data": data, "indices": rows, "indptr": indptr, "num_docs": n_docs}
