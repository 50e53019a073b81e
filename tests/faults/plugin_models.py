"""Plug-ins the fault suite loads with ``--model tests/faults/plugin_models.py:NAME``.

:class:`HashEncoder` is a small, fast, deterministic dense encoder with a ``fingerprint()`` (so
its embeddings are cached); the ``Failing*`` classes raise where their names say.
"""
from __future__ import annotations

import zlib

import numpy as np


def _hash_rows(texts: list[str], dim: int) -> np.ndarray:
    rows = np.zeros((len(texts), dim), dtype=np.float32)
    rows[:, 0] = 1.0  # never a zero row
    for i, text in enumerate(texts):
        for token in str(text or "").lower().split():
            rows[i, 1 + zlib.crc32(token.encode()) % (dim - 1)] += 1.0
    return rows


class HashEncoder:
    """Bag of hashed tokens over titles and query texts."""

    def __init__(self, dim: int = 64) -> None:
        if dim < 2:
            raise ValueError(f"dim must be at least 2, got {dim}")
        self.dim = dim

    def fingerprint(self) -> str:
        return f"hash-encoder-{self.dim}"

    def encode_queries(self, queries: list[dict], batch_size: int, **kwargs: object) -> np.ndarray:
        return _hash_rows([q["text"] for q in queries], self.dim)

    def encode_corpus(self, corpus: list[dict], batch_size: int, **kwargs: object) -> np.ndarray:
        return _hash_rows([d.get("title") or "" for d in corpus], self.dim)


class FailingInit(HashEncoder):
    def __init__(self, dim: int = 64) -> None:
        raise RuntimeError("no licence file")


class FailingEncode(HashEncoder):
    def encode_corpus(self, corpus: list[dict], batch_size: int, **kwargs: object) -> np.ndarray:
        raise RuntimeError("boom")


class FailingQueries(HashEncoder):
    def encode_queries(self, queries: list[dict], batch_size: int, **kwargs: object) -> np.ndarray:
        return self._tokenise(queries)

    def _tokenise(self, queries: list[dict]) -> np.ndarray:
        return np.asarray([len(q["missing_key"]) for q in queries])


class FailingFingerprint(HashEncoder):
    def fingerprint(self) -> str:
        raise OSError("weights file vanished")


class FailingSearch:
    """A lexical retriever whose search raises."""

    def search(self, corpus: dict, queries: dict, top_k: int, **kwargs: object) -> dict:
        raise ValueError("index not built")
