"""Significance tests and the Holm correction, against scipy and independent enumerations."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from gcl_bench.stats import holm, paired_randomization_test, paired_ttest


def _brute_force_sign_flip(a: list[float], b: list[float]) -> float:
    """Exact two-sided sign-flip p-value by plain enumeration of every assignment."""
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    observed = abs(sum(diffs))
    hits = 0
    total = 0
    for signs in itertools.product((1, -1), repeat=len(diffs)):
        total += 1
        if abs(sum(s * d for s, d in zip(signs, diffs, strict=True))) >= observed - 1e-12:
            hits += 1
    return hits / total


def test_ttest_matches_scipy_and_the_formula() -> None:
    rng = np.random.default_rng(3)
    base = rng.uniform(0, 1, 60)
    model = np.clip(base + rng.normal(0.05, 0.1, 60), 0, 1)
    p = paired_ttest(model, base)
    assert p == pytest.approx(scipy_stats.ttest_rel(model, base).pvalue, rel=1e-12)
    d = model - base
    t = d.mean() / (d.std(ddof=1) / math.sqrt(d.size))
    assert p == pytest.approx(2 * scipy_stats.t.sf(abs(t), d.size - 1), rel=1e-9)


def test_ttest_degenerate_differences() -> None:
    assert paired_ttest([0.2, 0.3, 0.4], [0.2, 0.3, 0.4]) == 1.0
    assert paired_ttest([0.3, 0.4, 0.5], [0.2, 0.3, 0.4]) == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_randomization_exact_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 1, 9).round(3).tolist()
    b = rng.uniform(0, 1, 9).round(3).tolist()
    # 2**9 = 512 <= permutations: the test enumerates every sign assignment
    assert paired_randomization_test(a, b, permutations=1000) == pytest.approx(_brute_force_sign_flip(a, b))


@pytest.mark.parametrize("seed", range(6))
def test_randomization_exact_equals_scipy_permutation_test(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    a = rng.uniform(0, 1, n).round(2)
    b = a.copy() if seed == 0 else rng.uniform(0, 1, n).round(2)
    b[0] += 0.1
    reference = scipy_stats.permutation_test(
        (a, b), lambda x, y, axis: np.mean(x - y, axis=axis), permutation_type="samples",
        n_resamples=np.inf, alternative="two-sided", vectorized=True,
    )
    assert paired_randomization_test(a, b, permutations=2**n) == reference.pvalue


def test_randomization_with_ties_in_the_statistic() -> None:
    a, b = [1.0, 0.0, 0.5, 0.5], [0.0, 1.0, 0.25, 0.75]
    # diffs 1, -1, 0.25, -0.25: observed mean 0 -> every assignment is at least as extreme
    assert paired_randomization_test(a, b, permutations=100) == 1.0
    assert _brute_force_sign_flip(a, b) == 1.0


def test_randomization_sampled_is_close_to_exact_and_deterministic() -> None:
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 1, 15)
    b = np.clip(a - rng.normal(0.08, 0.2, 15), 0, 1)
    exact = _brute_force_sign_flip(a.tolist(), b.tolist())
    sampled = paired_randomization_test(a, b, permutations=20_000, seed=0)  # 2**15 > 20000: sampled
    assert abs(sampled - exact) < 0.015
    assert sampled == paired_randomization_test(a, b, permutations=20_000, seed=0)
    assert sampled > 0


def test_holm_matches_hand_computation() -> None:
    # sorted: 0.005*4 = 0.02; 0.01*3 = 0.03; 0.03*2 = 0.06; 0.04*1 = 0.04 -> raised to 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []
    out = holm([0.02, math.nan])
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1])


def test_holm_matches_statsmodels_when_installed() -> None:
    from statsmodels.stats import multitest
    p = [0.001, 0.02, 0.03, 0.2, 0.04]
    expected = multitest.multipletests(p, method="holm")[1]
    assert holm(p) == pytest.approx(list(expected))
