"""The encode stage: a split's queries and documents -> embedding matrices, through the cache.

Two kinds of model are accepted:

- gcl_bench's own dense adapters, which encode one field at a time: ``query_fields`` /
  ``doc_fields`` (``{field: weight}``), ``fingerprint()``, ``field_cache_key(side, field)`` and
  ``encode_field(side, field, values, batch_size) -> (n, D)`` with L2-normalised rows. Fields are
  ``text`` on the query side and ``title`` / ``image`` on the document side. Each field is
  encoded (or read from the cache) on its own; a side's embedding is then the weighted average of
  the fields an item has (weights renormalised over them), L2-normalised. Weights are applied
  after the cache, so a sweep over fusion weights re-encodes nothing.
- plug-in encoders with BEIR's ``encode_queries(list[dict], batch_size)`` /
  ``encode_corpus(list[dict], batch_size)`` and optional ``similarity`` (``"cos"``: rows are
  L2-normalised here; ``"dot"``: used as returned) and ``fingerprint()`` (without it nothing is
  cached). Outputs are checked: numpy or torch, 2-D, floating point, one row per item, the same
  dimension on both sides, finite.

Documents: a title that is empty or only white space, an image path that is None or cannot be
stat'ed, and a value the adapter returns as an all-NaN row (e.g. an image that fails to decode)
count as missing fields. A document with none of the weighted fields gets no vector:
it is left out of ``doc_embeddings`` (never a zero vector) and reported by id in ``info``;
:attr:`EncodedSplit.doc_rows` maps embedding rows back to split rows. Query texts are always
encoded, even when empty. Under torchrun every rank encodes a share of the cache shards and rank 0
merges (see :mod:`gcl_bench.encode.stage`).

Modules, each with one job:

- :mod:`~gcl_bench.encode.stage`: :func:`encode_split`, the shard / barrier / merge protocol;
- :mod:`~gcl_bench.encode.plan`: which (side, field) entries to encode, under which cache key;
- :mod:`~gcl_bench.encode.merge`: entries -> :class:`EncodedSplit` and its ``info`` report;
- :mod:`~gcl_bench.encode.checks`: :func:`as_embedding_matrix`, the check on every model output;
- :mod:`~gcl_bench.encode.cache`: :class:`EmbeddingCache`, the content-addressed on-disk cache.

Imports: numpy, :mod:`gcl_bench.distributed`, :mod:`gcl_bench.errors`, :mod:`gcl_bench.fields`,
:mod:`gcl_bench.io`, :mod:`gcl_bench.config` and the model shapes of :mod:`gcl_bench.models.protocols`;
never the model adapters, index, metrics or runner.
"""
from __future__ import annotations

from gcl_bench.encode.cache import EmbeddingCache
from gcl_bench.encode.checks import as_embedding_matrix
from gcl_bench.encode.merge import EncodedSplit
from gcl_bench.encode.plan import model_name
from gcl_bench.encode.stage import DEFAULT_SHARD_SIZE, ProgressCallback, encode_split

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "EmbeddingCache",
    "EncodedSplit",
    "ProgressCallback",
    "as_embedding_matrix",
    "encode_split",
    "model_name",
]
