"""The statistical tests and intervals behind every drift metric, as small pure functions.

Each function names its source: Wilson (1927) score interval; Newcombe (1998) hybrid score interval for
a difference of independent proportions ("method 10"); Fisher's exact test (via scipy); an exact paired
sign-flip permutation test (Fisher–Pitman) computed by convolution; percentile bootstrap intervals;
the energy-distance two-sample permutation test (Székely & Rizzo 2004); Mann–Whitney U with Cliff's
delta as effect; Holm's (1979) weighted step-down and Benjamini–Hochberg (1995) step-up adjustments.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "benjamini_hochberg",
    "bootstrap_mean_ci",
    "bootstrap_median_difference_ci",
    "bootstrap_median_distribution",
    "energy_distance_test",
    "fisher_exact",
    "fisher_min_p",
    "holm",
    "mann_whitney",
    "newcombe_interval",
    "paired_sign_flip_test",
    "sign_flip_min_p",
    "stratified_exact_test",
    "stratified_min_p",
    "wilson_bounds",
    "wilson_interval",
]

_EXACT_SUPPORT_LIMIT = 200_000


def wilson_bounds(successes: npt.ArrayLike, n: npt.ArrayLike, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals of many proportions at once (NaN where ``n`` is 0): the one formula.

    The report's metrics and the dashboard's rate columns both use it. Wilson stays inside [0, 1] and is
    honest at small n and near 0 or 1, where the Wald interval collapses (0 of 12 is not "surely 0%").
    """
    from scipy import stats

    k_arr = np.asarray(successes, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    z = float(stats.norm.ppf(1 - alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_arr / n_arr
        denominator = 1 + z * z / n_arr
        centre = (p + z * z / (2 * n_arr)) / denominator
        half = z * np.sqrt(p * (1 - p) / n_arr + z * z / (4 * n_arr * n_arr)) / denominator
    lo = np.where(n_arr > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    hi = np.where(n_arr > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


def wilson_interval(successes: int, n: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for one proportion (``wilson_bounds`` of one count); (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    lo, hi = wilson_bounds(successes, n, alpha=alpha)
    return (float(lo), float(hi))


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2 (independent samples; Newcombe 1998, method 10).

    Combines the two Wilson intervals; it keeps close to nominal coverage at small n and rates near 0,
    where identity claims of a foreign vendor usually sit.
    """
    p1 = x1 / n1 if n1 else 0.0
    p2 = x2 / n2 if n2 else 0.0
    l1, u1 = wilson_interval(x1, n1, alpha=alpha)
    l2, u2 = wilson_interval(x2, n2, alpha=alpha)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (max(-1.0, lower), min(1.0, upper))


def fisher_exact(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Two-sided Fisher exact test of x1/n1 against x2/n2: (sample odds ratio, p-value)."""
    from scipy import stats

    table = [[x1, n1 - x1], [x2, n2 - x2]]
    result = stats.fisher_exact(table, alternative="two-sided")
    return float(result.statistic), float(min(1.0, result.pvalue))


def fisher_min_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Smallest p-value Fisher's test could give with these margins (Tarone 1990).

    A metric that could not reach significance whatever the split (say one claim in 320 responses) is
    left out of the family, so it does not dilute the others' share of alpha.
    """
    total = x1 + x2
    high = min(total, n1)
    low = max(0, total - n2)
    return min(fisher_exact(high, n1, total - high, n2)[1], fisher_exact(low, n1, total - low, n2)[1])


def paired_sign_flip_test(
    differences: Sequence[float] | np.ndarray,
    *,
    scale: int | None = None,
    rng: np.random.Generator | None = None,
    draws: int = 20_000,
) -> float:
    """Two-sided paired permutation (sign-flip) test that the mean paired difference is zero.

    Under the null each difference is as likely to have either sign. With ``scale`` such that every
    difference times ``scale`` is an integer (per-problem accuracies over k samples: scale k) the null
    distribution of the sum is computed exactly by convolution; otherwise ``draws`` random sign flips.
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.abs(d) > 1e-12]
    if d.size == 0:
        return 1.0
    if scale is not None:
        scaled = np.abs(d) * scale
        steps = np.rint(scaled).astype(np.int64)
        total = int(steps.sum())
        if np.allclose(scaled, steps, atol=1e-6) and total <= _EXACT_SUPPORT_LIMIT:
            observed = abs(int(np.rint(d.sum() * scale)))
            distribution = np.zeros(2 * total + 1)
            distribution[total] = 1.0
            for step in steps:
                distribution = 0.5 * (np.roll(distribution, int(step)) + np.roll(distribution, -int(step)))
            values = np.abs(np.arange(-total, total + 1))
            return float(min(1.0, distribution[values >= observed].sum()))
    generator = rng if rng is not None else np.random.default_rng(0)
    signs = generator.choice(np.array([-1.0, 1.0]), size=(draws, d.size))
    sums = np.abs(signs @ np.abs(d))
    observed_sum = abs(float(d.sum()))
    exceed = int(np.count_nonzero(sums >= observed_sum - 1e-9))
    return (1 + exceed) / (draws + 1)


def stratified_exact_test(
    successes_a: Sequence[int], trials_a: Sequence[int], successes_b: Sequence[int], trials_b: Sequence[int]
) -> tuple[float, float, float]:
    """Exact stratified permutation test (Mantel–Haenszel type) of b against a: (observed, expected, p).

    Within each stratum (a reasoning problem) the responses of both revisions are exchangeable under
    the null, so given each problem's total correct the candidate's count is hypergeometric; the
    distribution of the total is the convolution over problems, hence exact. Problems solved always or
    never by both carry no information and drop out, as in McNemar's test. Two-sided: P(|T - E| >=
    |t - E|).
    """
    from scipy import stats

    distribution = np.array([1.0])
    offset = 0
    for a, n_a, b, n_b in zip(successes_a, trials_a, successes_b, trials_b, strict=True):
        total = a + b
        low, high = max(0, total - n_a), min(n_b, total)
        pmf = stats.hypergeom.pmf(np.arange(low, high + 1), n_a + n_b, total, n_b)
        distribution = np.convolve(distribution, pmf)
        offset += low
    support = np.arange(offset, offset + distribution.size)
    observed = float(sum(successes_b))
    expected = float((support * distribution).sum())
    tail = distribution[np.abs(support - expected) >= abs(observed - expected) - 1e-9].sum()
    return observed, expected, float(min(1.0, tail))


def stratified_min_p(
    successes_a: Sequence[int], trials_a: Sequence[int], successes_b: Sequence[int], trials_b: Sequence[int]
) -> float:
    """Smallest p-value the stratified exact test could give with these per-stratum totals."""
    low = [max(0, a + b - n_a) for a, n_a, b in zip(successes_a, trials_a, successes_b, strict=True)]
    high = [min(n_b, a + b) for a, b, n_b in zip(successes_a, successes_b, trials_b, strict=True)]
    totals = [a + b for a, b in zip(successes_a, successes_b, strict=True)]
    p_low = stratified_exact_test([t - x for t, x in zip(totals, low, strict=True)], trials_a, low, trials_b)[2]
    p_high = stratified_exact_test([t - x for t, x in zip(totals, high, strict=True)], trials_a, high, trials_b)[2]
    return min(p_low, p_high)


def sign_flip_min_p(differences: Sequence[float] | np.ndarray) -> float:
    """Smallest p-value the paired sign-flip test could give: only all-same-sign reaches 2 / 2^n."""
    nonzero = int(np.count_nonzero(np.abs(np.asarray(differences, dtype=float)) > 1e-12))
    return 1.0 if nonzero == 0 else min(1.0, 2.0 ** (1 - nonzero))


def bootstrap_mean_ci(
    values: Sequence[float] | np.ndarray, *, rng: np.random.Generator, resamples: int = 2000, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean, resampling the units (problems, probes) themselves."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return (0.0, 0.0)
    indices = rng.integers(0, v.size, size=(resamples, v.size))
    means = v[indices].mean(axis=1)
    return (float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2)))


def bootstrap_median_distribution(values: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact bootstrap distribution of a sample's (lower) median: (support, probabilities).

    A resample's median is <= v exactly when at least m = ceil(n/2) of its n draws are <= v, and that
    count is Binomial(n, F(v)) (Efron 1982), so no resampling is needed, whatever n is.
    """
    from scipy import stats

    v = np.sort(np.asarray(values, dtype=float))
    n = v.size
    support, counts = np.unique(v, return_counts=True)
    cumulative = np.cumsum(counts) / n
    cdf = stats.binom.sf((n + 1) // 2 - 1, n, cumulative)
    probabilities = np.diff(np.concatenate([[0.0], cdf]))
    return support, np.clip(probabilities, 0.0, None)


def bootstrap_median_difference_ci(
    baseline: Sequence[float] | np.ndarray,
    candidate: Sequence[float] | np.ndarray,
    *,
    rng: np.random.Generator,
    resamples: int = 2000,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile bootstrap interval of median(candidate) - median(baseline), each side resampled.

    Each side's bootstrap median is drawn from its exact distribution, so the cost does not grow with
    the number of responses.
    """
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(candidate, dtype=float)
    if a.size == 0 or b.size == 0:
        return (0.0, 0.0)
    draws = max(resamples, 10_000)
    support_a, p_a = bootstrap_median_distribution(a)
    support_b, p_b = bootstrap_median_distribution(b)
    differences = rng.choice(support_b, size=draws, p=p_b / p_b.sum()) - rng.choice(
        support_a, size=draws, p=p_a / p_a.sum()
    )
    return (float(np.quantile(differences, alpha / 2)), float(np.quantile(differences, 1 - alpha / 2)))


def energy_distance_test(
    x: np.ndarray, y: np.ndarray, *, permutations: int = 4999, rng: np.random.Generator
) -> tuple[float, float]:
    """Energy-distance two-sample test with a permutation null: (statistic, p-value).

    E = 2 E|X-Y| - E|X-X'| - E|Y-Y'| (Euclidean) is zero exactly when the distributions agree, so it
    catches any change in the answers' embedding distribution, not just a moved mean. The pairwise
    distance matrix is computed once and every permutation is a pair of matrix products.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n, m = len(x), len(y)
    pooled = np.vstack([x, y])
    squared = np.einsum("ij,ij->i", pooled, pooled)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * pooled @ pooled.T, 0.0))
    np.fill_diagonal(distances, 0.0)
    total = float(distances.sum())
    row_sums = distances.sum(axis=0)

    def statistic(membership: np.ndarray) -> np.ndarray:
        within_x = np.einsum("bi,bi->b", membership @ distances, membership)
        between = membership @ row_sums - within_x
        within_y = total - within_x - 2 * between
        return 2 * between / (n * m) - within_x / (n * n) - within_y / (m * m)

    observed_membership = np.zeros((1, n + m))
    observed_membership[0, :n] = 1.0
    observed = float(statistic(observed_membership)[0])
    if math.comb(n + m, n) <= permutations:
        # Few enough splits to enumerate: the exact permutation p-value (the observed split included).
        splits = np.array(list(itertools.combinations(range(n + m), n)))
        membership = np.zeros((len(splits), n + m))
        np.put_along_axis(membership, splits, 1.0, axis=1)
        exceed = int(np.count_nonzero(statistic(membership) >= observed - 1e-12))
        return observed, exceed / len(splits)
    order = np.argsort(rng.random((permutations, n + m)), axis=1)[:, :n]
    membership = np.zeros((permutations, n + m))
    np.put_along_axis(membership, order, 1.0, axis=1)
    permuted = statistic(membership)
    exceed = int(np.count_nonzero(permuted >= observed - 1e-12))
    return observed, (1 + exceed) / (permutations + 1)


def mann_whitney(
    baseline: Sequence[float] | np.ndarray, candidate: Sequence[float] | np.ndarray
) -> tuple[float, float]:
    """Two-sided Mann–Whitney U test: (Cliff's delta of candidate over baseline, p-value).

    Cliff's delta = P(candidate > baseline) - P(candidate < baseline), in [-1, 1]; it is the effect
    size compared with the minimum effect (about 0.15 is conventionally small, 0.33 medium).
    """
    from scipy import stats

    a = np.asarray(baseline, dtype=float)
    b = np.asarray(candidate, dtype=float)
    if a.size == 0 or b.size == 0:
        return 0.0, 1.0
    if np.all(a == a[0]) and np.all(b == a[0]):
        return 0.0, 1.0
    result = stats.mannwhitneyu(b, a, alternative="two-sided")
    delta = 2.0 * float(result.statistic) / (a.size * b.size) - 1.0
    return delta, float(min(1.0, result.pvalue))


def holm(p_values: Sequence[float], weights: Sequence[float] | None = None) -> list[float]:
    """Holm's step-down adjusted p-values, optionally weighted (Holm 1979).

    Rejecting every hypothesis with adjusted p <= alpha controls the family-wise error rate at alpha
    under any dependence. Weights give a metric a larger share of alpha (equal weights: plain Holm).
    """
    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return []
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=float)
    if np.any(w <= 0):
        raise ValueError("Holm weights must be positive")
    w = w / w.sum()
    order = np.argsort(p / w, kind="stable")
    remaining = w[order][::-1].cumsum()[::-1]
    stepped = np.minimum(1.0, p[order] * remaining / w[order])
    adjusted_sorted = np.maximum.accumulate(stepped)
    adjusted = np.empty_like(p)
    adjusted[order] = adjusted_sorted
    return [float(value) for value in adjusted]


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg step-up adjusted p-values (false discovery rate across many probes)."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, adjusted_sorted)
    return [float(value) for value in adjusted]
