"""Compare a candidate response set with a baseline: confounders, metrics, family-wise verdict, severity."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from monitor.drift._data import ResponseSet, _require_same_setup
from monitor.drift._metrics import Measured, greedy_mismatches, measure
from monitor.drift._policy import DriftPolicy, NoiseFloor, metric_kind
from monitor.drift._report import DriftReport, MetricResult, Severity
from monitor.drift._stats import holm
from monitor.errors import ComparisonError

__all__ = ["compare", "noise_floor"]


def compare(
    baseline: ResponseSet,
    candidate: ResponseSet,
    *,
    policy: DriftPolicy | None = None,
    noise_floor: NoiseFloor | None = None,
    rng_seed: int = 0,
) -> DriftReport:
    """Decide whether behaviour changed between two response sets of the same suite and sampling.

    Refuses (ComparisonError) sets made with different suite content or sampling, since their
    differences are not drift; reports a different engine kind or version in the notes. Every metric
    gets its test and raw p-value; the ones that can reach significance form one family adjusted by
    weighted Holm; a metric is flagged when its adjusted p <= alpha and its effect reaches its minimum
    effect, widened to the noise floor where reruns of one revision moved more than that.
    """
    policy = policy or DriftPolicy()
    _require_same_setup(baseline, candidate, what="baseline and candidate")
    if not baseline.records or not candidate.records:
        empty = "baseline" if not baseline.records else "candidate"
        raise ComparisonError(f"the {empty} has no responses; run the suite on that revision first")
    notes = _confounder_notes(baseline, candidate)
    baseline, candidate = _shared_probes(baseline, candidate, notes)
    expected = candidate.expected_identity or baseline.expected_identity
    if baseline.expected_identity and candidate.expected_identity and baseline.expected_identity != expected:
        notes.append(
            f"expected identity differs ({baseline.expected_identity} vs {expected}); "
            f"the expected-identity rate uses {expected}"
        )
    rng = np.random.default_rng(rng_seed)
    measured = measure(baseline, candidate, policy=policy, rng=rng, expected_identity=expected, noise_floor=noise_floor)
    metrics = _verdicts(measured, policy, noise_floor, notes)
    flagged = [metric for metric in metrics if metric.flagged]
    if noise_floor is not None:
        notes.append(
            f"noise floor from {noise_floor.runs} runs of one revision ({noise_floor.pairs} pairs) widened the "
            "minimum effects where run-to-run effects were larger"
        )
    return DriftReport(
        drift=bool(flagged),
        severity=_severity(flagged, expected, policy),
        metrics=tuple(metrics),
        notes=tuple(notes),
        noise_floor=noise_floor,
        baseline=_describe(baseline),
        candidate=_describe(candidate),
        policy=policy.to_json(),
    )


def noise_floor(runs: Sequence[ResponseSet], *, policy: DriftPolicy | None = None, rng_seed: int = 0) -> NoiseFloor:
    """Run-to-run noise from two or more runs of one revision: every pair is compared like a revision pair.

    For each metric the largest effect between any two runs is kept; greedy mismatches are summed over
    pairs to give the answer-mismatch rate its null. Runs must share suite content and sampling.
    """
    policy = policy or DriftPolicy()
    if len(runs) < 2:
        raise ComparisonError("a noise floor needs at least two runs of the same revision")
    effects: dict[str, float] = {}
    mismatches: dict[str, tuple[int, int]] = {}
    rng = np.random.default_rng(rng_seed)
    pairs = list(itertools.combinations(runs, 2))
    for first, second in pairs:
        _require_same_setup(first, second, what="runs of one revision")
        shared = set(first.probe_ids) & set(second.probe_ids)
        first, second = first.restricted_to(shared), second.restricted_to(shared)
        expected = first.expected_identity or second.expected_identity
        for item in measure(first, second, policy=policy, rng=rng, expected_identity=expected):
            name = item.result.name
            effects[name] = max(effects.get(name, 0.0), item.result.effect)
        for name, (differ, n) in greedy_mismatches(first, second).items():
            before = mismatches.get(name, (0, 0))
            mismatches[name] = (before[0] + differ, before[1] + n)
    for name in ("answer_mismatch_rate", "greedy_exact_match_rate"):
        if name in mismatches:
            differ, n = mismatches[name]
            effects[name] = differ / n if n else 0.0
    return NoiseFloor(runs=len(runs), pairs=len(pairs), effects=effects, mismatches=mismatches)


def _confounder_notes(baseline: ResponseSet, candidate: ResponseSet) -> list[str]:
    notes: list[str] = []
    if baseline.engine and candidate.engine and baseline.engine != candidate.engine:
        notes.append(
            f"confounder: different engine kinds ({baseline.engine} vs {candidate.engine}); "
            "differences may come from the engine, not the model"
        )
    elif baseline.engine_version and candidate.engine_version and baseline.engine_version != candidate.engine_version:
        notes.append(
            f"confounder: different engine versions ({baseline.engine_version} vs {candidate.engine_version}); "
            "differences may come from the engine, not the model"
        )
    if baseline.suite_hash is None or candidate.suite_hash is None:
        notes.append("suite content hash unknown (file mode): assumed to be the same suite version")
    if baseline.sampling is None or candidate.sampling is None:
        notes.append("sampling settings unknown (file mode): assumed to be the same")
    return notes


def _shared_probes(baseline: ResponseSet, candidate: ResponseSet, notes: list[str]) -> tuple[ResponseSet, ResponseSet]:
    """Compare on the probes both sides ran; say which were left out."""
    probes_b, probes_c = set(baseline.probe_ids), set(candidate.probe_ids)
    shared = probes_b & probes_c
    if not shared:
        raise ComparisonError(
            "baseline and candidate share no probe ids; were they run with the same suite? "
            f"(baseline e.g. {sorted(probes_b)[:3]}, candidate e.g. {sorted(probes_c)[:3]})"
        )
    if shared != probes_b or shared != probes_c:
        notes.append(
            f"compared on the {len(shared)} probes both sides ran; left out {len(probes_b - shared)} only in the "
            f"baseline and {len(probes_c - shared)} only in the candidate"
        )
        return baseline.restricted_to(shared), candidate.restricted_to(shared)
    return baseline, candidate


def _verdicts(
    measured: list[Measured], policy: DriftPolicy, floor: NoiseFloor | None, notes: list[str]
) -> list[MetricResult]:
    """Weighted Holm over the testable family; flag significant metrics whose effect reaches the minimum."""
    family = [i for i, item in enumerate(measured) if item.testable and item.min_p <= policy.alpha]
    adjusted = holm(
        [measured[i].result.p_value for i in family], [policy.weight(measured[i].result.name) for i in family]
    )
    adjusted_by_index = dict(zip(family, adjusted, strict=True))
    untestable: list[str] = []
    results: list[MetricResult] = []
    for i, item in enumerate(measured):
        result = item.result
        noise = floor.effect(result.name) if floor is not None else None
        min_effect = policy.min_effect(result.name)
        if noise is not None:
            min_effect = max(min_effect, policy.noise_multiplier * noise)
        if i in adjusted_by_index:
            p_adjusted = adjusted_by_index[i]
            significant = p_adjusted <= policy.alpha
            results.append(
                replace(
                    result,
                    p_adjusted=p_adjusted,
                    significant=significant,
                    min_effect=min_effect,
                    flagged=significant and result.effect >= min_effect - 1e-12,
                    in_family=True,
                    noise=noise,
                )
            )
        else:
            if item.testable:
                untestable.append(result.name)
            results.append(
                replace(result, p_adjusted=1.0, significant=False, min_effect=min_effect, in_family=False, noise=noise)
            )
    if untestable:
        notes.append(
            "too little data for these metrics to ever reach significance, so they were left out of the family: "
            + ", ".join(untestable)
        )
    return results


def _severity(flagged: list[MetricResult], expected: str | None, policy: DriftPolicy) -> Severity:
    """Grade the flagged metrics: major for the changes a reviewer must see today, else minor.

    Major: a foreign identity claim up (or the expected one down) by >= major_identity, accuracy down by
    >= major_accuracy, or think/truncation moved by >= major_format.
    """
    if not flagged:
        return "none"
    for metric in flagged:
        kind = metric_kind(metric.name)
        label = metric.name.split(":", 1)[1] if ":" in metric.name else None
        if kind == "claim_rate" and label not in (expected, "none") and metric.difference >= policy.major_identity:
            return "major"
        if kind == "expected_identity_rate" and metric.difference <= -policy.major_identity:
            return "major"
        if kind == "accuracy" and metric.difference <= -policy.major_accuracy:
            return "major"
        if kind == "think_present_rate" and metric.difference <= -policy.major_format:
            return "major"
        if kind == "truncation_rate" and metric.difference >= policy.major_format:
            return "major"
    return "minor"


def _describe(response_set: ResponseSet) -> dict[str, Any]:
    return {
        "name": response_set.name,
        "responses": len(response_set),
        "probes": len(response_set.probe_ids),
        "suite_hash": response_set.suite_hash,
        "engine": response_set.engine,
        "engine_version": response_set.engine_version,
        "run_ids": list(response_set.run_ids),
        "expected_identity": response_set.expected_identity,
    }
