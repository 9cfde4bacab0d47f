"""Shards of a run and their claims in the database: one live task per shard, whoever submitted it.

A shard is a probe range of a run (``run_tasks`` row). Submitting it is claiming it: a fresh ``token``,
the submitter as ``owner`` and a heartbeat. The heartbeat is renewed by the submitter while the task
waits for resources and by the task while it runs; a claim whose heartbeat is older than
``stale_after_s`` is dead (its service or node went away) and may be taken over with a new token. A task
writes only under its own token, so a task that was taken over stops at its next batch instead of
storing beside its successor.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from monitor.db import Database, RunTask, utcnow
from monitor.engines._worker import WorkItem

__all__ = [
    "Claim",
    "ShardState",
    "claim_shard",
    "ensure_shards",
    "mark_shard",
    "read_shards",
    "renew_queued",
    "shard_ranges",
]

_LIVE = ("queued", "running")


@dataclass(frozen=True)
class Claim:
    """The answer to "may I submit this shard?": ``claimed`` (with the token to run under), ``live``, ``done``.

    ``generated`` is what earlier submissions of the shard already generated (its row counts across them).
    """

    outcome: Literal["claimed", "live", "done"]
    token: str | None = None
    generated: int = 0


@dataclass(frozen=True)
class ShardState:
    """A shard as the service watches it."""

    id: int
    run_id: int
    status: str
    token: str | None
    heartbeat_at: dt.datetime | None
    generated: int
    error: str | None
    started_at: dt.datetime | None = None

    def stale(self, now: dt.datetime, stale_after_s: float) -> bool:
        """True when nobody has shown this shard alive for ``stale_after_s``."""
        return self.heartbeat_at is None or (now - self.heartbeat_at).total_seconds() > stale_after_s


def shard_ranges(items: Sequence[WorkItem], shard_size: int | None) -> list[tuple[int, int]]:
    """Item index ranges ``[first, last)`` holding ``shard_size`` whole probes each (one range: no sharding).

    Items come probe by probe (``plan_run``), so a probe's samples always share a shard and its task.
    """
    if not items:
        return []
    if shard_size is None:
        return [(0, len(items))]
    ranges: list[tuple[int, int]] = []
    start, probes, previous = 0, 0, None
    for index, item in enumerate(items):
        if item.request.probe_id != previous:
            if probes == shard_size:
                ranges.append((start, index))
                start, probes = index, 0
            probes, previous = probes + 1, item.request.probe_id
    ranges.append((start, len(items)))
    return ranges


def ensure_shards(db: Database, run_id: int, ranges: Sequence[tuple[int, int]], *, executor: str) -> list[int]:
    """The ``run_tasks`` ids of a run's shards, made on first use; an existing run keeps its shards."""
    with db.session() as session:
        existing = {row.shard: row for row in session.scalars(sa.select(RunTask).where(RunTask.run_id == run_id))}
        if existing:
            return [row.id for _, row in sorted(existing.items())]
        rows = [
            RunTask(run_id=run_id, shard=index, first_item=first, last_item=last, executor=executor, status="new")
            for index, (first, last) in enumerate(ranges)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def claim_shard(
    db: Database, task_id: int, *, owner: str, stale_after_s: float, resources: dict[str, Any] | None = None
) -> Claim:
    """Claim a shard for a new submission unless it is done or a live task holds it (row locked meanwhile)."""
    now = utcnow()
    with db.session() as session:
        row = session.get(RunTask, task_id, with_for_update=True)
        if row is None or row.status == "done":
            return Claim("done")
        alive = row.heartbeat_at is not None and (now - row.heartbeat_at).total_seconds() <= stale_after_s
        if row.status in _LIVE and row.token is not None and alive:
            return Claim("live")
        token = uuid.uuid4().hex
        row.token, row.owner, row.status, row.error = token, owner, "queued", None
        row.queued_at, row.heartbeat_at, row.finished_at = now, now, None
        if resources is not None:
            row.resources = resources
        return Claim("claimed", token, row.generated)


def renew_queued(db: Database, tokens: Sequence[str]) -> None:
    """The submitter's heartbeat for its shards still waiting for resources (a running task renews its own)."""
    if not tokens:
        return
    with db.session() as session:
        session.execute(
            sa.update(RunTask)
            .where(RunTask.token.in_(list(tokens)), RunTask.status == "queued")
            .values(heartbeat_at=utcnow())
        )


def read_shards(db: Database, task_ids: Sequence[int]) -> dict[int, ShardState]:
    """The current state of the given shards."""
    with db.session() as session:
        rows = session.scalars(sa.select(RunTask).where(RunTask.id.in_(list(task_ids)))).all()
        return {
            row.id: ShardState(
                row.id, row.run_id, row.status, row.token, row.heartbeat_at, row.generated, row.error, row.started_at
            )
            for row in rows
        }


def mark_shard(db: Database, task_id: int, token: str, status: str, error: str | None = None) -> bool:
    """Set a shard's final status, only while ``token`` still holds it; False when it was taken over."""
    with db.session() as session:
        result: Any = session.execute(
            sa.update(RunTask)
            .where(RunTask.id == task_id, RunTask.token == token)
            .values(status=status, error=error, finished_at=utcnow())
        )
        return bool(result.rowcount)
