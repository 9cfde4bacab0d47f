"""The outbox: an alert is a row written in the same transaction as the event that caused it.

Delivery happens later (``deliver_pending``), so an alert can never be lost between "something happened"
and "somebody was told": if the process dies before delivery, the row is still there on restart. The
``dedup_key`` is unique in the table; writing the same alert twice is a no-op, which is what makes every
step that raises alerts safe to repeat.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor._redact import redact, redact_data
from monitor.db import Alert, WatchedModel, conflict_insert, utcnow
from monitor.errors import AlertError

__all__ = [
    "SEVERITIES",
    "Severity",
    "acknowledge",
    "dedup_key",
    "list_alerts",
    "raise_alert",
    "severity_at_least",
]

Severity = Literal["low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high")


def severity_at_least(severity: str, minimum: str) -> bool:
    """True when ``severity`` is ``minimum`` or worse (low < medium < high)."""
    return SEVERITIES.index(cast(Severity, severity)) >= SEVERITIES.index(cast(Severity, minimum))


def dedup_key(kind: str, *parts: object) -> str:
    """The identity of an alert: its kind and what it is about, e.g. ``run.failed:42``."""
    return ":".join([kind, *("-" if part is None else str(part) for part in parts)])[:300]


def raise_alert(
    session: Session,
    *,
    kind: str,
    severity: Severity,
    dedup_key: str,
    model_id: int | None,
    title: str,
    payload: dict[str, Any],
) -> Alert | None:
    """Insert an alert in the caller's transaction; None when an alert with this dedup key already exists.

    ``INSERT ... ON CONFLICT (dedup_key) DO NOTHING`` on both SQLite and PostgreSQL, so a duplicate neither
    raises nor aborts the caller's transaction (no savepoint dance needed).
    """
    if severity not in SEVERITIES:
        raise AlertError(f"alert severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    values = {
        "kind": kind,
        "severity": severity,
        "dedup_key": dedup_key,
        "model_id": model_id,
        "title": redact(title),  # titles and payloads quote repo URLs and error texts
        "payload": redact_data(payload),
        "status": "pending",
        "attempts": 0,
        "created_at": utcnow(),
    }
    statement = (
        conflict_insert(session, Alert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(Alert.id)
    )
    alert_id = session.execute(statement).scalar_one_or_none()
    if alert_id is None:
        return None
    return session.get(Alert, alert_id)


def list_alerts(
    session: Session, *, status: str | None = None, unacknowledged: bool = False, limit: int = 100
) -> list[tuple[Alert, str | None]]:
    """The newest alerts first, each with the repo it is about (None for service-wide alerts)."""
    query = (
        sa.select(Alert, WatchedModel.repo_id)
        .outerjoin(WatchedModel, WatchedModel.id == Alert.model_id)
        .order_by(Alert.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Alert.status == status)
    if unacknowledged:
        query = query.where(Alert.acknowledged_at.is_(None))
    return [(alert, repo) for alert, repo in session.execute(query).all()]


def acknowledge(session: Session, alert_id: int, *, by: str, comment: str | None = None) -> Alert:
    """Record that a reviewer has seen an alert (who, when, why); acknowledging twice is refused."""
    if not by.strip():
        raise AlertError("say who acknowledges the alert: --by NAME")
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertError(f"alert {alert_id} does not exist (see: drift-monitor alerts list)")
    if alert.acknowledged_at is not None:
        raise AlertError(
            f"alert {alert_id} was already acknowledged by {alert.acknowledged_by} at "
            f"{alert.acknowledged_at.isoformat(timespec='seconds')}"
        )
    alert.acknowledged_by = by.strip()[:100]  # the column's width
    alert.acknowledged_at = utcnow()
    alert.ack_comment = (comment or "").strip() or None
    return alert
