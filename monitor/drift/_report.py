"""The drift report: one result per metric, the verdict, notes; as JSON (the CLI contract) and Markdown."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from monitor.drift._policy import NoiseFloor

__all__ = ["DriftReport", "MetricResult", "Severity", "severity_order"]

Severity = Literal["none", "minor", "major"]
_FAMILIES = {
    "claim_rate": "identity",
    "expected_identity_rate": "identity",
    "identity_consistency": "identity",
    "accuracy": "reasoning",
    "answer_mismatch_rate": "reasoning",
    "greedy_exact_match_rate": "distribution",
    "embedding_shift": "distribution",
    "think_present_rate": "format",
    "truncation_rate": "format",
    "language_mismatch_rate": "format",
    "answer_chars": "format",
    "completion_tokens": "format",
}
Unit = Literal["proportion", "chars", "tokens"]


def _number(value: float | None, digits: int = 6) -> float | None:
    """JSON has no NaN or infinity: such values become null; others are rounded for stable output."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


@dataclass(frozen=True)
class MetricResult:
    """One metric: both values, the difference with its interval, the test, and whether it is flagged.

    ``effect`` is the magnitude compared with ``min_effect`` (|difference| for rates, |Cliff's delta|
    for lengths, the share of moved probes for embeddings). ``in_family`` says whether the metric took
    part in the Holm family; metrics without a null (or without enough data) are reported but never
    flag. ``noise`` is the run-to-run effect seen between reruns of one revision, when known.
    """

    name: str
    baseline: float
    candidate: float
    difference: float
    ci: tuple[float, float]
    test: str
    p_value: float
    p_adjusted: float = 1.0
    significant: bool = False
    statistic: float | None = None
    effect: float = 0.0
    min_effect: float = 0.0
    flagged: bool = False
    n_baseline: int = 0
    n_candidate: int = 0
    in_family: bool = True
    noise: float | None = None
    unit: Unit = "proportion"
    detail: str = ""

    @property
    def family(self) -> str:
        """The alert family of the metric: identity, reasoning, format or distribution."""
        return _FAMILIES.get(self.name.split(":", 1)[0], "distribution")

    def to_json(self) -> dict[str, Any]:
        """The metric as in the CLI contract, plus the explanatory extra keys."""
        return {
            "name": self.name,
            "family": self.family,
            "baseline": _number(self.baseline),
            "candidate": _number(self.candidate),
            "difference": _number(self.difference),
            "ci": [_number(self.ci[0]), _number(self.ci[1])],
            "test": self.test,
            "p_value": _number(self.p_value, 8),
            "p_adjusted": _number(self.p_adjusted, 8),
            "significant": self.significant,
            "statistic": _number(self.statistic),
            "effect": _number(self.effect),
            "min_effect": _number(self.min_effect),
            "flagged": self.flagged,
            "n_baseline": self.n_baseline,
            "n_candidate": self.n_candidate,
            "in_family": self.in_family,
            "noise": _number(self.noise),
            "unit": self.unit,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> MetricResult:
        """Inverse of ``to_json`` (for reports read back from the database)."""

        def number(key: str, default: float = math.nan) -> float:
            value = document.get(key)
            return default if value is None else float(value)

        ci = document.get("ci") or [None, None]
        return cls(
            name=str(document["name"]),
            baseline=number("baseline"),
            candidate=number("candidate"),
            difference=number("difference"),
            ci=(math.nan if ci[0] is None else float(ci[0]), math.nan if ci[1] is None else float(ci[1])),
            test=str(document["test"]),
            p_value=number("p_value", 1.0),
            p_adjusted=number("p_adjusted", 1.0),
            significant=bool(document.get("significant", False)),
            statistic=None if document.get("statistic") is None else float(document["statistic"]),
            effect=number("effect", 0.0),
            min_effect=number("min_effect", 0.0),
            flagged=bool(document.get("flagged", False)),
            n_baseline=int(document.get("n_baseline", 0)),
            n_candidate=int(document.get("n_candidate", 0)),
            in_family=bool(document.get("in_family", True)),
            noise=None if document.get("noise") is None else float(document["noise"]),
            unit=document.get("unit", "proportion"),
            detail=str(document.get("detail", "")),
        )

    def format_value(self, value: float) -> str:
        """A value as a reviewer reads it: rates in percent, lengths as numbers."""
        if not math.isfinite(value):
            return "n/a"
        return f"{100 * value:.1f}%" if self.unit == "proportion" else f"{value:.0f}"

    def format_difference(self, value: float) -> str:
        """A difference: percentage points for rates, signed numbers for lengths."""
        if not math.isfinite(value):
            return "n/a"
        return f"{100 * value:+.1f} pts" if self.unit == "proportion" else f"{value:+.0f}"


@dataclass(frozen=True)
class DriftReport:
    """The answer to "did the behaviour change, where, by how much, and how sure are we"."""

    drift: bool
    severity: Severity
    metrics: tuple[MetricResult, ...]
    notes: tuple[str, ...] = ()
    noise_floor: NoiseFloor | None = None
    baseline: Mapping[str, Any] = field(default_factory=dict)
    candidate: Mapping[str, Any] = field(default_factory=dict)
    policy: Mapping[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[MetricResult]:
        """The metrics that carry the verdict."""
        return [metric for metric in self.metrics if metric.flagged]

    def metric(self, name: str) -> MetricResult:
        """The result for one metric name (KeyError when it was not computed)."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """``{"drift", "severity", "metrics": [...], "notes": [...]}`` plus noise floor and provenance."""
        return {
            "drift": self.drift,
            "severity": self.severity,
            "metrics": [metric.to_json() for metric in self.metrics],
            "notes": list(self.notes),
            "noise_floor": None if self.noise_floor is None else self.noise_floor.to_json(),
            "baseline": dict(self.baseline),
            "candidate": dict(self.candidate),
            "policy": dict(self.policy),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> DriftReport:
        """Inverse of ``to_json`` (the dashboard and the pipeline re-read stored reports)."""
        floor = document.get("noise_floor")
        return cls(
            drift=bool(document["drift"]),
            severity=document["severity"],
            metrics=tuple(MetricResult.from_json(metric) for metric in document.get("metrics", [])),
            notes=tuple(str(note) for note in document.get("notes", [])),
            noise_floor=None if floor is None else NoiseFloor.from_json(floor),
            baseline=dict(document.get("baseline", {})),
            candidate=dict(document.get("candidate", {})),
            policy=dict(document.get("policy", {})),
        )

    def summary(self) -> str:
        """One line for logs, alerts and the demo: the verdict and the flagged metrics."""
        if not self.drift:
            return "no drift"
        parts = [
            f"{m.name} {m.format_value(m.baseline)} -> {m.format_value(m.candidate)} (p_adj {m.p_adjusted:.2g})"
            for m in self.flagged
        ]
        return f"{self.severity} drift: " + "; ".join(parts)

    def to_markdown(self) -> str:
        """The report as Markdown for reviewers. Model text never appears in it, only ids and numbers."""
        baseline = _escape(str(self.baseline.get("name") or "baseline"))
        candidate = _escape(str(self.candidate.get("name") or "candidate"))
        verdict = f"**{self.severity} drift**" if self.drift else "**no drift**"
        lines = [
            f"# Drift report: {baseline} → {candidate}",
            "",
            f"Verdict: {verdict}. A metric is flagged when its Holm-adjusted p-value is at most "
            f"{self.policy.get('alpha', 'alpha')} and its effect reaches the minimum effect.",
            "",
        ]
        for side, info in (("Baseline", self.baseline), ("Candidate", self.candidate)):
            if info:
                engine = " ".join(str(info.get(key) or "") for key in ("engine", "engine_version")).strip()
                lines.append(
                    f"- {side} {_escape(str(info.get('name') or ''))}: {info.get('responses', '?')} responses, "
                    f"{info.get('probes', '?')} probes" + (f", engine {_escape(engine)}" if engine else "")
                )
        lines += [
            "",
            "| metric | baseline | candidate | difference | 95% CI | test | p | p adj. | effect (min) | flagged |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for m in sorted(self.metrics, key=lambda metric: (not metric.flagged, not metric.in_family, metric.name)):
            ci = f"{m.format_difference(m.ci[0])} … {m.format_difference(m.ci[1])}"
            effect = f"{m.effect:.3f} ({m.min_effect:.3f})"
            flag = "**yes**" if m.flagged else ("significant" if m.significant else "no")
            p_adjusted = f"{m.p_adjusted:.3g}" if m.in_family else "not tested"
            lines.append(
                f"| {_escape(m.name)} | {m.format_value(m.baseline)} | {m.format_value(m.candidate)} | "
                f"{m.format_difference(m.difference)} | {ci} | {_escape(m.test)} | {m.p_value:.3g} | "
                f"{p_adjusted} | {effect} | {flag} |"
            )
        details = [m for m in self.metrics if m.detail]
        if details:
            lines += ["", "## Details", ""]
            lines += [f"- **{_escape(m.name)}**: {_escape(m.detail)}" for m in details]
        if self.noise_floor is not None:
            lines += [
                "",
                "## Noise floor",
                "",
                f"{self.noise_floor.runs} runs of one revision ({self.noise_floor.pairs} pairs); minimum effects "
                "were widened to the run-to-run effects below where those were larger.",
                "",
            ]
            lines += [f"- {_escape(name)}: {value:.3f}" for name, value in sorted(self.noise_floor.effects.items())]
        if self.notes:
            lines += ["", "## Notes", ""]
            lines += [f"- {_escape(note)}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Keep table cells intact and stop Markdown from interpreting ids (they are plain text)."""
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for char in "*_`<>[]":
        out = out.replace(char, "\\" + char)
    return out


def severity_order(severity: Severity) -> int:
    """Rank severities (none < minor < major), for picking the worst of several reports."""
    return {"none": 0, "minor": 1, "major": 2}[severity]
