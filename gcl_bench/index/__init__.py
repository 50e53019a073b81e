"""Search indexes over document embeddings.

:func:`build_index` / :func:`search` / :func:`index_recall`: exact (``flat``) and FAISS
approximate (``ivf``, ``hnsw``, ``ivfpq``) inner-product search returning
``(scores float32 (Q,K), indices int64 (Q,K))`` with -1 padding. The embedding cache belongs to
the encode stage (:mod:`gcl_bench.encode.cache`).
"""
from __future__ import annotations

from gcl_bench.index.engine import KINDS, Index, build_index, index_recall, search

__all__ = ["KINDS", "Index", "build_index", "index_recall", "search"]
