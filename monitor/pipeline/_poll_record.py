"""Phase 3 of a poll: one transaction writes the ``Poll`` row, new revisions and events, the head, the alerts.

The callbacks (``on_change``, ``on_failure``) run inside it, so an alert exists exactly when its event does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.db import ChangeEvent, Database, Poll, Revision, WatchedModel, utcnow
from monitor.errors import ModelNotFoundError
from monitor.pipeline._poll_types import (
    _POLL_STATUSES,
    ChangeRecord,
    OnChange,
    OnFailure,
    Outcome,
    PollResult,
    _Found,
    _Known,
)

__all__ = ["record_poll"]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def record_poll(
    db: Database,
    known: _Known,
    *,
    started: dt.datetime,
    outcome: Outcome,
    error: str | None,
    head: str | None,
    found: list[_Found],
    denied: str | None,
    trigger: str,
    requests: int,
    on_change: OnChange | None,
    on_failure: OnFailure | None,
) -> PollResult:
    with db.session() as session:
        row = session.get(WatchedModel, known.model_id, with_for_update=True)
        if row is None:
            raise ModelNotFoundError(f"{known.repo_id} stopped being watched during the poll")
        now = utcnow()
        poll = Poll(
            model_id=row.id,
            started_at=started,
            finished_at=now,
            ok=outcome == "ok",
            error=error,
            head_sha=head,
            requests=requests,
            trigger=trigger,
        )
        session.add(poll)
        row.last_polled_at = now
        changes: list[ChangeRecord] = []
        if outcome == "ok":
            assert head is not None
            if row.head_sha == known.head_sha:
                changes = _write_found(session, row, known, found, on_change)
                row.head_sha = head
            # else: another poll (a webhook, the scheduler) recorded this range first; nothing to add.
            if denied is not None and row.status != "gated":
                _status_event(session, row, "gated", denied, on_change)
            if row.status in _POLL_STATUSES:
                row.status = "gated" if denied is not None else "active"
            row.last_poll_error = denied
            row.consecutive_poll_failures = 0
            poll.changes = len(changes)
        elif outcome in ("gone", "gated"):
            row.last_poll_error = error
            if row.status != outcome:
                changes = [_status_event(session, row, outcome, error or "", on_change)]
            if row.status in _POLL_STATUSES:
                row.status = outcome
        else:
            row.last_poll_error = error
            row.consecutive_poll_failures = (row.consecutive_poll_failures or 0) + 1
            session.flush()
            if on_failure is not None:
                on_failure(session, row, poll)
        session.flush()
        return PollResult(
            repo_id=row.repo_id,
            ref=row.ref,
            ok=outcome == "ok",
            head=head,
            error=error,
            changes=tuple(change for change in changes if outcome == "ok"),
            status=row.status,
            requests=requests,
            poll_id=poll.id,
        )


def _write_found(
    session: Session, row: WatchedModel, known: _Known, found: list[_Found], on_change: OnChange | None
) -> list[ChangeRecord]:
    seq = known.last_seq
    changes: list[ChangeRecord] = []
    for item in found:
        committed_at = _aware(item.commit.date)
        revision = session.scalar(
            sa.select(Revision).where(Revision.model_id == row.id, Revision.sha == item.commit.sha)
        )
        if revision is None:
            seq += 1
            revision = Revision(model_id=row.id, sha=item.commit.sha, seq=seq)
            session.add(revision)
        revision.parent_sha = item.commit.parents[0] if item.commit.parents else None
        revision.title = item.commit.title
        revision.committed_at = committed_at
        revision.tags = list(item.tags)
        revision.manifest = item.stored_manifest if item.stored_manifest is not None else item.manifest.to_json()
        revision.fingerprints = item.fingerprints

        # Always a new event: this range is new since the head last recorded (checked by the caller), so
        # an event with the same (from, to) is an earlier transition (A -> B -> A -> B), not this one.
        details = item.change.details()
        details.update(item.extra)
        details["fingerprints"] = _fingerprint_diff(known, found, item)
        event = ChangeEvent(
            model_id=row.id,
            from_sha=item.from_sha,
            to_sha=item.commit.sha,
            kinds=list(item.change.kinds),
            silent=item.change.silent,
            title=item.commit.title,
            committed_at=committed_at,
            details=details,
        )
        session.add(event)
        session.flush()
        if on_change is not None:
            on_change(session, row, event)
        changes.append(
            ChangeRecord(
                from_sha=event.from_sha,
                to_sha=event.to_sha,
                kinds=tuple(event.kinds),
                silent=event.silent,
                title=event.title or "",
                committed_at=_aware(event.committed_at),
                event_id=event.id,
            )
        )
    return changes


def _fingerprint_diff(known: _Known, found: list[_Found], item: _Found) -> dict[str, Any]:
    """Old and new values of the fingerprints that differ (the evidence an alert shows)."""
    previous: Mapping[str, Any] = known.head_fingerprints if item.from_sha == known.head_sha else {}
    for other in found:
        if other.commit.sha == item.from_sha:
            previous = other.fingerprints
    diff = {}
    for key in ("weights", "tokenizer", "tokenizer_config", "chat_template", "generation_config", "config"):
        old, new = previous.get(key), item.fingerprints.get(key)
        if old != new:
            diff[key] = {"from": old, "to": new}
    return diff


def _status_event(
    session: Session, row: WatchedModel, outcome: str, error: str, on_change: OnChange | None
) -> ChangeRecord:
    kind = "repo_gone" if outcome == "gone" else "repo_gated"
    title = "repository not found" if outcome == "gone" else "access to the repository refused"
    event = ChangeEvent(
        model_id=row.id,
        from_sha=None,
        to_sha=row.head_sha or "",
        kinds=[kind],
        silent=False,
        title=title,
        committed_at=None,
        details={"error": error, "last_head": row.head_sha, "previous_status": row.status},
    )
    session.add(event)
    session.flush()
    if on_change is not None:
        on_change(session, row, event)
    return ChangeRecord(None, event.to_sha, (kind,), False, title, None, event.id)


