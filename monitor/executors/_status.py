"""What the executors' tasks are doing, read from ``run_tasks``: for ``runs list``, ``/metrics`` and the dashboard."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from monitor.db import Database, Run, RunTask, WatchedModel

__all__ = ["TASK_STATES", "task_counts", "tasks_by_node", "tasks_of_runs"]

#: Every state a task row can be in, in the order a task goes through them.
TASK_STATES = ("new", "queued", "running", "done", "failed", "interrupted")


def task_counts(db: Database) -> dict[str, dict[str, int]]:
    """Tasks per model and state, every state present (zero when none): ``{repo: {"queued": 2, ...}}``."""
    query = (
        sa.select(WatchedModel.repo_id, RunTask.status, sa.func.count())
        .join(Run, Run.id == RunTask.run_id)
        .join(WatchedModel, WatchedModel.id == Run.model_id)
        .group_by(WatchedModel.repo_id, RunTask.status)
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TASK_STATES, 0))
    with db.session() as session:
        for repo_id, status, count in session.execute(query):
            counts[repo_id][status] = int(count)
    return dict(counts)


def tasks_by_node(db: Database) -> dict[tuple[str, str], int]:
    """Tasks per (node, state): where the work went (a task not started yet has no node)."""
    query = sa.select(RunTask.node, RunTask.status, sa.func.count()).group_by(RunTask.node, RunTask.status)
    with db.session() as session:
        return {(node or "", status): int(count) for node, status, count in session.execute(query)}


def tasks_of_runs(db: Database, run_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each run's tasks (shard order) as plain dicts: state, node, attempts, what it generated, when."""
    if not run_ids:
        return {}
    query = sa.select(RunTask).where(RunTask.run_id.in_(list(run_ids))).order_by(RunTask.run_id, RunTask.shard)
    tasks: dict[int, list[dict[str, Any]]] = defaultdict(list)
    with db.session() as session:
        for row in session.scalars(query):
            tasks[row.run_id].append(
                {
                    "shard": row.shard,
                    "items": [row.first_item, row.last_item],
                    "status": row.status,
                    "node": row.node,
                    "attempts": row.attempts,
                    "generated": row.generated,
                    "resources": row.resources,
                    "started_at": row.started_at.isoformat() if row.started_at else None,
                    "finished_at": row.finished_at.isoformat() if row.finished_at else None,
                    "error": row.error,
                }
            )
    return dict(tasks)
