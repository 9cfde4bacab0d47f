"""Overview and the sidebar: watched models, their polls, open alerts and the newest verdicts."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard.queries._base import _cached, _count_true, _frame
from monitor.db import (
    Alert,
    Comparison,
    Poll,
    ProbeSuite,
    Response,
    Revision,
    Run,
    RunTask,
    WatchedModel,
)

__all__ = ["latest_verdicts", "models", "open_alerts_by_severity", "poll_summary", "runs_in_flight"]


@_cached
def models(url: str) -> pd.DataFrame:
    """Watched models with their head revision's title and how many revisions and runs they have."""
    revision_counts = (
        sa.select(Revision.model_id, sa.func.count().label("revisions")).group_by(Revision.model_id).subquery()
    )
    run_counts = sa.select(Run.model_id, sa.func.count().label("runs")).group_by(Run.model_id).subquery()
    head = sa.orm.aliased(Revision)
    statement = (
        sa.select(
            WatchedModel.id,
            WatchedModel.repo_id,
            WatchedModel.ref,
            WatchedModel.source,
            WatchedModel.expected_identity,
            WatchedModel.status,
            WatchedModel.head_sha,
            head.title.label("head_title"),
            head.committed_at.label("head_committed_at"),
            WatchedModel.last_polled_at,
            WatchedModel.last_poll_error,
            WatchedModel.consecutive_poll_failures,
            sa.func.coalesce(revision_counts.c.revisions, 0).label("revisions"),
            sa.func.coalesce(run_counts.c.runs, 0).label("runs"),
        )
        .outerjoin(head, sa.and_(head.model_id == WatchedModel.id, head.sha == WatchedModel.head_sha))
        .outerjoin(revision_counts, revision_counts.c.model_id == WatchedModel.id)
        .outerjoin(run_counts, run_counts.c.model_id == WatchedModel.id)
        .order_by(sa.func.lower(WatchedModel.repo_id), WatchedModel.id)
    )
    return _frame(url, statement)


@_cached
def poll_summary(url: str) -> pd.DataFrame:
    """Per model: polls made, how many failed, the last poll and whether it succeeded."""
    per_model = (
        sa.select(
            Poll.model_id,
            sa.func.count().label("polls"),
            _count_true(Poll.ok.is_(False)).label("failed_polls"),
            sa.func.max(Poll.started_at).label("last_poll_at"),
        )
        .group_by(Poll.model_id)
        .subquery()
    )
    statement = (
        sa.select(
            per_model.c.model_id,
            per_model.c.polls,
            per_model.c.failed_polls,
            per_model.c.last_poll_at,
            Poll.ok.label("last_poll_ok"),
            Poll.error.label("last_poll_message"),
            Poll.head_sha.label("last_poll_head"),
        )
        .join(Poll, sa.and_(Poll.model_id == per_model.c.model_id, Poll.started_at == per_model.c.last_poll_at))
        .order_by(per_model.c.model_id)
    )
    return _frame(url, statement).drop_duplicates("model_id", keep="last")


@_cached
def open_alerts_by_severity(url: str) -> pd.DataFrame:
    """Unacknowledged alerts counted by model and severity."""
    statement = (
        sa.select(WatchedModel.repo_id, Alert.severity, sa.func.count().label("open_alerts"))
        .outerjoin(WatchedModel, WatchedModel.id == Alert.model_id)
        .where(Alert.acknowledged_at.is_(None))
        .group_by(WatchedModel.repo_id, Alert.severity)
        .order_by(WatchedModel.repo_id, Alert.severity)
    )
    frame = _frame(url, statement)
    frame["repo_id"] = frame["repo_id"].fillna("(no model)")
    return frame


@_cached
def latest_verdicts(url: str, limit: int = 20) -> pd.DataFrame:
    """The newest drift comparisons, newest first, with their verdicts."""
    statement = (
        sa.select(
            Comparison.id,
            WatchedModel.repo_id,
            Comparison.baseline_sha,
            Comparison.candidate_sha,
            Comparison.kind,
            Comparison.drift,
            Comparison.severity,
            Comparison.created_at,
        )
        .outerjoin(WatchedModel, WatchedModel.id == Comparison.model_id)
        .order_by(Comparison.created_at.desc(), Comparison.id.desc())
        .limit(limit)
    )
    return _frame(url, statement)


@_cached
def runs_in_flight(url: str) -> pd.DataFrame:
    """Runs being generated now, with their executor tasks by state (Ray shards) and responses stored so far.

    A reviewer who sees a new revision polled wants to know whether its answers are coming, and where.
    """
    stored = sa.select(Response.run_id, sa.func.count().label("stored")).group_by(Response.run_id).subquery()
    tasks = (
        sa.select(
            RunTask.run_id,
            _count_true(RunTask.status.in_(("new", "queued", "interrupted"))).label("tasks_queued"),
            _count_true(RunTask.status == "running").label("tasks_running"),
            _count_true(RunTask.status == "done").label("tasks_done"),
            sa.func.max(RunTask.node).label("node"),
        )
        .group_by(RunTask.run_id)
        .subquery()
    )
    statement = (
        sa.select(
            Run.id.label("run_id"),
            WatchedModel.repo_id,
            ProbeSuite.name.label("suite"),
            Run.revision_sha,
            Run.engine,
            Run.started_at,
            sa.func.coalesce(stored.c.stored, 0).label("stored"),
            Run.expected_responses,
            sa.func.coalesce(tasks.c.tasks_queued, 0).label("tasks_queued"),
            sa.func.coalesce(tasks.c.tasks_running, 0).label("tasks_running"),
            sa.func.coalesce(tasks.c.tasks_done, 0).label("tasks_done"),
            sa.func.coalesce(tasks.c.node, Run.device).label("where"),
        )
        .join(ProbeSuite, ProbeSuite.id == Run.suite_id)
        .join(WatchedModel, WatchedModel.id == Run.model_id)
        .outerjoin(stored, stored.c.run_id == Run.id)
        .outerjoin(tasks, tasks.c.run_id == Run.id)
        .where(Run.status.in_(("pending", "running")))
        .order_by(Run.started_at, Run.id)
    )
    return _frame(url, statement)
