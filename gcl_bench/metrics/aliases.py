"""Metric names as trec_eval, ir_measures, BEIR and MTEB spell them, mapped to gcl_bench's names.

:func:`resolve_alias` turns a spelling into the canonical name of :mod:`~gcl_bench.metrics.names`
(case-insensitively), returns None for a name it does not know, and raises
:class:`~gcl_bench.errors.GclBenchError` when the spelling means a formula that no gcl_bench
metric computes; the error says what differs and which name to write instead.

=======================================  ====================  =============================
spelling (any case)                      tool                  canonical name
=======================================  ====================  =============================
``ndcg_cut_10``, ``ndcg_cut.10``         trec_eval             ``ndcg@10``
``ndcg``                                 trec_eval             ``ndcg`` (the whole run)
``map_cut_1000``, ``map_cut.1000``       trec_eval             ``map@1000``
``P_10``, ``P.10``                       trec_eval             ``precision@10``
``recall_100``, ``recall.100``           trec_eval             ``recall@100``
``recip_rank``                           trec_eval             ``mrr``
``success_10``, ``success.10``           trec_eval             ``accuracy@10``
``nDCG@10``, ``nDCG``                    ir_measures           ``ndcg@10``, ``ndcg``
``AP@1000``, ``AP``                      ir_measures           ``map@1000``, ``map``
``RR@10``, ``RR``                        ir_measures           ``mrr@10``, ``mrr``
``R@100``, ``P@10``, ``Success@10``      ir_measures           ``recall@100``, ``precision@10``, ``accuracy@10``
``RBP(rel=1,p=0.8)``                     ir_measures           ``rbp_binary@0.8``
``NDCG@10``, ``MAP@1000``                BEIR                  ``ndcg@10``, ``map@1000``
``Recall@100``, ``P@10``, ``MRR@10``     BEIR                  ``recall@100``, ``precision@10``, ``mrr@10``
``Hole@10``, ``Accuracy@10``             BEIR                  ``hole@10``, ``accuracy@10``
``ndcg_at_10``, ``map_at_1000``          MTEB                  ``ndcg@10``, ``map@1000``
``recall_at_100``, ``precision_at_10``   MTEB                  ``recall@100``, ``precision@10``
``mrr_at_10``                            MTEB                  ``mrr@10``
=======================================  ====================  =============================

ir_measures' parameters are read: ``rel=1`` (a grade >= 1 is relevant, as here),
``judged_only=False`` and ``dcg='log2'`` are accepted; anything else is refused.

Refused, because the formula differs (the error names the metric to use instead):

- ``ERR@k`` in any case other than gcl_bench's ``err@k``: in ir_measures it is gdeval's ERR
  (``err_gdeval@k``: grades 0..4, R = (2^g - 1)/16); in gcl_bench ``err@k`` is the GCL
  benchmark's ERR (per-query g_max). The spelling is ambiguous, so it is refused.
- ``RBP``/``RBP(p=...)`` without ``rel``: ir_measures computes it with trectools, which weighs
  each document by its raw grade and averages the contributions of tied scores; gcl_bench's
  ``rbp@p`` divides grades by g_max(q), and ``rbp_binary@p`` is ``RBP(rel=1,p=...)``.
- ``RBP@k`` or ``RBP(...)@k`` (an RBP cut at rank k), ``rel`` other than 1, ``nDCG(dcg='exp-log2')``
  (exponential gain), ``gains=...``, ``judged_only=True``, ir_measures' ``Judged@k`` (judged
  share of that query's list; BEIR's ``hole@k`` is the share without a judgement in the whole
  qrels), BEIR's ``R_cap@k`` (recall over min(R, k)), trec_eval's bare ``ndcg_cut``/``map_cut``/``P``
  (several cutoffs at once: name one).

Tie order is not part of a name: every gcl_bench metric ranks by trec_eval's order (score
descending as float32, then doc id descending); BEIR and ir_measures' MS MARCO ``RR@k`` keep
another order among tied scores (see :mod:`gcl_bench.metrics._ranking`).

Imports only :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from gcl_bench.errors import GclBenchError

__all__ = ["ALIAS_EXAMPLES", "resolve_alias", "suggestions"]

#: family spellings of ``<family>@<k>`` (ir_measures, BEIR) -> canonical family
_AT_FAMILIES = {
    "ndcg": "ndcg", "ap": "map", "map": "map", "rr": "mrr", "mrr": "mrr", "r": "recall",
    "recall": "recall", "p": "precision", "precision": "precision", "success": "accuracy",
    "accuracy": "accuracy", "acc": "accuracy", "hole": "hole",
}
#: MTEB's ``<family>_at_<k>`` -> canonical family
_MTEB_FAMILIES = {
    "ndcg": "ndcg", "map": "map", "mrr": "mrr", "recall": "recall", "precision": "precision",
    "hole": "hole", "accuracy": "accuracy",
}
#: trec_eval's ``<measure>_<k>`` / ``<measure>.<k>`` -> canonical family
_TREC_FAMILIES = {
    "ndcg_cut": "ndcg", "map_cut": "map", "p": "precision", "recall": "recall", "success": "accuracy",
}
#: names without a cutoff -> canonical name
_BARE = {
    "ndcg": "ndcg", "map": "map", "ap": "map", "rr": "mrr", "mrr": "mrr", "recip_rank": "mrr",
    "err": "err",
}
#: names that need a cutoff, with the form to write
_NEEDS_CUTOFF = {
    "ndcg_cut": "ndcg_cut_10 (trec_eval reports several cutoffs under ndcg_cut: name one)",
    "map_cut": "map_cut_1000 (trec_eval reports several cutoffs under map_cut: name one)",
    "p": "P_10 or P@10 (trec_eval reports several cutoffs under P: name one)",
    "r": "R@100", "recall": "recall@100", "precision": "precision@10", "success": "success_10",
    "accuracy": "accuracy@10", "hole": "hole@10",
}

_ERR_AMBIGUOUS = (
    "{name!r} is ambiguous: in ir_measures ERR@{k} is gdeval's ERR (grades 0..4, "
    "R = (2^g - 1)/16), in gcl_bench err@{k} is the GCL benchmark's ERR (R = (2^g - 1)/2^g_max(q)); "
    "write err@{k} for the GCL ERR or err_gdeval@{k} for gdeval's"
)
_RBP_GRADED = (
    "{name!r}: ir_measures computes RBP without rel= with trectools, which weighs each document by "
    "its raw grade and averages tied scores; gcl_bench has rbp@{p} (grades divided by g_max(q), "
    "the GCL benchmark's RBP) and rbp_binary@{p} (= ir_measures RBP(rel=1,p={p}))"
)
_RBP_CUTOFF = (
    "{name!r}: an RBP cut at rank {k} is not computed here; gcl_bench's rbp@p and rbp_binary@p "
    "run over the whole retrieved list (write rbp@0.8 for persistence 0.8)"
)
_RELEVANCE_LEVEL = (
    "{name!r}: rel={rel} counts only grades >= {rel} as relevant; gcl_bench counts every "
    "grade >= 1 (rel=1)"
)

_AT = re.compile(r"(?P<family>[a-z_]+)@(?P<param>[^@]+)")
_MTEB = re.compile(r"(?P<family>[a-z]+)_at_(?P<k>[0-9]+)")
_TREC = re.compile(r"(?P<family>[a-z_]+?)[_.](?P<k>[0-9]+)")
_IR_MEASURES = re.compile(r"(?P<measure>[a-z_]+)\((?P<params>[^()]*)\)(?:@(?P<k>[0-9]+))?")
_PARAM = re.compile(r"\s*(?P<key>[a-z_]+)\s*=\s*(?P<value>'[^']*'|\"[^\"]*\"|[^,]+?)\s*")

#: accepted spellings, for close-match suggestions
ALIAS_EXAMPLES: tuple[str, ...] = (
    "ndcg_cut_10", "ndcg_cut.10", "map_cut_1000", "P_10", "P.10", "recall_100", "recip_rank",
    "success_10", "nDCG@10", "AP@1000", "AP", "RR@10", "RR", "R@100", "P@10", "Success@10",
    "RBP(rel=1,p=0.8)", "NDCG@10", "MAP@1000", "Recall@100", "MRR@10", "Hole@10", "Accuracy@10",
    "ndcg_at_10", "map_at_1000", "recall_at_100", "precision_at_10", "mrr_at_10",
)


def resolve_alias(name: str) -> str | None:
    """The canonical name for another tool's spelling, None if unknown; GclBenchError if refused."""
    low = name.lower()
    ir_measures = _IR_MEASURES.fullmatch(low)
    if ir_measures is not None:
        return _ir_measures_form(name, ir_measures)
    at = _AT.fullmatch(low)
    if at is not None:
        return _at_form(name, at.group("family"), at.group("param"))
    mteb = _MTEB.fullmatch(low)
    if mteb is not None and mteb.group("family") in _MTEB_FAMILIES:
        return f"{_MTEB_FAMILIES[mteb.group('family')]}@{mteb.group('k')}"
    trec = _TREC.fullmatch(low)
    if trec is not None and trec.group("family") in _TREC_FAMILIES:
        return f"{_TREC_FAMILIES[trec.group('family')]}@{trec.group('k')}"
    _refuse_known_others(name, low)
    if low in _BARE:
        return _BARE[low]
    if low in _NEEDS_CUTOFF:
        raise GclBenchError(f"metric {name!r} needs a cutoff: write {_NEEDS_CUTOFF[low]}")
    return None


def suggestions(name: str, canonical: Sequence[str], families: Sequence[str]) -> str:
    """``"did you mean ..."`` with the closest canonical names ('' when none is close).

    ``canonical`` are example canonical names, ``families`` the canonical families; a name
    with ``@`` is matched by its family (the parameter is kept), any other against the
    canonical examples and the spellings of :data:`ALIAS_EXAMPLES`.
    """
    low = name.lower().strip()
    family, at, param = low.partition("@")
    if at and param:
        spellings = {f: f for f in families} | {f: c for f, c in _AT_FAMILIES.items()}
        close = difflib.get_close_matches(family, list(spellings), n=3, cutoff=0.6)
        found = [f"{spellings[f]}@{param}" for f in close]
    else:
        vocabulary = {spelling.lower(): spelling for spelling in canonical}
        for spelling in ALIAS_EXAMPLES:
            vocabulary.setdefault(spelling.lower(), resolve_alias(spelling) or spelling)
        close = difflib.get_close_matches(low, list(vocabulary), n=3, cutoff=0.6)
        found = [vocabulary[c] for c in close]
    found = list(dict.fromkeys(found))
    return f"did you mean {' or '.join(found)}?" if found else ""


def _at_form(name: str, family: str, param: str) -> str | None:
    if family == "err":
        raise GclBenchError(_ERR_AMBIGUOUS.format(name=name, k=param))
    if family in ("rbp", "rbp_binary", "err_chapelle", "err_gdeval"):
        if family == "rbp" and re.fullmatch(r"[0-9]+", param):
            raise GclBenchError(_RBP_CUTOFF.format(name=name, k=param))
        return f"{family}@{param}"  # gcl_bench's own families, written in another case
    if family in ("judged",):
        raise GclBenchError(_judged_reason(name, param))
    if family in ("r_cap", "recall_cap"):
        raise GclBenchError(
            f"{name!r}: BEIR's capped recall divides by min(R, k); gcl_bench's recall@{param} "
            "divides by R, the number of relevant judged documents"
        )
    if family in _AT_FAMILIES:
        return f"{_AT_FAMILIES[family]}@{param}"
    return None


def _judged_reason(name: str, k: str) -> str:
    return (
        f"{name!r}: ir_measures' Judged@{k} is the share of the top {k} judged for that query, over "
        f"min({k}, retrieved); gcl_bench has BEIR's hole@{k} (the share of the top {k} without a "
        "judgement anywhere in the qrels, over k)"
    )


def _refuse_known_others(name: str, low: str) -> None:
    """Bare names of other tools' metrics whose formula differs."""
    if low in ("rbp", "rbp_binary"):
        raise GclBenchError(_RBP_GRADED.format(name=name, p=0.8) if low == "rbp"
                            else f"metric {name!r} needs a parameter: write rbp_binary@p")
    if low == "judged":
        raise GclBenchError(_judged_reason(name, "k"))


def _ir_measures_form(name: str, match: re.Match) -> str:
    """``Measure(param=value, ...)@k`` as ir_measures writes it."""
    measure, k = match.group("measure"), match.group("k")
    params = _parse_params(name, match.group("params"))
    judged_only = params.pop("judged_only", False)
    if judged_only not in (False, "false"):
        raise GclBenchError(f"{name!r}: judged_only=True drops unjudged documents first; gcl_bench "
                            "scores every retrieved document (unjudged ones have grade 0)")
    if measure == "rbp":
        return _ir_measures_rbp(name, params, k)
    if measure == "err":
        _no_params(name, params)
        if k is None:
            raise GclBenchError(f"{name!r}: ir_measures' ERR needs a cutoff, e.g. ERR@10 "
                                "(gdeval's ERR, err_gdeval@10 here)")
        return f"err_gdeval@{k}"
    if measure == "ndcg":
        dcg = params.pop("dcg", "log2")
        if dcg != "log2":
            raise GclBenchError(f"{name!r}: dcg={dcg!r} is not linear gain; gcl_bench's ndcg uses "
                                "linear gain g/log2(r+1) (trec_eval's, ir_measures' default)")
        if "gains" in params:
            raise GclBenchError(f"{name!r}: custom gains are not supported; ndcg uses the grades as gains")
        _no_params(name, params)
        return "ndcg" if k is None else f"ndcg@{k}"
    families = {"ap": "map", "rr": "mrr", "p": "precision", "r": "recall", "success": "accuracy"}
    if measure == "judged":
        raise GclBenchError(_judged_reason(name, k or "k"))
    if measure not in families:
        raise GclBenchError(f"unknown ir_measures metric {name!r}; accepted here: nDCG, AP, RR, R, P, "
                            "Success, ERR@k, RBP(rel=1,p=...)")
    rel = params.pop("rel", 1)
    if rel != 1:
        raise GclBenchError(_RELEVANCE_LEVEL.format(name=name, rel=rel))
    _no_params(name, params)
    family = families[measure]
    if k is None:
        if family in ("map", "mrr"):
            return family
        raise GclBenchError(f"metric {name!r} needs a cutoff: write {measure.upper()}@10")
    return f"{family}@{k}"


def _ir_measures_rbp(name: str, params: dict, k: str | None) -> str:
    p = params.pop("p", 0.8)
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise GclBenchError(f"{name!r}: p must be a number, got {p!r}")
    p_text = repr(float(p))
    if k is not None:
        raise GclBenchError(_RBP_CUTOFF.format(name=name, k=k))
    if "rel" not in params:
        raise GclBenchError(_RBP_GRADED.format(name=name, p=p_text))
    rel = params.pop("rel")
    if rel != 1:
        raise GclBenchError(_RELEVANCE_LEVEL.format(name=name, rel=rel))
    _no_params(name, params)
    return f"rbp_binary@{p_text}"


def _parse_params(name: str, text: str) -> dict:
    """``rel=1, p=0.8`` -> ``{"rel": 1, "p": 0.8}`` (ints, floats, quoted strings, booleans)."""
    params: dict = {}
    if not text.strip():
        return params
    if "{" in text or "}" in text:
        raise GclBenchError(f"{name!r}: custom gains are not supported; ndcg uses the grades as gains")
    for part in text.split(","):
        match = _PARAM.fullmatch(part)
        if match is None:
            raise GclBenchError(f"{name!r}: cannot read the parameter {part.strip()!r} (write key=value)")
        params[match.group("key")] = _param_value(match.group("value"))
    return params


def _param_value(text: str) -> object:
    if text[:1] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _no_params(name: str, params: dict) -> None:
    if params:
        raise GclBenchError(f"{name!r}: parameter {next(iter(params))!r} is not supported here")
