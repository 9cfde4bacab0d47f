"""Delivery: every pending alert to every channel whose severity filter it passes, with retries.

Protocol per (alert, channel), each step its own short transaction:

1. **route**: an ``AlertDelivery`` row is made for each channel the alert should reach;
2. **claim**: the row moves to ``sending`` with ``attempts + 1`` and a claim deadline, by a
   compare-and-set update (two senders cannot both claim it);
3. **send** through the channel;
4. **mark**: ``delivered``, or back to ``pending`` with an exponential backoff (capped), or ``failed``
   after ``max_attempts``.

A delivered row is never sent again, whatever happens to the process. The one window left is between 3
and 4: if the process is killed after the channel accepted the message and before the mark commits, the
row stays ``sending``; once its claim deadline passes it is sent again. Delivery is therefore
*at-least-once* within that window (milliseconds per message) and exactly-once outside it; we chose a
possible duplicate over a possibly lost alert.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor._logging import log_event
from monitor._redact import redact
from monitor.alerts._channels import AlertChannel, AlertMessage
from monitor.alerts._outbox import severity_at_least
from monitor.config import AlertsConfig
from monitor.db import Alert, AlertDelivery, Database, WatchedModel, conflict_insert, utcnow
from monitor.errors import AlertError

__all__ = ["DeliveryPolicy", "DeliveryStats", "deliver_pending", "send_test"]

logger = logging.getLogger("monitor.alerts")


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retry policy: ``base * 2**(attempt-1)`` seconds between attempts, capped, at most ``max_attempts``."""

    max_attempts: int = 8
    backoff_base_s: float = 30.0
    backoff_max_s: float = 3600.0
    claim_timeout_s: float = 300.0

    @classmethod
    def from_config(cls, config: AlertsConfig) -> DeliveryPolicy:
        """The policy the TOML ``[alerts]`` table describes."""
        return cls(
            max_attempts=config.max_attempts,
            backoff_base_s=config.backoff_base_s,
            backoff_max_s=config.backoff_max_s,
            claim_timeout_s=config.claim_timeout_s,
        )

    def backoff(self, attempts: int) -> dt.timedelta:
        """Delay after the ``attempts``-th failed attempt."""
        seconds = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(attempts - 1, 0))
        return dt.timedelta(seconds=seconds)


@dataclass
class DeliveryStats:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    unrouted: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)
    by_channel: dict[str, int] = field(default_factory=dict)


_PASS_LOCK = threading.Lock()  # one delivery pass at a time in a process (the claim guards across processes)


def deliver_pending(
    db: Database,
    channels: Sequence[AlertChannel],
    *,
    now: dt.datetime | None = None,
    policy: DeliveryPolicy | None = None,
) -> DeliveryStats:
    """Send every due (alert, channel) pair once; record status, attempts, errors and the next attempt.

    ``now`` fixes the clock (tests walk time forward through the backoff); by default the wall clock.
    With no channels nothing is routed: alerts wait in the outbox until a channel is configured.
    """
    policy = policy or DeliveryPolicy()
    stats = DeliveryStats()
    if not channels:
        with db.session() as session:
            stats.pending = _count_pending(session)
        return stats
    by_name = {channel.name: channel for channel in channels}
    with _PASS_LOCK:
        with db.session() as session:
            stats.unrouted = _route(session, by_name)
        while True:
            clock = now or utcnow()
            with db.session() as session:
                claimed = _claim_next(session, list(by_name), clock, policy)
            if claimed is None:
                break
            delivery_id, channel_name, message, attempt = claimed
            channel = by_name[channel_name]
            error: str | None = None
            try:
                channel.send(message)
            except AlertError as exc:
                error = str(exc)
            except Exception as exc:  # a channel bug must not stop delivery to the others
                error = f"channel {channel_name!r}: {type(exc).__name__}: {exc}"
            clock = now or utcnow()
            with db.session() as session:
                outcome = _mark(session, delivery_id, error, clock, policy)
            if outcome == "delivered":
                stats.sent += 1
                stats.by_channel[channel_name] = stats.by_channel.get(channel_name, 0) + 1
                log_event(logger, "alert.delivered", alert=message.alert_id, channel=channel_name, attempt=attempt)
            else:
                stats.failed += 1
                stats.errors.append(error or "")
                if outcome == "failed":
                    stats.gave_up += 1
                log_event(
                    logger,
                    "alert.delivery_failed",
                    level=logging.WARNING,
                    alert=message.alert_id,
                    channel=channel_name,
                    attempt=attempt,
                    gave_up=outcome == "failed",
                    error=error,
                )
        with db.session() as session:
            stats.pending = _count_pending(session)
    return stats


def _count_pending(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(Alert).where(Alert.status == "pending")) or 0)


def _route(session: Session, channels: dict[str, AlertChannel]) -> int:
    """Make the missing delivery rows of pending alerts; mark alerts no channel wants as ``unrouted``."""
    unrouted = 0
    alerts = session.execute(sa.select(Alert.id, Alert.severity).where(Alert.status == "pending")).all()
    existing: dict[int, set[str]] = {}
    if alerts:
        rows = session.execute(
            sa.select(AlertDelivery.alert_id, AlertDelivery.channel).where(
                AlertDelivery.alert_id.in_([alert_id for alert_id, _ in alerts])
            )
        ).all()
        for alert_id, channel in rows:
            existing.setdefault(alert_id, set()).add(channel)
    for alert_id, severity in alerts:
        wanted = [name for name, channel in channels.items() if severity_at_least(severity, channel.min_severity)]
        missing = [name for name in wanted if name not in existing.get(alert_id, set())]
        for name in missing:
            session.execute(
                conflict_insert(session, AlertDelivery)
                .values(alert_id=alert_id, channel=name, status="pending", attempts=0)
                .on_conflict_do_nothing(index_elements=["alert_id", "channel"])
            )
        if not wanted and not existing.get(alert_id):
            session.execute(sa.update(Alert).where(Alert.id == alert_id).values(status="unrouted"))
            unrouted += 1
    # A channel removed from the config: what it still owed is dropped, so its alerts can complete.
    if alerts:
        stale = session.scalars(
            sa.select(AlertDelivery).where(
                AlertDelivery.alert_id.in_([alert_id for alert_id, _ in alerts]),
                AlertDelivery.channel.not_in(list(channels)),
                AlertDelivery.status.in_(("pending", "sending")),
            )
        ).all()
        for row in stale:
            row.status, row.next_attempt_at = "dropped", None
            row.last_error = f"channel {row.channel!r} is no longer configured"
        session.flush()
        for alert_id in sorted({row.alert_id for row in stale}):
            _refresh_alert(session, alert_id)
    return unrouted


def _claim_next(
    session: Session, channels: list[str], now: dt.datetime, policy: DeliveryPolicy
) -> tuple[int, str, AlertMessage, int] | None:
    """Claim one due delivery (pending and due, or a stale claim of a dead sender)."""
    due = sa.or_(AlertDelivery.next_attempt_at.is_(None), AlertDelivery.next_attempt_at <= now)
    candidates = session.execute(
        sa.select(AlertDelivery.id, AlertDelivery.status, AlertDelivery.attempts)
        .join(Alert, Alert.id == AlertDelivery.alert_id)
        .where(
            Alert.status == "pending",
            AlertDelivery.channel.in_(channels),
            AlertDelivery.status.in_(("pending", "sending")),
            due,
        )
        .order_by(AlertDelivery.next_attempt_at.is_not(None), AlertDelivery.next_attempt_at, AlertDelivery.id)
        .limit(20)
    ).all()
    for delivery_id, status, attempts in candidates:
        claimed = session.execute(
            sa.update(AlertDelivery)
            .where(
                AlertDelivery.id == delivery_id,
                AlertDelivery.status == status,
                AlertDelivery.attempts == attempts,
            )
            .values(
                status="sending",
                attempts=attempts + 1,
                next_attempt_at=now + dt.timedelta(seconds=policy.claim_timeout_s),
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        if status == "sending":
            log_event(logger, "alert.resend_stale_claim", level=logging.WARNING, delivery=delivery_id)
        delivery = session.get(AlertDelivery, delivery_id)
        assert delivery is not None
        alert = session.get(Alert, delivery.alert_id)
        assert alert is not None
        repo_id = session.scalar(sa.select(WatchedModel.repo_id).where(WatchedModel.id == alert.model_id))
        return delivery_id, delivery.channel, AlertMessage.from_alert(alert, repo_id=repo_id), attempts + 1
    return None


def _mark(session: Session, delivery_id: int, error: str | None, now: dt.datetime, policy: DeliveryPolicy) -> str:
    """Record the outcome of one attempt and refresh the alert's overall status; returns the new status."""
    error = redact(error) if error is not None else None  # a channel's own exception may quote its URL
    delivery = session.get(AlertDelivery, delivery_id)
    assert delivery is not None
    if error is None:
        delivery.status = "delivered"
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.last_error = None
    elif delivery.attempts >= policy.max_attempts:
        delivery.status = "failed"
        delivery.last_error = error
        delivery.next_attempt_at = None
    else:
        delivery.status = "pending"
        delivery.last_error = error
        delivery.next_attempt_at = now + policy.backoff(delivery.attempts)
    session.flush()
    _refresh_alert(session, delivery.alert_id)
    return delivery.status


def _refresh_alert(session: Session, alert_id: int) -> None:
    """The alert's own status summarises its deliveries: delivered only when every channel has it."""
    alert = session.get(Alert, alert_id)
    assert alert is not None
    deliveries = session.scalars(sa.select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)).all()
    alert.attempts = sum(delivery.attempts for delivery in deliveries)
    errors = [delivery.last_error for delivery in deliveries if delivery.last_error]
    alert.last_error = errors[-1] if errors else None
    open_ = [delivery for delivery in deliveries if delivery.status in ("pending", "sending")]
    if open_:
        alert.status = "pending"
        times = [delivery.next_attempt_at for delivery in open_ if delivery.next_attempt_at is not None]
        alert.next_attempt_at = min(times) if times else None
    elif any(delivery.status == "failed" for delivery in deliveries):
        alert.status = "failed"
        alert.next_attempt_at = None
    elif any(delivery.delivered_at for delivery in deliveries):
        alert.status = "delivered"
        alert.next_attempt_at = None
        alert.delivered_at = max(delivery.delivered_at for delivery in deliveries if delivery.delivered_at)
    else:  # every channel it was meant for has been removed
        alert.status = "unrouted"
        alert.next_attempt_at = None


def send_test(channels: Sequence[AlertChannel]) -> dict[str, str | None]:
    """Send a test message to every channel (ignoring severity filters); channel name -> error or None."""
    message = AlertMessage(
        alert_id=0,
        kind="test",
        severity="low",
        title="test message from drift-monitor: this channel works",
        repo_id=None,
        created_at=utcnow(),
        dedup_key="test",
        payload={"note": "sent by `drift-monitor alerts test`; nothing to acknowledge"},
    )
    results: dict[str, str | None] = {}
    for channel in channels:
        try:
            channel.send(message)
            results[channel.name] = None
        except AlertError as exc:
            results[channel.name] = str(exc)
    return results
