"""The result of scoring one judged run: means, per-query values and query counts.

Imports numpy (and pandas, only in :meth:`MetricResult.to_frame`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MetricResult"]


@dataclass
class MetricResult:
    """Means and per-query values of a set of metrics over one judged run.

    Attributes:
        means: metric name -> mean over ``query_ids``.
        per_query: metric name -> (num_queries,) float64, aligned with ``query_ids``.
        query_ids: the queries averaged over: judged queries with at least one positive grade,
            in the order of the judgements.
        num_queries: ``len(query_ids)``.
        judged: queries in the judgements (with or without a positive grade).
        without_positive: judged queries with no positive grade (not averaged over).
        missing_from_run: averaged queries absent from the run (they score 0).
        tied_lists: averaged queries whose retrieved list (as kept, up to top_k) contains tied
            float32 scores, so the document-id tie break decided part of the order.
        ignored_run_queries: run queries that are not in the judgements.
    """

    means: dict[str, float]
    per_query: dict[str, np.ndarray]
    query_ids: list[str]
    num_queries: int
    judged: int
    without_positive: int
    missing_from_run: int
    tied_lists: int
    ignored_run_queries: int = 0

    @property
    def scored(self) -> int:
        """Averaged queries that have a retrieved list."""
        return self.num_queries - self.missing_from_run

    def query_counts(self) -> dict[str, int]:
        """The ``queries`` section of results.json."""
        return {
            "judged": self.judged,
            "scored": self.scored,
            "missing_from_run": self.missing_from_run,
            "without_positive": self.without_positive,
        }

    def to_frame(self) -> Any:
        """Per-query values as a pandas DataFrame indexed by ``query_id`` (metric order kept)."""
        import pandas as pd

        frame = pd.DataFrame(self.per_query, columns=list(self.per_query))
        frame.index = pd.Index(self.query_ids, name="query_id")
        return frame
