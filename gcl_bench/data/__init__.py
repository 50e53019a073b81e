"""Dataset layouts -> one in-memory :class:`Split`.

Filled in by the loaders: ``load_split(data_dir, split, eval_set="test", image_root=None, ...)``.
"""
from __future__ import annotations

from gcl_bench.data.split import LoadReport, Split

__all__ = ["LoadReport", "Split"]
