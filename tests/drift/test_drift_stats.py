"""The statistics against published worked examples and brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from monitor.drift._stats import (
    benjamini_hochberg,
    bootstrap_mean_ci,
    bootstrap_median_difference_ci,
    bootstrap_median_distribution,
    energy_distance_test,
    fisher_exact,
    fisher_min_p,
    holm,
    mann_whitney,
    newcombe_interval,
    paired_sign_flip_test,
    sign_flip_min_p,
    stratified_exact_test,
    stratified_min_p,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "lower", "upper"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score).
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
    ],
)
def test_newcombe_interval_matches_the_published_examples(
    x1: int, n1: int, x2: int, n2: int, lower: float, upper: float
) -> None:
    lo, hi = newcombe_interval(x1, n1, x2, n2)
    assert lo == pytest.approx(lower, abs=5e-5)
    assert hi == pytest.approx(upper, abs=5e-5)


def test_wilson_interval_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857-872, example 81/263: 0.2553 to 0.3662.
    lo, hi = wilson_interval(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_fisher_exact_on_the_lady_tasting_tea() -> None:
    # Fisher (1935): 3 of 4 cups right against 1 of 4: two-sided p = 34/70.
    odds_ratio, p = fisher_exact(3, 4, 1, 4)
    assert p == pytest.approx(34 / 70)
    assert odds_ratio == pytest.approx(9.0)


def test_fisher_agrees_with_a_hypergeometric_enumeration() -> None:
    x1, n1, x2, n2 = 7, 30, 1, 25
    total = x1 + x2
    dist = stats.hypergeom(n1 + n2, total, n1)
    observed = dist.pmf(x1)
    support = range(max(0, total - n2), min(total, n1) + 1)
    expected = sum(dist.pmf(k) for k in support if dist.pmf(k) <= observed * (1 + 1e-7))
    assert fisher_exact(x1, n1, x2, n2)[1] == pytest.approx(expected)


def test_fisher_min_p_tells_untestable_margins() -> None:
    assert fisher_min_p(1, 160, 0, 160) == 1.0
    assert fisher_min_p(0, 160, 20, 160) < 1e-5
    assert fisher_min_p(3, 160, 2, 160) == pytest.approx(fisher_exact(5, 160, 0, 160)[1])


def _brute_force_sign_flip(d: list[float]) -> float:
    observed = abs(sum(d))
    patterns = itertools.product((-1, 1), repeat=len(d))
    sums = [abs(sum(s * x for s, x in zip(signs, d, strict=True))) for signs in patterns]
    return sum(s >= observed - 1e-9 for s in sums) / len(sums)


def test_exact_sign_flip_test_equals_enumeration() -> None:
    d = [0.25, 0.5, -0.25, 0.75, 0.5, 0.25, 0.25, 0.0, -0.5, 1.0, 0.25]
    assert paired_sign_flip_test(d, scale=4) == pytest.approx(_brute_force_sign_flip(d))
    monte_carlo = paired_sign_flip_test(d, rng=np.random.default_rng(0), draws=50_000)
    assert monte_carlo == pytest.approx(_brute_force_sign_flip(d), abs=0.01)
    assert paired_sign_flip_test([0.0, 0.0]) == 1.0
    assert sign_flip_min_p([0.5, -0.25, 0.0]) == 0.5


def _brute_force_stratified(a: list[int], n_a: list[int], b: list[int], n_b: list[int]) -> float:
    """Enumerate every relabelling of each problem's responses between the two revisions."""
    per_stratum = []
    for x_a, size_a, x_b, size_b in zip(a, n_a, b, n_b, strict=True):
        outcomes = [1] * (x_a + x_b) + [0] * (size_a + size_b - x_a - x_b)
        counts = [sum(outcomes[i] for i in chosen) for chosen in itertools.combinations(range(size_a + size_b), size_b)]
        per_stratum.append(counts)
    totals = [sum(combo) for combo in itertools.product(*per_stratum)]
    expected = float(np.mean(totals))
    observed = sum(b)
    return sum(abs(t - expected) >= abs(observed - expected) - 1e-9 for t in totals) / len(totals)


def test_stratified_exact_test_equals_enumeration() -> None:
    a, b = [3, 2, 1, 3], [1, 0, 2, 3]
    n = [3, 3, 3, 3]
    observed, expected, p = stratified_exact_test(a, n, b, n)
    assert observed == 6 and expected == pytest.approx(7.5)
    assert p == pytest.approx(_brute_force_stratified(a, n, b, n))
    # Problems solved always (or never) by both carry no information.
    assert stratified_exact_test([4, 0], [4, 4], [4, 0], [4, 4])[2] == 1.0
    assert stratified_min_p([4, 0], [4, 4], [4, 0], [4, 4]) == 1.0
    assert stratified_min_p([4] * 10, [4] * 10, [0] * 10, [4] * 10) < 1e-10


def test_energy_statistic_matches_scipy_in_one_dimension() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=12), rng.normal(0.5, 1.0, size=15)
    statistic, _ = energy_distance_test(x[:, None], y[:, None], permutations=1000, rng=rng)
    # scipy's energy_distance is the square root of the two-sample energy statistic.
    assert math.sqrt(statistic) == pytest.approx(stats.energy_distance(x, y))


def test_energy_test_separates_shifted_from_identical_distributions() -> None:
    rng = np.random.default_rng(4)
    same = [energy_distance_test(rng.normal(size=(8, 5)), rng.normal(size=(8, 5)), rng=rng)[1] for _ in range(40)]
    moved = energy_distance_test(rng.normal(size=(8, 5)), rng.normal(1.5, 1, size=(8, 5)), rng=rng)[1]
    assert moved < 0.001
    assert sum(p <= 0.05 for p in same) <= 6
    # Few enough splits: enumerated exactly, so the p-value is a multiple of 1 / C(6, 3).
    _, exact = energy_distance_test(rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng=rng)
    assert (exact * 20) == pytest.approx(round(exact * 20))


def test_holm_and_benjamini_hochberg() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.004, 0.02], [3, 1]) == pytest.approx([0.004 / 0.75, 0.02])
    assert holm([0.2, 0.01], [1, 1]) == holm([0.2, 0.01])
    with pytest.raises(ValueError, match="positive"):
        holm([0.1], [0])
    # Benjamini & Hochberg (1995), section 4: 15 p-values, q = 0.05 rejects the four smallest.
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459]
    p += [0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0]
    adjusted = benjamini_hochberg(p)
    assert sum(q <= 0.05 for q in adjusted) == 4
    assert adjusted[0] == pytest.approx(0.0015)
    assert holm([]) == [] and benjamini_hochberg([]) == []


def test_mann_whitney_effect_is_cliffs_delta_of_candidate_over_baseline() -> None:
    delta, p = mann_whitney([1, 2, 3, 4], [5, 6, 7, 8])
    assert delta == 1.0 and p < 0.05
    assert mann_whitney([3, 3], [3, 3]) == (0.0, 1.0)


def test_exact_bootstrap_median_distribution_matches_resampling() -> None:
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0])
    support, probabilities = bootstrap_median_distribution(values)
    assert probabilities.sum() == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    medians = np.median(values[rng.integers(0, 7, size=(200_000, 7))], axis=1)
    for value, probability in zip(support, probabilities, strict=True):
        assert np.mean(medians == value) == pytest.approx(probability, abs=0.004)
    lo, hi = bootstrap_median_difference_ci(values, values + 10, rng=rng)
    assert lo <= 10 <= hi


def test_bootstrap_interval_covers_the_mean() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0.3, 1.0, size=200)
    lo, hi = bootstrap_mean_ci(values, rng=rng)
    assert lo < values.mean() < hi and hi - lo < 0.4


def test_wilson_bounds_is_the_one_formula_for_many_counts() -> None:
    from monitor.drift import wilson_bounds, wilson_interval

    lo, hi = wilson_bounds([0, 3, 12], [12, 12, 0])
    assert (float(lo[0]), float(hi[0])) == wilson_interval(0, 12)
    assert (float(lo[1]), float(hi[1])) == wilson_interval(3, 12)
    assert lo[0] < 1e-12 and 0.2 < hi[0] < 0.3  # 0 of 12 is not "surely 0%"
    assert math.isnan(lo[2]) and math.isnan(hi[2])  # no trials: no interval
