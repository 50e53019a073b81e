"""BM25 tokenisation of a corpus, in parallel chunks when it is large.

:func:`tokenize_corpus` gives what ``bm25s.tokenize`` gives (token ids per document and the
token -> id vocabulary): for up to :data:`PARALLEL_MIN_TEXTS` texts, or on one core, it is
``bm25s.tokenize`` itself; above that, forked worker processes tokenise contiguous chunks of
the texts with ``bm25s.tokenize`` and the chunk vocabularies are merged in chunk order (a term's
id is its order of first appearance). The ids of a term may differ from the serial path's (bm25s
numbers stemmed terms in set order, which changes with Python's string hashing), but every
document gets the same terms with the same counts, so the index scores every query the same.

The workers are forked, so they read the texts from the parent's memory (nothing is pickled on
the way in); the parent merges each chunk as it arrives, while the others are still tokenised.
The merged lists refer to the vocabulary's own int objects, as bm25s' do, so they take no more
memory than the serial path's. Where ``fork`` is not available the serial path runs.

May import: bm25s, PyStemmer (inside functions), numpy, :mod:`gcl_bench.errors`, the standard library.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError

PARALLEL_MIN_TEXTS = 1_000_000
"""Corpora of more texts than this are tokenised in parallel chunks (below it, on 2 busy cores,
the merge costs more than the second process saves: see benchmarks/bench_bm25_index.py)."""
CHUNKS_PER_WORKER = 4
_FORKED_TEXTS: Sequence[str] = ()
"""The texts the forked workers read (set in the parent just before the pool forks)."""


def make_stemmer(language: str | None) -> Any:
    """A PyStemmer stemmer for ``language``, or None without stemming."""
    if language is None:
        return None
    try:
        import Stemmer
    except ImportError:  # pragma: no cover - PyStemmer is a dependency
        raise GclBenchError("BM25 stemming needs PyStemmer: pip install PyStemmer") from None
    return Stemmer.Stemmer(language)


def default_workers(count: int) -> int:
    """Processes to tokenise ``count`` texts with: 1 up to :data:`PARALLEL_MIN_TEXTS`, else the
    cores this process may use (at most 8)."""
    if count <= PARALLEL_MIN_TEXTS or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(8, cores))


def tokenize_corpus(
    texts: Sequence[str], stopwords: str | None, stemmer: str | None, workers: int | None = None,
) -> Any:
    """``bm25s.tokenize(texts, ...)``'s ``Tokenized(ids, vocab)``, with ``workers`` processes
    (default :func:`default_workers`); ``texts`` must not hold None."""
    import bm25s

    workers = default_workers(len(texts)) if workers is None else int(workers)
    if workers <= 1 or len(texts) < 2:
        return bm25s.tokenize(list(texts), stopwords=stopwords, stemmer=make_stemmer(stemmer), show_progress=False)
    global _FORKED_TEXTS
    chunks = min(len(texts), workers * CHUNKS_PER_WORKER)
    bounds = np.linspace(0, len(texts), chunks + 1).astype(np.int64).tolist()
    jobs = [(start, stop, stopwords, stemmer) for start, stop in zip(bounds[:-1], bounds[1:])]
    _FORKED_TEXTS = texts
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return merge_chunks(pool.imap(_tokenize_chunk, jobs, chunksize=1))
    finally:
        _FORKED_TEXTS = ()


def _tokenize_chunk(job: tuple[int, int, str | None, str | None]) -> tuple[list[list[int]], list[str]]:
    """In a worker: ``(token ids per text, the chunk's terms by id)`` of one chunk."""
    import bm25s

    start, stop, stopwords, stemmer = job
    tokens = bm25s.tokenize(list(_FORKED_TEXTS[start:stop]), stopwords=stopwords, stemmer=make_stemmer(stemmer),
                            show_progress=False)
    terms = [""] * len(tokens.vocab)
    for term, term_id in tokens.vocab.items():
        terms[term_id] = term
    return tokens.ids, terms


def merge_chunks(parts: Iterable[tuple[list[list[int]], list[str]]]) -> Any:
    """One ``Tokenized`` from the chunks' :func:`_tokenize_chunk` results, in chunk order."""
    from bm25s.tokenization import Tokenized

    vocab: dict[str, int] = {}
    ids: list[list[int]] = []
    for chunk_ids, terms in parts:
        to_global = [vocab.setdefault(term, len(vocab)) for term in terms].__getitem__
        ids.extend([list(map(to_global, doc)) for doc in chunk_ids])
    return Tokenized(ids=ids, vocab=vocab)
