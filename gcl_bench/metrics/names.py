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
``accuracy@k``            1 if a relevant document is in the top k (BEIR ``Accuracy@k``)
``hole@k``                share of the top k without any judgement (BEIR ``Hole@k``)
``err_gdeval@k``          gdeval's ERR, grades 0..4 on a fixed scale (ir_measures ``ERR@k``)
========================  ======================================================

``k`` is a positive integer written without leading zeros; ``p`` a decimal such as ``0.8``.
These are the *canonical* names, the only ones written in outputs (results.json,
per_query.csv, tables). The spellings of trec_eval, ir_measures, BEIR and MTEB (``ndcg_cut_10``,
``nDCG@10``, ``NDCG@10``, ``ndcg_at_10``...) are accepted too, case-insensitively, and mapped
to these by :mod:`~gcl_bench.metrics.aliases`, which refuses, with the reason, a spelling whose
formula differs from every metric here. Anything else raises
:class:`~gcl_bench.errors.GclBenchError` with close matches and the valid forms.
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
    "canonical_metric_names",
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
    "accuracy": ("k", True),
    "hole": ("k", True),
    "err_gdeval": ("k", False),
}

_NAME = re.compile(r"(?P<family>[a-z_]+)(?:@(?P<param>[^@]*))?")
_K = re.compile(r"[1-9][0-9]*")
_P = re.compile(r"0?\.[0-9]+")

_VALID_FORMS = (
    "ndcg, ndcg@k, err, err@k, err_chapelle@k, err_gdeval@k, rbp@p, rbp_binary@p, map, map@k, "
    "mrr, mrr@k, recall@k, precision@k, accuracy@k, hole@k (k a positive integer, 0 < p < 1), "
    "or their trec_eval, ir_measures, BEIR and MTEB spellings"
)


@dataclass(frozen=True)
class MetricSpec:
    """A parsed metric name.

    Attributes:
        name: the canonical name (results are keyed by it), e.g. ``"ndcg@10"`` for ``"nDCG@10"``.
        family: a key of the family table (``"ndcg"``, ``"err"``, ``"rbp"``, ``"map"``...).
        k: the rank cutoff, or None for the whole retrieved list.
        p: the RBP persistence, or None for other families.
        given: the name as the user wrote it (equal to ``name`` for a canonical name).
    """

    name: str
    family: str
    k: int | None = None
    p: float | None = None
    given: str = ""


def parse_metric(name: str) -> MetricSpec:
    """Parse one metric name in any accepted spelling; raise GclBenchError if it is unknown,
    malformed, or a spelling whose formula no metric here has (the error says why)."""
    if not isinstance(name, str):
        raise GclBenchError(f"a metric name must be a string, got {name!r}; valid: {_VALID_FORMS}")
    match = _NAME.fullmatch(name)
    if match is not None and match.group("family") in _FAMILIES:
        return _parse_canonical(name, name)
    from gcl_bench.metrics.aliases import resolve_alias, suggestions

    canonical = resolve_alias(name)
    if canonical is None:
        hint = suggestions(name, _canonical_examples(), list(_FAMILIES))
        raise GclBenchError(f"unknown metric {name!r}{f' ({hint})' if hint else ''}; valid: {_VALID_FORMS}")
    return _parse_canonical(canonical, name)


def _canonical_examples() -> list[str]:
    examples = []
    for family, (kind, required) in _FAMILIES.items():
        if not required:
            examples.append(family)
        examples.append(f"{family}@10" if kind == "k" else f"{family}@0.8")
    return examples


def _parse_canonical(name: str, given: str) -> MetricSpec:
    """Parse a canonical name; errors quote ``given`` (the user's spelling)."""
    quoted = repr(given) if given == name else f"{given!r} ({name})"
    match = _NAME.fullmatch(name)
    if match is None or match.group("family") not in _FAMILIES:
        raise GclBenchError(f"unknown metric {quoted}; valid: {_VALID_FORMS}")
    family, param = match.group("family"), match.group("param")
    kind, required = _FAMILIES[family]
    if param is None:
        if required:
            form = f"{family}@k" if kind == "k" else f"{family}@p"
            raise GclBenchError(f"metric {quoted} needs a parameter: write {form}")
        return MetricSpec(name, family, given=given)
    if kind == "k":
        if not _K.fullmatch(param):
            raise GclBenchError(
                f"metric {quoted}: the cutoff after '@' must be a positive integer, like {family}@10"
            )
        return MetricSpec(name, family, k=int(param), given=given)
    if not _P.fullmatch(param) or not 0.0 < float(param) < 1.0:
        raise GclBenchError(
            f"metric {quoted}: the persistence after '@' must be a decimal 0 < p < 1, like {family}@0.8"
        )
    return MetricSpec(name, family, p=float(param), given=given)


def parse_metrics(names: str | Iterable[str]) -> list[MetricSpec]:
    """Parse several metric names (a single string is one name); names that mean the same
    metric (``ndcg@10`` and ``NDCG@10``) are kept once, under the canonical name."""
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


def canonical_metric_names(names: str | Iterable[str]) -> list[str]:
    """The canonical names of ``names`` (any accepted spelling), in order, without repeats."""
    return [spec.name for spec in parse_metrics(names)]
