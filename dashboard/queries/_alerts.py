"""Alerts: the outbox filtered, one alert's deliveries, and the acknowledgement (the page's one write)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.queries._base import _cached, _count_true, _frame, clear_caches, database
from monitor.db import (
    Alert,
    AlertDelivery,
    ChangeEvent,
    WatchedModel,
)
from monitor.errors import InputError

__all__ = ["acknowledge_alert", "alert_deliveries", "alert_facets", "alerts"]


@_cached
def alert_facets(url: str) -> pd.DataFrame:
    """Kinds, severities and statuses present, with counts: the choices of the Alerts filters."""
    statement = (
        sa.select(Alert.kind, Alert.severity, Alert.status, sa.func.count().label("alerts"))
        .group_by(Alert.kind, Alert.severity, Alert.status)
        .order_by(Alert.kind, Alert.severity, Alert.status)
    )
    return _frame(url, statement)


@_cached
def alerts(
    url: str,
    *,
    kinds: tuple[str, ...] = (),
    severities: tuple[str, ...] = (),
    statuses: tuple[str, ...] = (),
    model_id: int | None = None,
    open_only: bool = False,
    revision: str | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Alerts matching the filters, newest first, with how many channels delivered each.

    ``revision`` keeps the alerts about a commit: its change events' alerts (keyed by the event, see
    ``change_alert_key``) and those whose dedup key names the sha (a comparison on either side, a run).
    """
    deliveries = (
        sa.select(
            AlertDelivery.alert_id,
            sa.func.count().label("channels"),
            _count_true(AlertDelivery.status == "delivered").label("delivered_to"),
        )
        .group_by(AlertDelivery.alert_id)
        .subquery()
    )
    statement = (
        sa.select(
            Alert.id,
            Alert.created_at,
            Alert.severity,
            Alert.kind,
            WatchedModel.repo_id,
            Alert.title,
            Alert.status,
            Alert.attempts,
            Alert.last_error,
            sa.func.coalesce(deliveries.c.delivered_to, 0).label("delivered_to"),
            sa.func.coalesce(deliveries.c.channels, 0).label("channels"),
            Alert.acknowledged_by,
            Alert.acknowledged_at,
            Alert.ack_comment,
        )
        .outerjoin(WatchedModel, WatchedModel.id == Alert.model_id)
        .outerjoin(deliveries, deliveries.c.alert_id == Alert.id)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    if kinds:
        statement = statement.where(Alert.kind.in_(kinds))
    if severities:
        statement = statement.where(Alert.severity.in_(severities))
    if statuses:
        statement = statement.where(Alert.status.in_(statuses))
    if model_id is not None:
        statement = statement.where(Alert.model_id == model_id)
    if open_only:
        statement = statement.where(Alert.acknowledged_at.is_(None))
    if revision:
        statement = statement.where(
            sa.or_(Alert.dedup_key.contains(revision, autoescape=True), Alert.dedup_key.in_(_event_keys(url, revision)))
        )
    return _frame(url, statement)


@_cached
def alert_deliveries(url: str, alert_id: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """One alert's payload and its delivery state per channel."""
    payload = sa.select(Alert.payload).where(Alert.id == alert_id)
    with database(url).engine.connect() as connection:
        document = connection.execute(payload).scalar_one_or_none()
    statement = (
        sa.select(
            AlertDelivery.channel,
            AlertDelivery.status,
            AlertDelivery.attempts,
            AlertDelivery.last_error,
            AlertDelivery.next_attempt_at,
            AlertDelivery.delivered_at,
        )
        .where(AlertDelivery.alert_id == alert_id)
        .order_by(AlertDelivery.channel)
    )
    return (document or {}), _frame(url, statement)


def acknowledge_alert(url: str, alert_id: int, *, by: str, comment: str | None) -> bool:
    """Record who acknowledged an alert, when and why; False when it was already acknowledged or is gone.

    The rule is `monitor.alerts.acknowledge`, the one `alerts ack` uses, so the two cannot differ.
    """
    from monitor.alerts import acknowledge
    from monitor.errors import AlertError

    if not by.strip():
        raise InputError("give your name to acknowledge an alert")
    try:
        with database(url).session() as session:
            acknowledge(session, alert_id, by=by, comment=comment)
    except AlertError:
        return False
    finally:
        clear_caches()
    return True


def _event_keys(url: str, sha: str) -> list[str]:
    """Dedup keys of the alerts raised for the change events that reached ``sha`` (the alert rules' own key)."""
    from monitor.alerts import change_alert_key  # the one home of the rule; imported where it is needed

    with database(url).session() as session:
        events = session.scalars(sa.select(ChangeEvent).where(ChangeEvent.to_sha == sha)).all()
        return [change_alert_key(event) for event in events]
