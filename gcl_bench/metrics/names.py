"""Metric names: parsing ``"ndcg@10"``, ``"rbp@0.8"``, ... into :class:`MetricSpec`.

One grammar for every place a metric is named (CLI, results.json, per_query.csv, the Python
API). A name is a family, optionally followed by ``@`` and a parameter:

========================  ======================================================
``ndcg``, ``ndcg@k``      normalised DCG, linear gain (trec_eval ``ndcg``/``ndcg_cut``)
``err``, ``err@k``        the GCL benchmark's ERR (per-query g_max)
``err_chapelle@k``        Chapelle's ERR, one g_max for the collection (``err_chapelle``
                          without ``@k`` scores the whole run)
``rbp@p``                 the GCL benchmark's graded RBP, persistence ``0 < p < 1``
``rbp_binary@p``          binary RBP (a grade >= 1 counts 1)
``map``, ``map@k``        mean average precision (trec_eval ``map``/``map_cut``)
``mrr``, ``mrr@k``        reciprocal rank of the first relevant document
``recall@k``              relevant retrieved in the top k / relevant judged
``precision@k``           relevant retrieved in the top k / k
========================  ======================================================

``k`` is a positive integer written without leading zeros; ``p`` a decimal such as ``0.8``.
Anything else raises :class:`~gcl_bench.errors.GclBenchError` listing the valid forms.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gcl_bench.errors import GclBenchError

__all__ = [
    "CURVE_CUTOFFS",
    "DEFAULT_METRICS",
    "MetricSpec",
    "parse_metric",
    "parse_metrics",
]

#: The metrics ``gcl-bench run`` reports, in this order.
DEFAULT_METRICS: tuple[str, ...] = (
    "ndcg@10",
    "err",
    "err@10",
    "rbp@0.7",
    "rbp@0.8",
    "rbp@0.9",
    "map@1000",
    "mrr@10",
    "recall@10",
    "recall@100",
    "recall@1000",
    "precision@10",
)

#: Cutoffs of the ndcg@k and recall@k curves written to results.json.
CURVE_CUTOFFS: tuple[int, ...] = (1, 5, 10, 20, 50, 100, 200, 500, 1000)

# family -> (parameter kind, parameter required)
_FAMILIES: dict[str, tuple[str, bool]] = {
    "ndcg": ("k", False),
    "err": ("k", False),
    "err_chapelle": ("k", False),
    "map": ("k", False),
    "mrr": ("k", False),
    "recall": ("k", True),
    "precision": ("k", True),
    "rbp": ("p", True),
    "rbp_binary": ("p", True),
}

_NAME = re.compile(r"(?P<family>[a-z_]+)(?:@(?P<param>[^@]*))?")
_K = re.compile(r"[1-9][0-9]*")
_P = re.compile(r"0?\.[0-9]+")

_VALID_FORMS = (
    "ndcg, ndcg@k, err, err@k, err_chapelle@k, rbp@p, rbp_binary@p, map, map@k, mrr, mrr@k, "
    "recall@k, precision@k (k a positive integer, 0 < p < 1)"
)


@dataclass(frozen=True)
class MetricSpec:
    """A parsed metric name.

    Attributes:
        name: the name exactly as given (results are keyed by it).
        family: ``"ndcg"``, ``"err"``, ``"err_chapelle"``, ``"rbp"``, ``"rbp_binary"``,
            ``"map"``, ``"mrr"``, ``"recall"`` or ``"precision"``.
        k: the rank cutoff, or None for the whole retrieved list.
        p: the RBP persistence, or None for other families.
    """

    name: str
    family: str
    k: int | None = None
    p: float | None = None


def parse_metric(name: str) -> MetricSpec:
    """Parse one metric name; raise GclBenchError if it is unknown or malformed."""
    if not isinstance(name, str):
        raise GclBenchError(f"a metric name must be a string, got {name!r}; valid: {_VALID_FORMS}")
    match = _NAME.fullmatch(name)
    if match is None or match.group("family") not in _FAMILIES:
        raise GclBenchError(f"unknown metric {name!r}; valid: {_VALID_FORMS}")
    family, param = match.group("family"), match.group("param")
    kind, required = _FAMILIES[family]
    if param is None:
        if required:
            form = f"{family}@k" if kind == "k" else f"{family}@p"
            raise GclBenchError(f"metric {name!r} needs a parameter: write {form}")
        return MetricSpec(name, family)
    if kind == "k":
        if not _K.fullmatch(param):
            raise GclBenchError(
                f"metric {name!r}: the cutoff after '@' must be a positive integer, like {family}@10"
            )
        return MetricSpec(name, family, k=int(param))
    if not _P.fullmatch(param) or not 0.0 < float(param) < 1.0:
        raise GclBenchError(
            f"metric {name!r}: the persistence after '@' must be a decimal 0 < p < 1, like {family}@0.8"
        )
    return MetricSpec(name, family, p=float(param))


def parse_metrics(names: str | Iterable[str]) -> list[MetricSpec]:
    """Parse several metric names (a single string is one name); duplicates are dropped."""
    if isinstance(names, str):
        names = [names]
    specs: list[MetricSpec] = []
    seen: set[str] = set()
    for name in names:
        spec = parse_metric(name)
        if spec.name not in seen:
            seen.add(spec.name)
            specs.append(spec)
    if not specs:
        raise GclBenchError(f"no metric named; valid: {_VALID_FORMS}")
    return specs
