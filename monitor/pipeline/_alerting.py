"""The one home of "which alerts do these rows call for": in a poll's transaction, and as a sweep.

Polls write their ``hub.<kind>`` and ``poll.failed`` alerts in the transaction that records the event
(``alert_callbacks``), so an alert exists exactly when its event does. ``raise_pending_alerts`` covers
the rest (failed runs, drifted comparisons) and any event recorded without callbacks; dedup keys make
it free to run every cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor._logging import log_event
from monitor.alerts import (
    change_alert,
    change_alert_key,
    drift_alerts,
    poll_failure_alert,
    run_failed_alert,
    run_failed_key,
)
from monitor.db import Alert, ChangeEvent, Comparison, Database, Poll, ProbeSuite, Run, WatchedModel
from monitor.pipeline._poll import OnChange, OnFailure

__all__ = ["alert_callbacks", "raise_pending_alerts"]

logger = logging.getLogger("monitor.alerts")


def _logged(alert: Alert | None, repo_id: str | None = None) -> int:
    if alert is None:
        return 0
    log_event(logger, "alert.raised", kind=alert.kind, severity=alert.severity, model=repo_id, alert=alert.id)
    return 1


def alert_callbacks(
    *, poll_failure_threshold: int = 3, on_raised: Callable[[int], None] | None = None
) -> tuple[OnChange, OnFailure]:
    """Callbacks that write hub alerts in the poll's own transaction (every caller of the poll step).

    Every change event becomes ``hub.<kind>`` (first sightings excepted); a failed poll becomes
    ``poll.failed`` once its streak reaches ``poll_failure_threshold``. ``on_raised(n)`` counts them.
    """

    def on_change(session: Session, model: WatchedModel, event: ChangeEvent) -> None:
        raised = _logged(change_alert(session, event, repo_id=model.repo_id), model.repo_id)
        if on_raised is not None:
            on_raised(raised)

    def on_failure(session: Session, model: WatchedModel, _poll: Poll) -> None:
        raised = _logged(poll_failure_alert(session, model, threshold=poll_failure_threshold), model.repo_id)
        if on_raised is not None:
            on_raised(raised)

    return on_change, on_failure


def raise_pending_alerts(db: Database, *, poll_failure_threshold: int) -> int:
    """The alerts that recorded rows call for and that do not exist yet; returns how many were raised."""
    raised = 0
    with db.session() as session:
        repos = dict(session.execute(sa.select(WatchedModel.id, WatchedModel.repo_id)).all())
        existing = set(session.scalars(sa.select(Alert.dedup_key)))
        for event in session.scalars(sa.select(ChangeEvent).order_by(ChangeEvent.id)):
            if change_alert_key(event) not in existing:
                raised += _logged(change_alert(session, event, repo_id=repos.get(event.model_id, "?")))
        failed = session.execute(
            sa.select(Run, ProbeSuite.name)
            .join(ProbeSuite, ProbeSuite.id == Run.suite_id)
            .where(Run.status == "failed")
            .order_by(Run.id)
        ).all()
        for run, suite_name in failed:
            if run_failed_key(run) not in existing:
                repo_id = repos.get(run.model_id, "?")
                raised += _logged(run_failed_alert(session, run, repo_id=repo_id, suite=suite_name))
        for comparison in session.scalars(
            sa.select(Comparison).where(Comparison.drift.is_(True)).order_by(Comparison.id)
        ):
            raised += len(drift_alerts(session, comparison, repo_id=repos.get(comparison.model_id or -1, "?")))
        for model in session.scalars(
            sa.select(WatchedModel).where(WatchedModel.consecutive_poll_failures >= poll_failure_threshold)
        ):
            raised += _logged(poll_failure_alert(session, model, threshold=poll_failure_threshold))
    return raised
