"""A complete custom encoder for gcl_bench: BEIR's dense-model protocol, no weights to download.

Any class with ``encode_queries`` and ``encode_corpus`` plugs in; this one embeds text as a
hashed bag of words and character trigrams (a classic, surprisingly strong lexical baseline in
dense form), so it runs anywhere on the CPU. Run it on the bundled sample:

    gcl-bench run --model examples/custom_encoder.py:HashingEncoder --split zero_shot
    gcl-bench run --model examples/custom_encoder.py:HashingEncoder --model-arg dim=1024 \
        --model-arg trigrams=false --split all

or ``python examples/custom_encoder.py`` (the same as the first command).

What gcl_bench uses, and what is optional:

- ``encode_queries(queries, batch_size, **kwargs)``: ``queries`` is a list of query texts, as
  BEIR passes them, or of dicts with ``text`` (and ``id``); accepting both costs one line.
  Return a float32 array (n_queries, dim).
- ``encode_corpus(corpus, batch_size, **kwargs)``: dicts with ``title``, ``image`` (a file path,
  or None when the product has no usable image) and ``id``; return (n_docs, dim).
- ``similarity`` ("cos" or "dot"), ``name``: optional; results.json records them.
- ``fingerprint()``: optional; a string that changes whenever the model's output would change.
  With it, gcl_bench caches the embeddings, so a second run encodes nothing.
- ``describe()``: optional; a dict merged into results.json's ``model`` section.
- Constructor arguments arrive from ``--model-arg key=value`` with ints, floats and booleans
  already parsed.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


class HashingEncoder:
    """Hashed bag-of-words (+ character trigrams) embeddings, L2-normalised."""

    similarity = "cos"

    def __init__(self, dim: int = 512, trigrams: bool = True, seed: int = 0) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.dim = int(dim)
        self.trigrams = bool(trigrams)
        self.seed = int(seed)
        self.name = f"hashing-{self.dim}{'-tri' if self.trigrams else ''}"

    # -- BEIR protocol ------------------------------------------------------------------------
    def encode_queries(self, queries: list[dict[str, Any]], batch_size: int = 256, **kwargs: Any) -> np.ndarray:
        return self._encode([q if isinstance(q, str) else q.get("text") or "" for q in queries])

    def encode_corpus(self, corpus: list[dict[str, Any]], batch_size: int = 256, **kwargs: Any) -> np.ndarray:
        # Text only: the title. A multi-modal encoder would also read doc["image"] (path or None).
        return self._encode([doc.get("title") or "" for doc in corpus])

    # -- optional extras ----------------------------------------------------------------------
    def fingerprint(self) -> str:
        return f"hashing-v1-dim{self.dim}-tri{int(self.trigrams)}-seed{self.seed}"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "family": "plugin", "checkpoint": None, "checkpoint_sha256": None,
                "dim": self.dim, "trigrams": self.trigrams}

    # -- the embedding itself -----------------------------------------------------------------
    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        features = [f"w:{w}" for w in words]
        features += [f"b:{a}_{b}" for a, b in zip(words, words[1:])]
        if self.trigrams:
            for word in words:
                padded = f"#{word}#"
                features += [f"c:{padded[i:i + 3]}" for i in range(len(padded) - 2)]
        return features

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(f"{self.seed}:{feature}".encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, (1.0 if (value >> 63) & 1 else -1.0)

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                column, sign = self._bucket(feature)
                out[row, column] += sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        out[empty, 0] = 1.0  # an empty text still gets a valid unit vector (it matches nothing)
        norms[empty] = 1.0
        return out / norms


if __name__ == "__main__":
    from gcl_bench.cli import main

    main(["run", "--model", f"{__file__}:HashingEncoder", "--split", "zero_shot"])
