"""BM25 over product titles, with bm25s.

Scoring is Lucene's BM25 (k1=1.5, b=0.75 by default) over titles tokenised the scikit-learn way,
English stop words removed and Snowball-stemmed (PyStemmer). Top-k selection runs in bm25s'
numba backend; its compiled code is cached on disk (``NUMBA_CACHE_DIR``, default under the
gcl_bench cache dir), so only the first run on a machine pays the compilation.

A document that shares no term with the query scores 0 and is *not* retrieved: lists are
shorter than ``top_k`` when fewer documents match, as with any inverted-index engine. An
unretrieved document counts as not retrieved by every metric.

Large corpora are tokenised in parallel chunks (:mod:`gcl_bench.models.bm25_tokens`). With
``cache=True`` (what ``gcl-bench run`` passes unless ``--no-cache``) the index is built once per
corpus and settings, kept on disk and in memory (:mod:`gcl_bench.models.bm25_index`);
:attr:`BM25Retriever.retrieval_info` then says how the last search got its index.

:class:`BM25Retriever` is a lexical retriever in the sense of :mod:`gcl_bench.models.protocols`.
This module may import bm25s, numba and PyStemmer (inside functions), :mod:`gcl_bench.kernels`,
:mod:`gcl_bench.io` and :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gcl_bench.errors import GclBenchError

_NUMBA_PATCHED = False
QUERY_BATCH = 1024
"""Queries per bm25s retrieval call (one progress update each)."""
ProgressCallback = Callable[[str, int, int], None]
"""``progress(step, done, total)``: ``step`` is ``"index"`` or ``"search"``."""


def _use_cached_numba_kernels(n_threads: int) -> None:
    """Re-jit bm25s' retrieval kernel with ``cache=True`` so the compilation is kept on disk
    (:mod:`gcl_bench.kernels`); note the compilation of the one ``n_threads`` will call."""
    global _NUMBA_PATCHED
    from gcl_bench.kernels import note_if_compiling, use_numba_cache_dir

    use_numba_cache_dir()  # before bm25s' numba module is imported
    import bm25s.numba.retrieve_utils as retrieve_utils

    if not _NUMBA_PATCHED:
        from numba import njit

        kernel = retrieve_utils._retrieve_internal_jitted
        retrieve_utils._retrieve_internal_jitted_parallel = njit(parallel=True, cache=True)(kernel)
        retrieve_utils._retrieve_internal_jitted_serial = njit(nogil=True, cache=True)(kernel)
        _NUMBA_PATCHED = True
    serial = n_threads in (0, 1)  # bm25s runs the serial kernel for 0 and 1 threads
    note_if_compiling(retrieve_utils._retrieve_internal_jitted_serial if serial
                      else retrieve_utils._retrieve_internal_jitted_parallel)


class BM25Retriever:
    """Lexical BM25 retriever over document titles (a ``search``-style model, no weights).

    Usage::

        retriever = BM25Retriever()
        scores, indices = retriever.search_arrays(split.doc_titles, split.query_texts, top_k=1000)
        run = retriever.search(corpus, queries, top_k=1000)   # BEIR dict form
    """

    family = "bm25"

    def __init__(
        self,
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
        stopwords: str | None = "en",
        stemmer: str | None = "english",
        backend: str = "numba",
        n_threads: int = 0,
        name: str = "bm25",
    ) -> None:
        self.k1 = float(k1)
        self.b = float(b)
        self.method = method
        self.stopwords = stopwords or None
        self.stemmer_language = stemmer or None
        self.backend = backend
        self.n_threads = int(n_threads)
        self.name = name
        self.tokenize_workers: int | None = None
        """Processes that tokenise the corpus; None: :func:`~gcl_bench.models.bm25_tokens.default_workers`."""
        self.retrieval_info: dict[str, Any] = {}
        """``{"bm25_index": IndexUse.to_dict()}`` of the last :meth:`search_arrays` with ``cache=True``."""

    # -- identity -------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The ``model`` section of results.json."""
        return {
            "name": self.name,
            "family": self.family,
            "checkpoint": None,
            "checkpoint_sha256": None,
            "query_fields": {"text": 1.0},
            "doc_fields": {"title": 1.0},
            "params": {
                "k1": self.k1,
                "b": self.b,
                "method": self.method,
                "stopwords": self.stopwords,
                "stemmer": self.stemmer_language,
                "backend": self.backend,
            },
        }

    def fingerprint(self) -> str:
        params = self.describe()["params"]
        return "bm25:" + ",".join(f"{key}={params[key]}" for key in sorted(params))

    # -- retrieval ------------------------------------------------------------------------
    def _stemmer(self) -> Any:
        from gcl_bench.models.bm25_tokens import make_stemmer

        return make_stemmer(self.stemmer_language)

    def index(self, doc_texts: Sequence[str], show_progress: bool = False) -> Any:
        """Tokenise and index ``doc_texts``; the returned object is passed to :meth:`retrieve`."""
        return self._build(self._tokenize(doc_texts), show_progress=show_progress)

    def _tokenize(self, doc_texts: Sequence[str]) -> Any:
        """bm25s' ``Tokenized`` of ``doc_texts`` (None as empty), in chunks when the corpus is large."""
        from gcl_bench.models.bm25_tokens import tokenize_corpus

        if len(doc_texts) == 0:
            raise GclBenchError("BM25 needs a non-empty corpus")
        return tokenize_corpus([text or "" for text in doc_texts], self.stopwords, self.stemmer_language,
                               workers=self.tokenize_workers)

    def _build(self, doc_tokens: Any, show_progress: bool = False) -> Any:
        """The index of tokenised documents (the texts need not be alive any more)."""
        import bm25s

        retriever = bm25s.BM25(
            k1=self.k1, b=self.b, method=self.method,
            backend="numba" if self.backend == "numba" else "numpy",
        )
        num_docs = len(doc_tokens.ids)
        if self.method == "lucene":  # the same matrix as bm25s' index(), from arrays
            from gcl_bench.models.bm25_build import lucene_scores

            vocab = doc_tokens.vocab
            retriever.nonoccurrence_array = None
            retriever.scores = lucene_scores(doc_tokens.ids, len(vocab), self.k1, self.b)
            if "" not in vocab:  # what bm25s' index() adds (create_empty_token)
                vocab[""] = max(vocab.values()) + 1
            retriever.vocab_dict = vocab
            retriever.unique_token_ids_set = set(vocab.values())
        else:
            retriever.index(doc_tokens, show_progress=show_progress)
        retriever.gcl_vocab = doc_tokens.vocab
        retriever.gcl_num_docs = num_docs
        return retriever

    def retrieve(
        self, index: Any, query_texts: Sequence[str], top_k: int, show_progress: bool = False,
        progress: ProgressCallback | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``top_k`` documents of ``index`` per query: ``(scores, indices)`` as :meth:`search_arrays`.

        Queries are retrieved :data:`QUERY_BATCH` at a time; ``progress("search", done, total)``
        follows each batch.
        """
        import bm25s

        if top_k < 1:
            raise GclBenchError(f"top_k must be at least 1, got {top_k}")
        query_tokens = bm25s.tokenize(
            [text or "" for text in query_texts], stopwords=self.stopwords, stemmer=self._stemmer(),
            show_progress=show_progress,
        )
        # Map query tokens into the corpus vocabulary; unknown tokens cannot match anything.
        vocab = index.gcl_vocab
        inverse = {token_id: token for token, token_id in query_tokens.vocab.items()}
        query_ids = [
            [vocab[inverse[token_id]] for token_id in ids if inverse[token_id] in vocab]
            for ids in query_tokens.ids
        ]
        k = min(int(top_k), index.gcl_num_docs)
        num_queries = len(query_ids)
        scores = np.zeros((num_queries, k), dtype=np.float32)
        indices = np.full((num_queries, k), -1, dtype=np.int64)
        nonempty = [row for row, ids in enumerate(query_ids) if ids]
        if self.backend == "numba" and nonempty:
            _use_cached_numba_kernels(self.n_threads)
        for start in range(0, max(len(nonempty), 1), QUERY_BATCH):  # queries are independent
            batch = nonempty[start:start + QUERY_BATCH]
            if batch:
                found_indices, found_scores = index.retrieve(
                    [query_ids[row] for row in batch], k=k, backend_selection=self.backend,
                    n_threads=self.n_threads, show_progress=show_progress, return_as="tuple",
                )
                rows = np.asarray(batch)
                scores[rows] = found_scores
                indices[rows] = found_indices
            if progress is not None:
                progress("search", min(start + QUERY_BATCH, len(nonempty)) + num_queries - len(nonempty), num_queries)
        unmatched = scores <= 0
        indices[unmatched] = -1
        scores[unmatched] = 0.0
        return scores, indices

    def search_arrays(
        self, doc_texts: Sequence[str], query_texts: Sequence[str], top_k: int, show_progress: bool = False,
        progress: ProgressCallback | None = None, cache: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score every query against every document text; return ``(scores, indices)``.

        ``scores`` is float32 (Q, K), ``indices`` int64 (Q, K) row indices into ``doc_texts``,
        best first, with -1 (score 0) where fewer than K documents share a term with the query.
        ``progress(step, done, total)`` reports ``"index"`` (documents, once they are indexed)
        and ``"search"`` (queries, per batch). ``cache``: take the index from the BM25 index
        cache (memory, then disk), building and storing it on a miss.
        """
        if top_k < 1:
            raise GclBenchError(f"top_k must be at least 1, got {top_k}")
        if progress is not None:
            progress("index", 0, len(doc_texts))
        if cache:
            index = self.cached_index(doc_texts, show_progress=show_progress)
        else:
            index = self.index(doc_texts, show_progress=show_progress)
        if progress is not None:
            progress("index", len(doc_texts), len(doc_texts))
        return self.retrieve(index, query_texts, top_k, show_progress=show_progress, progress=progress)

    def cached_index(self, doc_texts: Sequence[str], show_progress: bool = False) -> Any:
        """:meth:`index` of ``doc_texts`` through the BM25 index cache; records :attr:`retrieval_info`."""
        from gcl_bench.io import hash_texts
        from gcl_bench.models.bm25_index import index_key, obtain_index

        if len(doc_texts) == 0:
            raise GclBenchError("BM25 needs a non-empty corpus")
        # a corpus column is hashed from its Arrow buffers, and its Python strings are made for the
        # build alone (not kept in the column for the rest of the run)
        arrow = getattr(doc_texts, "arrow", None)
        texts = doc_texts if arrow is not None else [text or "" for text in doc_texts]
        key = index_key(hash_texts(texts), len(texts), self.describe()["params"])
        build_texts = arrow.to_pylist if arrow is not None else lambda: texts
        # tokenised first, then built: the texts are freed before the build, the memory-hungry part
        index, use = obtain_index(key, lambda: self._build(self._tokenize(build_texts()), show_progress=show_progress))
        self.retrieval_info = {"bm25_index": use.to_dict()}
        return index

    def search(
        self,
        corpus: Mapping[str, Mapping[str, Any]] | Sequence[Mapping[str, Any]],
        queries: Mapping[str, str] | Sequence[Mapping[str, Any]],
        top_k: int,
        *args: Any,
        **kwargs: Any,
    ) -> dict[str, dict[str, float]]:
        """BEIR's lexical-search form: ``{query_id: {doc_id: score}}``.

        ``corpus`` is BEIR's ``{doc_id: {"title", "text"}}`` or gcl_bench's list of
        ``{"id", "title"}``; ``queries`` is ``{query_id: text}`` or a list of ``{"id", "text"}``.
        """
        if isinstance(corpus, Mapping):
            doc_ids = list(corpus)
            doc_texts = [corpus[d].get("title") or corpus[d].get("text") or "" for d in doc_ids]
        else:
            doc_ids = [str(doc["id"]) for doc in corpus]
            doc_texts = [doc.get("title") or doc.get("text") or "" for doc in corpus]
        if isinstance(queries, Mapping):
            query_ids = list(queries)
            query_texts = [queries[q] for q in query_ids]
        else:
            query_ids = [str(query["id"]) for query in queries]
            query_texts = [query["text"] for query in queries]
        scores, indices = self.search_arrays(doc_texts, query_texts, top_k)
        run: dict[str, dict[str, float]] = {}
        for qid, row_scores, row_indices in zip(query_ids, scores, indices):
            run[qid] = {
                doc_ids[index]: float(score)
                for score, index in zip(row_scores, row_indices)
                if index >= 0
            }
        return run
