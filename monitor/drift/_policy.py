"""How strict the verdict is: family-wise alpha, minimum effects, weights, severity thresholds, noise floor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["DEFAULT_MIN_EFFECTS", "DEFAULT_WEIGHTS", "DriftPolicy", "NoiseFloor", "metric_kind"]

DEFAULT_MIN_EFFECTS: Mapping[str, float] = MappingProxyType(
    {
        # Proportions, as absolute differences (0.05 = 5 percentage points).
        "claim_rate": 0.05,
        "expected_identity_rate": 0.05,
        "accuracy": 0.05,
        "think_present_rate": 0.05,
        "truncation_rate": 0.05,
        "language_mismatch_rate": 0.05,
        "answer_mismatch_rate": 0.05,
        "greedy_exact_match_rate": 0.05,
        # Mean per-probe share of the modal identity label.
        "identity_consistency": 0.10,
        # Share of probes whose answer-embedding distribution moved.
        "embedding_shift": 0.10,
        # Length distributions: |Cliff's delta| (0.15 small, 0.33 medium by convention).
        "answer_chars": 0.20,
        "completion_tokens": 0.20,
    }
)

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        # Weighted Holm: the questions reviewers ask first (who does it say it is, can it still reason) get
        # the larger shares of alpha; format and length metrics are supporting evidence. Weights are
        # normalised over the metrics present, so an identity suite's share goes to identity metrics.
        "claim_rate": 2.0,
        "expected_identity_rate": 2.0,
        "accuracy": 6.0,
        "identity_consistency": 1.0,
        "embedding_shift": 1.0,
        "answer_mismatch_rate": 1.0,
        "greedy_exact_match_rate": 1.0,
        "think_present_rate": 1.0,
        "truncation_rate": 1.0,
        "language_mismatch_rate": 0.5,
        "answer_chars": 0.5,
        "completion_tokens": 0.5,
    }
)


def metric_kind(name: str) -> str:
    """The kind of a metric name: ``claim_rate:openai`` -> ``claim_rate``."""
    return name.split(":", 1)[0]


@dataclass(frozen=True)
class DriftPolicy:
    """The verdict's rules. Defaults target <= 1% false alarms per comparison (alpha 0.01, family-wise).

    A metric is *flagged* when its Holm-adjusted p-value is <= ``alpha`` AND its effect is >= its
    minimum effect (widened by the noise floor where reruns show more noise); ``drift`` is true when any
    metric is flagged. ``major`` severity: a flagged rise of a foreign identity claim (or fall of the
    expected one) by >= ``major_identity``, an accuracy drop >= ``major_accuracy``, or a think/truncation
    change >= ``major_format``; any other flagged metric is ``minor``.
    """

    alpha: float = 0.01
    probe_fdr: float = 0.05
    permutations: int = 4999
    bootstrap: int = 2000
    ci_level: float = 0.95
    min_samples_per_probe: int = 4
    noise_multiplier: float = 1.0
    major_identity: float = 0.15
    major_accuracy: float = 0.10
    major_format: float = 0.25
    min_effects: Mapping[str, float] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1 or not 0 < self.probe_fdr < 1:
            raise ValueError("alpha and probe_fdr must be between 0 and 1")
        if self.permutations < 1000:
            raise ValueError("use at least 1000 permutations for the embedding test")
        unknown = (set(self.min_effects) | set(self.weights)) - set(DEFAULT_MIN_EFFECTS)
        if unknown:
            raise ValueError(f"unknown metric kinds {sorted(unknown)}; known: {sorted(DEFAULT_MIN_EFFECTS)}")

    def min_effect(self, name: str) -> float:
        """Minimum effect for a metric (by kind), before noise-floor widening."""
        kind = metric_kind(name)
        return float(self.min_effects.get(kind, DEFAULT_MIN_EFFECTS[kind]))

    def weight(self, name: str) -> float:
        """Share-of-alpha weight of a metric (by kind) in the weighted Holm procedure."""
        kind = metric_kind(name)
        return float(self.weights.get(kind, DEFAULT_WEIGHTS[kind]))

    def to_json(self) -> dict[str, Any]:
        """The policy as stored with each report (so a verdict can be re-read with its rules)."""
        return {
            "alpha": self.alpha,
            "probe_fdr": self.probe_fdr,
            "permutations": self.permutations,
            "min_effects": {kind: self.min_effect(kind) for kind in DEFAULT_MIN_EFFECTS},
            "weights": {kind: self.weight(kind) for kind in DEFAULT_WEIGHTS},
        }


@dataclass(frozen=True)
class NoiseFloor:
    """Run-to-run noise observed between runs of the same revision.

    ``effects`` maps a metric name to the largest effect seen between two runs of one revision (same
    scale as the metric's ``effect``); ``mismatches`` maps the greedy metrics to (mismatching probes,
    probes compared) between reruns, which gives the answer-mismatch rate a null to test against.
    """

    runs: int
    pairs: int
    effects: Mapping[str, float] = field(default_factory=dict)
    mismatches: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def combine(cls, floors: Sequence[NoiseFloor]) -> NoiseFloor | None:
        """Several noise floors (per suite, baseline and candidate reruns) as one.

        Keeps the largest effect per metric and pools the greedy mismatch counts; None when given none.
        """
        if not floors:
            return None
        effects: dict[str, float] = {}
        mismatches: dict[str, tuple[int, int]] = {}
        for floor in floors:
            for name, value in floor.effects.items():
                effects[name] = max(effects.get(name, 0.0), value)
            for name, (differ, n) in floor.mismatches.items():
                before = mismatches.get(name, (0, 0))
                mismatches[name] = (before[0] + differ, before[1] + n)
        for name, (differ, n) in mismatches.items():
            effects[name] = differ / n if n else 0.0
        return cls(
            runs=sum(f.runs for f in floors),
            pairs=sum(f.pairs for f in floors),
            effects=effects,
            mismatches=mismatches,
        )

    def effect(self, name: str) -> float | None:
        """Observed run-to-run effect for a metric, if the reruns measured it."""
        return self.effects.get(name)

    def to_json(self) -> dict[str, Any]:
        """As reported under ``noise_floor`` in the report JSON."""
        return {
            "runs": self.runs,
            "pairs": self.pairs,
            "effects": {name: round(value, 6) for name, value in sorted(self.effects.items())},
            "mismatches": {name: list(value) for name, value in sorted(self.mismatches.items())},
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> NoiseFloor:
        """Inverse of ``to_json``."""
        return cls(
            runs=int(document["runs"]),
            pairs=int(document["pairs"]),
            effects={str(k): float(v) for k, v in document.get("effects", {}).items()},
            mismatches={str(k): (int(v[0]), int(v[1])) for k, v in document.get("mismatches", {}).items()},
        )
