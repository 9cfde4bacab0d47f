"""Measure every metric of one baseline/candidate pair, before the family-wise verdict.

Each measurement returns the metric's values, difference, interval, test and raw p-value, plus the
smallest p-value its test could reach with these margins: metrics that cannot reach alpha at this
sample size are reported but kept out of the Holm family (Tarone 1990), so they cost no power.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from monitor.drift._data import ResponseRecord, ResponseSet
from monitor.drift._policy import DriftPolicy, NoiseFloor
from monitor.drift._report import MetricResult
from monitor.drift._stats import (
    benjamini_hochberg,
    bootstrap_mean_ci,
    bootstrap_median_difference_ci,
    energy_distance_test,
    fisher_exact,
    fisher_min_p,
    mann_whitney,
    newcombe_interval,
    paired_sign_flip_test,
    sign_flip_min_p,
    stratified_exact_test,
    stratified_min_p,
    wilson_interval,
)

__all__ = ["Measured", "greedy_mismatches", "measure"]

_MAX_EXACT_SCALE = 10_000
_MAX_LISTED_PROBES = 10


@dataclass(frozen=True)
class Measured:
    """A metric before adjustment: its result, the smallest reachable p, and whether it has a null at all."""

    result: MetricResult
    min_p: float
    testable: bool = True


def measure(
    baseline: ResponseSet,
    candidate: ResponseSet,
    *,
    policy: DriftPolicy,
    rng: np.random.Generator,
    expected_identity: str | None,
    noise_floor: NoiseFloor | None = None,
    embeddings: bool = True,
) -> list[Measured]:
    """All metrics the two sets have data for, in a stable order."""
    alpha_ci = 1 - policy.ci_level
    measured: list[Measured] = []
    measured += _identity(baseline.records, candidate.records, expected_identity, alpha_ci)
    consistency = _consistency(baseline, candidate, policy, rng, alpha_ci)
    if consistency is not None:
        measured.append(consistency)
    accuracy = _accuracy(baseline, candidate, policy, rng, alpha_ci)
    if accuracy is not None:
        measured.append(accuracy)
    measured += _greedy(baseline, candidate, noise_floor, alpha_ci)
    if embeddings:
        shift = _embedding_shift(baseline, candidate, policy, rng, alpha_ci)
        if shift is not None:
            measured.append(shift)
    measured += _format_rates(baseline.records, candidate.records, alpha_ci)
    measured += _lengths(baseline.records, candidate.records, policy, rng, alpha_ci)
    return measured


def _proportion(name: str, x_b: int, n_b: int, x_c: int, n_c: int, alpha_ci: float, *, detail: str = "") -> Measured:
    """A rate compared by Fisher's exact test, the difference with Newcombe's hybrid score interval."""
    odds_ratio, p_value = fisher_exact(x_c, n_c, x_b, n_b)
    rate_b, rate_c = x_b / n_b, x_c / n_c
    result = MetricResult(
        name=name,
        baseline=rate_b,
        candidate=rate_c,
        difference=rate_c - rate_b,
        ci=newcombe_interval(x_c, n_c, x_b, n_b, alpha=alpha_ci),
        test="Fisher exact (two-sided); Newcombe hybrid score CI",
        p_value=p_value,
        statistic=odds_ratio,
        effect=abs(rate_c - rate_b),
        n_baseline=n_b,
        n_candidate=n_c,
        detail=detail or f"{x_b}/{n_b} vs {x_c}/{n_c}",
    )
    return Measured(result, fisher_min_p(x_c, n_c, x_b, n_b))


def _identity(
    baseline: Sequence[ResponseRecord],
    candidate: Sequence[ResponseRecord],
    expected: str | None,
    alpha_ci: float,
) -> list[Measured]:
    labels_b = [r.label for r in baseline if r.category == "identity" and r.label is not None]
    labels_c = [r.label for r in candidate if r.category == "identity" and r.label is not None]
    if not labels_b or not labels_c:
        return []
    counts_b, counts_c = Counter(labels_b), Counter(labels_c)
    n_b, n_c = len(labels_b), len(labels_c)
    out: list[Measured] = []
    if expected is not None:
        out.append(_proportion("expected_identity_rate", counts_b[expected], n_b, counts_c[expected], n_c, alpha_ci))
    for label in sorted(set(counts_b) | set(counts_c)):
        if label != expected:
            out.append(_proportion(f"claim_rate:{label}", counts_b[label], n_b, counts_c[label], n_c, alpha_ci))
    return out


def _scale(counts: Sequence[int]) -> int | None:
    """Common denominator making per-unit means integers (exact sign-flip test), if it stays small."""
    scale = math.lcm(*counts) if counts else 1
    return scale if scale <= _MAX_EXACT_SCALE else None


def _paired(
    name: str,
    values_b: list[float],
    values_c: list[float],
    counts: list[int],
    unit_word: str,
    policy: DriftPolicy,
    rng: np.random.Generator,
    alpha_ci: float,
    n_b: int,
    n_c: int,
) -> Measured:
    """A per-unit mean compared by the exact paired sign-flip test with a bootstrap interval over units."""
    d = np.asarray(values_c) - np.asarray(values_b)
    p_value = paired_sign_flip_test(d, scale=_scale(counts), rng=rng)
    up, down = int(np.count_nonzero(d > 1e-12)), int(np.count_nonzero(d < -1e-12))
    result = MetricResult(
        name=name,
        baseline=float(np.mean(values_b)),
        candidate=float(np.mean(values_c)),
        difference=float(d.mean()),
        ci=bootstrap_mean_ci(d, rng=rng, resamples=policy.bootstrap, alpha=alpha_ci),
        test=f"paired sign-flip permutation over {unit_word} (exact); bootstrap CI over {unit_word}",
        p_value=p_value,
        statistic=float(d.sum()),
        effect=abs(float(d.mean())),
        n_baseline=n_b,
        n_candidate=n_c,
        detail=f"{len(d)} {unit_word} paired: {up} up, {down} down, {len(d) - up - down} unchanged",
    )
    return Measured(result, sign_flip_min_p(d))


def _consistency(
    baseline: ResponseSet, candidate: ResponseSet, policy: DriftPolicy, rng: np.random.Generator, alpha_ci: float
) -> Measured | None:
    """Per-probe identity consistency: the share of a probe's samples that agree with its modal label."""

    def per_probe(response_set: ResponseSet) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for r in response_set.records:
            if r.category == "identity" and r.label is not None:
                groups.setdefault(r.probe_id, []).append(r.label)
        return {probe: labels for probe, labels in groups.items() if len(labels) >= 2}

    groups_b, groups_c = per_probe(baseline), per_probe(candidate)
    probes = [probe for probe in groups_b if probe in groups_c]
    if not probes:
        return None
    values_b = [Counter(groups_b[p]).most_common(1)[0][1] / len(groups_b[p]) for p in probes]
    values_c = [Counter(groups_c[p]).most_common(1)[0][1] / len(groups_c[p]) for p in probes]
    counts = sorted({len(groups_b[p]) for p in probes} | {len(groups_c[p]) for p in probes})
    n_b = sum(len(groups_b[p]) for p in probes)
    n_c = sum(len(groups_c[p]) for p in probes)
    return _paired("identity_consistency", values_b, values_c, counts, "probes", policy, rng, alpha_ci, n_b, n_c)


def _accuracy(
    baseline: ResponseSet, candidate: ResponseSet, policy: DriftPolicy, rng: np.random.Generator, alpha_ci: float
) -> Measured | None:
    """Reasoning accuracy paired by problem: exact stratified test over problems, bootstrap CI over problems."""

    def per_problem(response_set: ResponseSet) -> dict[str, list[bool]]:
        groups: dict[str, list[bool]] = {}
        for r in response_set.records:
            if r.correct is not None:
                groups.setdefault(r.probe_id, []).append(r.correct)
        return groups

    groups_b, groups_c = per_problem(baseline), per_problem(candidate)
    problems = [problem for problem in groups_b if problem in groups_c]
    if not problems:
        return None
    correct_b = [sum(groups_b[p]) for p in problems]
    correct_c = [sum(groups_c[p]) for p in problems]
    trials_b = [len(groups_b[p]) for p in problems]
    trials_c = [len(groups_c[p]) for p in problems]
    values_b = np.array(correct_b) / np.array(trials_b)
    values_c = np.array(correct_c) / np.array(trials_c)
    d = values_c - values_b
    observed, expected, p_value = stratified_exact_test(correct_b, trials_b, correct_c, trials_c)
    up, down = int(np.count_nonzero(d > 1e-12)), int(np.count_nonzero(d < -1e-12))
    result = MetricResult(
        name="accuracy",
        baseline=float(values_b.mean()),
        candidate=float(values_c.mean()),
        difference=float(d.mean()),
        ci=bootstrap_mean_ci(d, rng=rng, resamples=policy.bootstrap, alpha=alpha_ci),
        test="exact stratified permutation over problems (Mantel–Haenszel type); bootstrap CI over problems",
        p_value=p_value,
        statistic=observed - expected,
        effect=abs(float(d.mean())),
        n_baseline=sum(trials_b),
        n_candidate=sum(trials_c),
        detail=(
            f"{len(problems)} problems paired: {up} better, {down} worse, {len(problems) - up - down} unchanged; "
            f"candidate correct {observed:.0f} vs {expected:.1f} expected under no change"
        ),
    )
    return Measured(result, stratified_min_p(correct_b, trials_b, correct_c, trials_c))


def _answer_key(record: ResponseRecord) -> str:
    """What "the same answer" means for the mismatch rate: extracted answer, identity label, or text."""
    if record.category == "reasoning" and record.extracted is not None:
        return "answer:" + record.extracted.strip()
    if record.category == "identity" and record.label is not None:
        return "label:" + record.label
    return "text:" + " ".join(record.answer_text.lower().split())


def greedy_mismatches(baseline: ResponseSet, candidate: ResponseSet) -> dict[str, tuple[int, int]]:
    """(differing probes, probes compared) of greedy samples (sample 0): answers, and exact texts."""
    greedy_b = {r.probe_id: r for r in baseline.records if r.sample_index == 0}
    greedy_c = {r.probe_id: r for r in candidate.records if r.sample_index == 0}
    probes = [p for p in greedy_b if p in greedy_c]
    if not probes:
        return {}
    answers = sum(_answer_key(greedy_b[p]) != _answer_key(greedy_c[p]) for p in probes)
    texts = sum(greedy_b[p].answer_text.strip() != greedy_c[p].answer_text.strip() for p in probes)
    return {"answer_mismatch_rate": (answers, len(probes)), "greedy_exact_match_rate": (texts, len(probes))}


def _greedy(
    baseline: ResponseSet, candidate: ResponseSet, noise_floor: NoiseFloor | None, alpha_ci: float
) -> list[Measured]:
    """Answer mismatch (Chen, Zaharia & Zou 2023) and exact match of greedy answers between revisions.

    Greedy decoding of unchanged weights should repeat itself, but engines are not bit-exact (batching,
    kernels), so the null is the mismatch between reruns of one revision: tested (one-sided Fisher)
    only when the noise floor measured it, otherwise reported as a description.
    """
    from scipy import stats

    out: list[Measured] = []
    for name, (differ, n) in greedy_mismatches(baseline, candidate).items():
        exact = name == "greedy_exact_match_rate"
        rerun = noise_floor.mismatches.get(name) if noise_floor is not None else None
        rate = differ / n
        value_c = 1 - rate if exact else rate
        if rerun is not None and rerun[1] > 0:
            differ_0, n_0 = rerun
            rate_0 = differ_0 / n_0
            table = [[differ, n - differ], [differ_0, n_0 - differ_0]]
            p_value = float(stats.fisher_exact(table, alternative="greater").pvalue)
            lo, hi = newcombe_interval(differ, n, differ_0, n_0, alpha=alpha_ci)
            value_b = 1 - rate_0 if exact else rate_0
            ci = (-hi, -lo) if exact else (lo, hi)
            result = MetricResult(
                name=name,
                baseline=value_b,
                candidate=value_c,
                difference=value_c - value_b,
                ci=ci,
                test="Fisher exact (one-sided) against reruns of one revision",
                p_value=min(1.0, p_value),
                effect=abs(value_c - value_b),
                n_baseline=n_0,
                n_candidate=n,
                detail=f"greedy answers differing between revisions {differ}/{n}, between reruns {differ_0}/{n_0}",
            )
            out.append(Measured(result, fisher_min_p(differ, n, differ_0, n_0)))
        else:
            value_b = 1.0 if exact else 0.0
            lo, hi = wilson_interval(differ, n, alpha=alpha_ci)
            ci = (-hi, -lo) if exact else (lo, hi)
            result = MetricResult(
                name=name,
                baseline=value_b,
                candidate=value_c,
                difference=value_c - value_b,
                ci=ci,
                test="descriptive: no rerun of one revision to test against (baseline assumes repeatable greedy)",
                p_value=1.0,
                effect=abs(value_c - value_b),
                n_baseline=n,
                n_candidate=n,
                in_family=False,
                detail=f"greedy answers differing between revisions: {differ}/{n} probes",
            )
            out.append(Measured(result, 1.0, testable=False))
    return out


def _embedding_shift(
    baseline: ResponseSet, candidate: ResponseSet, policy: DriftPolicy, rng: np.random.Generator, alpha_ci: float
) -> Measured | None:
    """Per-probe energy-distance tests on answer embeddings, Benjamini–Hochberg across probes.

    The metric is the share of probes whose answer distribution moved (BH at ``probe_fdr``). Its p-value,
    the one that enters the family, is Fisher's combination of the per-probe p-values: probes are
    sampled independently, so it tests "no probe moved" and, unlike the smallest BH-adjusted p, it adds
    up many probes that each moved a little.
    """
    from scipy import stats
    from threadpoolctl import threadpool_limits


    def per_probe(response_set: ResponseSet) -> dict[str, list[np.ndarray]]:
        groups: dict[str, list[np.ndarray]] = {}
        for r in response_set.records:
            if r.embedding is not None:
                groups.setdefault(r.probe_id, []).append(np.asarray(r.embedding, dtype=float))
        return groups

    groups_b, groups_c = per_probe(baseline), per_probe(candidate)
    minimum = policy.min_samples_per_probe
    probes = [p for p in groups_b if p in groups_c and len(groups_b[p]) >= minimum and len(groups_c[p]) >= minimum]
    if not probes:
        return None
    p_values: list[float] = []
    min_ps: list[float] = []
    # Many small matrix products: BLAS threads cost more than they save here (20x on two cores).
    with threadpool_limits(limits=1, user_api="blas"):
        for probe in probes:
            x, y = np.vstack(groups_b[probe]), np.vstack(groups_c[probe])
            _, p_value = energy_distance_test(x, y, permutations=policy.permutations, rng=rng)
            p_values.append(p_value)
            min_ps.append(max(1 / (policy.permutations + 1), 1 / math.comb(len(x) + len(y), len(x))))
    adjusted = benjamini_hochberg(p_values)
    combined = stats.combine_pvalues(p_values, method="fisher")
    moved = [probe for probe, p in zip(probes, adjusted, strict=True) if p <= policy.probe_fdr]
    share = len(moved) / len(probes)
    listed = ", ".join(moved[:_MAX_LISTED_PROBES]) + (" ..." if len(moved) > _MAX_LISTED_PROBES else "")
    result = MetricResult(
        name="embedding_shift",
        baseline=0.0,
        candidate=share,
        difference=share,
        ci=wilson_interval(len(moved), len(probes), alpha=alpha_ci),
        test=(
            f"energy distance per probe ({policy.permutations} permutations), Benjamini–Hochberg across "
            f"{len(probes)} probes; Fisher's combination as the global p"
        ),
        p_value=float(min(1.0, combined.pvalue)),
        statistic=float(combined.statistic),
        effect=share,
        n_baseline=sum(len(groups_b[p]) for p in probes),
        n_candidate=sum(len(groups_c[p]) for p in probes),
        detail=f"{len(moved)}/{len(probes)} probes moved (BH q={policy.probe_fdr})" + (f": {listed}" if moved else ""),
    )
    return Measured(result, float(stats.combine_pvalues(min_ps, method="fisher").pvalue))


def _format_rates(
    baseline: Sequence[ResponseRecord], candidate: Sequence[ResponseRecord], alpha_ci: float
) -> list[Measured]:
    out: list[Measured] = []
    rates: list[tuple[str, Callable[[ResponseRecord], bool | None]]] = [
        ("think_present_rate", lambda r: r.think_present),
        ("truncation_rate", lambda r: r.truncated),
        (
            "language_mismatch_rate",
            lambda r: None if r.language is None or r.prompt_language is None else r.language != r.prompt_language,
        ),
    ]
    for name, predicate in rates:
        values_b = [v for v in map(predicate, baseline) if v is not None]
        values_c = [v for v in map(predicate, candidate) if v is not None]
        if values_b and values_c:
            out.append(_proportion(name, sum(values_b), len(values_b), sum(values_c), len(values_c), alpha_ci))
    return out


def _lengths(
    baseline: Sequence[ResponseRecord],
    candidate: Sequence[ResponseRecord],
    policy: DriftPolicy,
    rng: np.random.Generator,
    alpha_ci: float,
) -> list[Measured]:
    out: list[Measured] = []
    lengths: list[tuple[str, Callable[[ResponseRecord], int | None], str]] = [
        ("answer_chars", lambda r: r.answer_chars, "chars"),
        ("completion_tokens", lambda r: r.completion_tokens, "tokens"),
    ]
    for name, value, unit in lengths:
        values_b = [float(v) for v in map(value, baseline) if v is not None]
        values_c = [float(v) for v in map(value, candidate) if v is not None]
        if not values_b or not values_c:
            continue
        delta, p_value = mann_whitney(values_b, values_c)
        median_b, median_c = float(np.median(values_b)), float(np.median(values_c))
        constant = len(set(values_b) | set(values_c)) == 1
        result = MetricResult(
            name=name,
            baseline=median_b,
            candidate=median_c,
            difference=median_c - median_b,
            ci=bootstrap_median_difference_ci(values_b, values_c, rng=rng, resamples=policy.bootstrap, alpha=alpha_ci),
            test="Mann–Whitney U (two-sided) on the distributions; medians; Cliff's delta as effect",
            p_value=p_value,
            statistic=delta,
            effect=abs(delta),
            n_baseline=len(values_b),
            n_candidate=len(values_c),
            unit="chars" if unit == "chars" else "tokens",
            detail=f"median {median_b:.0f} -> {median_c:.0f} {unit}; Cliff's delta {delta:+.3f}",
        )
        min_p = 1.0 if constant else min(1.0, 2 / math.comb(len(values_b) + len(values_c), len(values_b)))
        out.append(Measured(result, min_p))
    return out
