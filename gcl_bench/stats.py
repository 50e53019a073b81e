"""Paired significance tests over per-query values, and the Holm correction.

Leaderboards compare each model with a baseline on the same queries. Both tests are paired and
two-sided, on the per-query differences ``d_i = a_i - b_i`` (i = 1..n):

- :func:`paired_ttest`: Student's paired t-test, ``t = mean(d) / (sd(d) / sqrt(n))`` with n - 1
  degrees of freedom (``scipy.stats.ttest_rel``).
- :func:`paired_randomization_test`: the sign-flip randomisation test of the mean difference.
  Under the null hypothesis each ``d_i`` is as likely to be ``-d_i``; the p-value is the share of
  sign assignments whose ``|mean|`` is at least the observed ``|mean(d)|``. With ``2**n`` no more
  than ``permutations`` every assignment is enumerated (exact p-value); otherwise ``permutations``
  random assignments are drawn from ``numpy.random.default_rng(seed)`` and
  ``p = (hits + 1) / (permutations + 1)`` (Phipson & Smyth, 2010: never 0, valid at any size).
  The exact p-value is the one ``scipy.stats.permutation_test`` gives for paired samples
  (``permutation_type="samples"``, two-sided); the sampled one is kept here so that a seed
  names one fixed set of sign flips and "two-sided" stays ``|mean| >= |observed|``.
- :func:`holm`: Holm's step-down adjustment of a family of p-values (Holm, 1979), controlling the
  family-wise error rate: sort ascending, ``p'_(i) = max_{j<=i} min(1, (m - j + 1) p_(j))``.

Usage::

    p = paired_ttest(model_ndcg, baseline_ndcg)
    p = paired_randomization_test(model_ndcg, baseline_ndcg, permutations=10_000, seed=0)
    adjusted = holm([p_model_1, p_model_2, p_model_3])

May import: numpy, scipy (nothing of gcl_bench).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

#: relative slack when comparing permuted statistics with the observed one (float round-off)
_TIE_TOLERANCE = 1e-12

TESTS = ("ttest", "randomization")
TEST_NAMES = {
    "ttest": "paired two-sided t-test",
    "randomization": "paired two-sided randomisation test",
}


def _differences(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> np.ndarray:
    a_arr = np.asarray(a, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    if a_arr.shape != b_arr.shape or a_arr.ndim != 1:
        raise ValueError(f"paired samples need equal 1-d shapes, got {a_arr.shape} and {b_arr.shape}")
    if a_arr.size == 0:
        raise ValueError("paired samples are empty")
    return a_arr - b_arr


def paired_ttest(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Two-sided p-value of the paired t-test of ``mean(a - b) = 0``.

    Degenerate cases have no t statistic; they get the p-value the data make obvious: all
    differences zero -> 1.0, all differences equal and non-zero -> 0.0, a single pair -> 1.0
    (equal up to a relative 1e-12, so float round-off does not decide).
    """
    from scipy import stats

    diff = _differences(a, b)
    if np.all(np.abs(diff) <= _TIE_TOLERANCE) or diff.size < 2:
        return 1.0
    if np.ptp(diff) <= _TIE_TOLERANCE * max(1.0, float(np.abs(diff).max())):
        return 0.0
    return float(stats.ttest_rel(np.asarray(a, float), np.asarray(b, float)).pvalue)


def paired_randomization_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    permutations: int = 10_000,
    seed: int = 0,
    chunk_size: int = 1024,
) -> float:
    """Two-sided p-value of the sign-flip randomisation test of ``mean(a - b) = 0``.

    ``permutations`` random sign assignments (fixed ``seed``), or all ``2**n`` when that is not
    more; see the module docstring for the formula.
    """
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    diff = _differences(a, b)
    n = diff.size
    observed = abs(diff.mean())
    threshold = observed - _TIE_TOLERANCE * max(1.0, observed)
    if n <= 30 and 2**n <= permutations:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        hits = int(np.count_nonzero(np.abs(signs @ diff) / n >= threshold))
        return hits / 2**n
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < permutations:
        size = min(chunk_size, permutations - done)
        signs = rng.integers(0, 2, size=(size, n), dtype=np.int8) * 2 - 1
        hits += int(np.count_nonzero(np.abs(signs @ diff) / n >= threshold))
        done += size
    return (hits + 1) / (permutations + 1)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order (NaN entries stay NaN, not counted)."""
    values = [float(p) for p in p_values]
    valid = [i for i, p in enumerate(values) if not math.isnan(p)]
    m = len(valid)
    adjusted = [math.nan] * len(values)
    running = 0.0
    for rank, index in enumerate(sorted(valid, key=lambda i: values[i])):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted


def paired_test(
    test: str,
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    permutations: int = 10_000,
    seed: int = 0,
) -> float:
    """Dispatch on ``test`` ("ttest" or "randomization")."""
    if test == "ttest":
        return paired_ttest(a, b)
    if test == "randomization":
        return paired_randomization_test(a, b, permutations=permutations, seed=seed)
    raise ValueError(f"unknown test {test!r}; choose one of {', '.join(TESTS)}")
