"""Which recorded events become alerts, with what kind, severity, dedup key and evidence.

Each function takes the durable row that records the event (a change event, a run, a comparison, a
model's poll streak) and raises its alert in the caller's session. Keys are derived from the row, so
calling a rule twice for the same event (a retried step, a restarted service) never makes a second alert.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.alerts._outbox import Severity, dedup_key, raise_alert
from monitor.db import Alert, ChangeEvent, Comparison, Poll, Run, WatchedModel

__all__ = [
    "CHANGE_SEVERITY",
    "DRIFT_FAMILIES",
    "SECURITY_CHANGE_KINDS",
    "change_alert",
    "change_alert_key",
    "drift_alerts",
    "drift_family",
    "poll_failure_alert",
    "run_failed_alert",
    "run_failed_key",
]

SECURITY_CHANGE_KINDS = frozenset({"remote_code_changed", "pickle_weights_added", "history_rewritten"})
CHANGE_SEVERITY: dict[str, Severity] = {
    "remote_code_changed": "high",
    "pickle_weights_added": "high",
    "history_rewritten": "high",
    "weights_changed": "medium",
    "tokenizer_changed": "medium",
    "chat_template_changed": "medium",
    "generation_config_changed": "medium",
    "config_changed": "medium",
    "docs_only": "low",
    "endpoint_changed": "medium",
    "fingerprint_rebaselined": "low",
    "repo_gone": "medium",
    "repo_gated": "medium",
}
# The order in which kinds name an alert when one commit has several (the first present wins).
_CHANGE_PRIORITY = (
    "remote_code_changed",
    "pickle_weights_added",
    "history_rewritten",
    "weights_changed",
    "chat_template_changed",
    "tokenizer_changed",
    "generation_config_changed",
    "config_changed",
    "endpoint_changed",
    "repo_gone",
    "repo_gated",
)
# A first sighting is not news, nor is a new fingerprint baseline (the probe set changed, not the model).
_NOT_ALERTED = frozenset({"first_seen", "fingerprint_rebaselined"})
DRIFT_FAMILIES = ("identity", "reasoning", "format", "distribution")
_FAMILY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("distribution", ("embedding", "mmd", "energy", "distribution", "exact_match")),
    ("format", ("think", "truncat", "length", "format", "language", "chars", "tokens")),
    ("reasoning", ("accuracy", "correct", "reasoning", "mismatch", "answer")),
    ("identity", ("identity", "claim", "label", "consisten")),
)


def change_alert_key(event: ChangeEvent) -> str:
    """The dedup key of a change event's alert: one alert per event row, whatever the event says.

    The row, not its (from, to) pair, is the identity: a repository gone after being gated at the same
    head, gone a second time after coming back, or force-pushed back and forth between two revisions
    records a new event for each transition, and each one is news.
    """
    return dedup_key("hub.event", event.id)


def run_failed_key(run: Run) -> str:
    """The dedup key of a failed run's alert (one per run, however often it is retried)."""
    return dedup_key("run.failed", run.id)


def change_alert(session: Session, event: ChangeEvent, *, repo_id: str) -> Alert | None:
    """One alert per change event (``hub.<kind>`` of its most serious kind); none for a first sighting."""
    kinds = [str(kind) for kind in event.kinds if kind not in _NOT_ALERTED]
    if not kinds:
        return None
    primary = next((kind for kind in _CHANGE_PRIORITY if kind in kinds), kinds[0])
    severity = max((CHANGE_SEVERITY.get(kind, "medium") for kind in kinds), key=("low", "medium", "high").index)
    silent = " (silent: no version signal)" if event.silent else ""
    title = f"{repo_id}: {', '.join(kinds)} at {event.to_sha[:12]}{silent}"
    payload: dict[str, Any] = {
        "repo": repo_id,
        "from_sha": event.from_sha,
        "to_sha": event.to_sha,
        "kinds": kinds,
        "silent": event.silent,
        "commit_title": event.title,
        "committed_at": event.committed_at.isoformat() if event.committed_at else None,
        "change_event_id": event.id,
        # The small files' text stays in the database (the dashboard shows the diff); a message carries the rest.
        "details": {key: value for key, value in (event.details or {}).items() if key != "file_contents"},
    }
    return raise_alert(
        session,
        kind=f"hub.{primary}",
        severity=severity,
        dedup_key=change_alert_key(event),
        model_id=event.model_id,
        title=title,
        payload=payload,
    )


def run_failed_alert(session: Session, run: Run, *, repo_id: str, suite: str) -> Alert | None:
    """A run that ended in failure (the engine could not load, the worker died or timed out)."""
    return raise_alert(
        session,
        kind="run.failed",
        severity="medium",
        dedup_key=run_failed_key(run),
        model_id=run.model_id,
        title=f"{repo_id}: {suite} run {run.id} on {run.revision_sha[:12]} failed",
        payload={
            "repo": repo_id,
            "run_id": run.id,
            "suite": suite,
            "revision_sha": run.revision_sha,
            "engine": run.engine,
            "error": run.error,
        },
    )


def poll_failure_alert(session: Session, model: WatchedModel, *, threshold: int) -> Alert | None:
    """``poll.failed`` once per streak of failed polls, when the streak reaches ``threshold``.

    The streak is named by its first failed poll, so a longer streak does not alert again, and a new
    streak after a good poll does.
    """
    if model.consecutive_poll_failures < threshold:
        return None
    last_ok = session.scalar(sa.select(sa.func.max(Poll.id)).where(Poll.model_id == model.id, Poll.ok.is_(True)))
    first_failure = session.scalar(
        sa.select(sa.func.min(Poll.id)).where(
            Poll.model_id == model.id, Poll.ok.is_(False), Poll.id > (last_ok if last_ok is not None else 0)
        )
    )
    streak = first_failure if first_failure is not None else f"since-{model.last_polled_at}"
    return raise_alert(
        session,
        kind="poll.failed",
        severity="medium",
        dedup_key=dedup_key("poll.failed", model.id, streak),
        model_id=model.id,
        title=f"{model.repo_id}: {model.consecutive_poll_failures} polls in a row failed",
        payload={
            "repo": model.repo_id,
            "consecutive_failures": model.consecutive_poll_failures,
            "threshold": threshold,
            "last_error": model.last_poll_error,
            "last_polled_at": model.last_polled_at.isoformat() if model.last_polled_at else None,
        },
    )


def drift_family(metric: dict[str, Any]) -> str:
    """Which alert family a flagged metric belongs to (its own ``family`` field, else its name)."""
    explicit = metric.get("family") or metric.get("group")
    if isinstance(explicit, str) and explicit in DRIFT_FAMILIES:
        return explicit
    name = str(metric.get("name", "")).lower()
    for family, words in _FAMILY_WORDS:
        if any(word in name for word in words):
            return family
    return "distribution"


def drift_alerts(session: Session, comparison: Comparison, *, repo_id: str) -> list[Alert]:
    """One ``drift.<family>`` alert per family with a flagged metric in a comparison that found drift."""
    if not comparison.drift:
        return []
    metrics = [metric for metric in comparison.report.get("metrics", []) if _flagged(metric)]
    families: dict[str, list[dict[str, Any]]] = {}
    for metric in metrics:
        families.setdefault(drift_family(metric), []).append(metric)
    if not families:
        families["distribution" if not metrics else drift_family(metrics[0])] = []
    severity: Severity = "high" if comparison.severity == "major" else "medium"
    alerts: list[Alert] = []
    for family, flagged in families.items():
        names = ", ".join(str(metric.get("name")) for metric in flagged) or "verdict"
        alert = raise_alert(
            session,
            kind=f"drift.{family}",
            severity=severity,
            dedup_key=dedup_key(
                f"drift.{family}",
                comparison.model_id,
                comparison.suite_hash[:16],
                comparison.baseline_sha,
                comparison.candidate_sha,
                comparison.kind,
            ),
            model_id=comparison.model_id,
            title=(
                f"{repo_id}: {family} drift ({comparison.severity}) from {comparison.baseline_sha[:12]} "
                f"to {comparison.candidate_sha[:12]}: {names}"
            ),
            payload={
                "repo": repo_id,
                "comparison_id": comparison.id,
                "comparison_kind": comparison.kind,
                "baseline_sha": comparison.baseline_sha,
                "candidate_sha": comparison.candidate_sha,
                "verdict_severity": comparison.severity,
                "metrics": flagged,
                "notes": comparison.report.get("notes", []),
            },
        )
        if alert is not None:
            alerts.append(alert)
    return alerts


def _flagged(metric: Any) -> bool:
    if not isinstance(metric, dict):
        return False
    return bool(metric.get("drift", metric.get("flagged", metric.get("significant", False))))
