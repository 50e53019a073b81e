"""Search indexes over document embeddings and the on-disk embedding cache.

- :func:`build_index` / :func:`search` / :func:`index_recall`: exact (``flat``) and FAISS
  approximate (``ivf``, ``hnsw``, ``ivfpq``) inner-product search returning
  ``(scores float32 (Q,K), indices int64 (Q,K))`` with -1 padding;
- :class:`EmbeddingCache`: per-side, per-field ``.npy`` shards plus a manifest, content-addressed
  (see :mod:`gcl_bench.index.cache`).
"""
from __future__ import annotations

from gcl_bench.index.cache import EmbeddingCache
from gcl_bench.index.engine import KINDS, Index, build_index, index_recall, search

__all__ = ["KINDS", "EmbeddingCache", "Index", "build_index", "index_recall", "search"]
