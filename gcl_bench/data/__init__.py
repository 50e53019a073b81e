"""Dataset layouts -> one in-memory :class:`Split`.

- :func:`load_split` loads one split of a Marqo-GS folder (or a root of sub-dataset folders), the
  Hugging Face parquet export or a BEIR folder; the bundled sample when no folder is given.
- :func:`dataset_info` counts queries, documents, judgements and missing images per split.
- :func:`read_triplets` gives the trainer a split's (query, product, score) rows.
- :data:`SPLITS` and :func:`canonical_split` name the four splits (aliases and file stems accepted);
  :func:`split_names` resolves a ``--split`` value for a folder (a BEIR folder's splits are its qrels files).

Modules: ``splits`` (split names, stems, corpora) and ``files`` (every file name of each layout);
``layout`` (which layout a folder holds); ``hub`` (the Hugging Face export fetched by Hub id,
``hf://ORG/NAME[@REV]``); readers ``corpus``, ``tables``, ``judgements``, ``beir``, ``hf``,
``images``; ``repeats`` (keys a file repeats, and JSON read so they are seen); ``sampled`` (the
reference judgement sampling), ``pandas_ids`` (the reference's product ids); ``cache`` and ``corpus_cache`` (the columnar cache); ``judged``
and ``plans`` (a split's judgements and inputs per layout); ``load``, ``info``, ``triplets``
(the three public entry points); ``split`` and ``columns`` (the in-memory result); ``scorable``
(whether a split can measure a model); ``sample`` (the bundled benchmark).
The data layer imports nothing of gcl_bench outside it but ``io``, ``inputs``, ``config`` and
``errors`` (huggingface_hub only inside ``hub``'s functions).
"""
from __future__ import annotations

from gcl_bench.data.columns import StrColumn
from gcl_bench.data.info import dataset_info
from gcl_bench.data.load import load_split, split_names
from gcl_bench.data.sampled import QUERY_SUFFIX
from gcl_bench.data.split import LoadReport, Split
from gcl_bench.data.splits import SPLIT_CORPUS, SPLIT_STEMS, SPLITS, canonical_split
from gcl_bench.data.triplets import read_triplets

__all__ = [
    "LoadReport",
    "QUERY_SUFFIX",
    "SPLITS",
    "SPLIT_CORPUS",
    "SPLIT_STEMS",
    "Split",
    "StrColumn",
    "canonical_split",
    "dataset_info",
    "load_split",
    "read_triplets",
    "split_names",
]
