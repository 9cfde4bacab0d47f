"""Drift detection: statistics and comparison reports, pure (response sets in, a report out).

``compare(baseline, candidate)`` answers whether behaviour changed between two revisions, where, by how
much and how sure we are: identity claim rates, reasoning accuracy, greedy answer mismatch, answer
embeddings and format, each with its test, interval and Holm-adjusted p-value, and a verdict that needs
both significance and a minimum effect, widened by the run-to-run noise floor. No database, no engine.
"""

from monitor.drift._compare import compare, noise_floor
from monitor.drift._data import Category, ResponseRecord, ResponseSet, ThinkState
from monitor.drift._policy import DEFAULT_MIN_EFFECTS, DEFAULT_WEIGHTS, DriftPolicy, NoiseFloor, metric_kind
from monitor.drift._report import DriftReport, MetricResult, Severity, severity_order
from monitor.drift._stats import wilson_bounds, wilson_interval

__all__ = [
    "DEFAULT_MIN_EFFECTS",
    "DEFAULT_WEIGHTS",
    "Category",
    "DriftPolicy",
    "DriftReport",
    "MetricResult",
    "NoiseFloor",
    "ResponseRecord",
    "ResponseSet",
    "Severity",
    "ThinkState",
    "compare",
    "metric_kind",
    "noise_floor",
    "severity_order",
    "wilson_bounds",
    "wilson_interval",
]
