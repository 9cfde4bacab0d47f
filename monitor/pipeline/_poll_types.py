"""The shapes a poll works with: what it found (``ChangeRecord``, ``PollResult``) and its callbacks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from monitor.db import ChangeEvent, ModelStatus, Poll, WatchedModel
from monitor.hub import ChangeKinds, Commit, Manifest

__all__ = ["ChangeRecord", "OnChange", "OnFailure", "Outcome", "PollResult"]

OnChange = Callable[[Session, WatchedModel, ChangeEvent], None]
OnFailure = Callable[[Session, WatchedModel, Poll], None]
Outcome = Literal["ok", "failed", "gone", "gated"]
# The statuses a poll sets; any other (set by whoever manages the watch list, e.g. "removed") is left alone.
_POLL_STATUSES = ("active", "gone", "gated")


@dataclass(frozen=True)
class ChangeRecord:
    """One change a poll found (the ``changes`` entries of ``check --json``)."""

    from_sha: str | None
    to_sha: str
    kinds: tuple[str, ...]
    silent: bool
    title: str
    committed_at: dt.datetime | None
    event_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The CLI contract's change object."""
        return {
            "from": self.from_sha,
            "to": self.to_sha,
            "kinds": list(self.kinds),
            "silent": self.silent,
            "title": self.title,
            "committed_at": self.committed_at.isoformat() if self.committed_at else None,
        }


@dataclass(frozen=True)
class PollResult:
    """What one poll of one model found; ``error`` is set when it failed (gone and gated included)."""

    repo_id: str
    ref: str
    ok: bool
    head: str | None
    error: str | None = None
    changes: tuple[ChangeRecord, ...] = ()
    status: ModelStatus = "active"
    requests: int = 0
    duration_s: float = 0.0
    poll_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The CLI contract's model object (``check --json``)."""
        return {
            "repo_id": self.repo_id,
            "ref": self.ref,
            "head": self.head,
            "error": self.error,
            "changes": [change.to_json() for change in self.changes],
        }


@dataclass
class _Known:
    """What the database knew before the poll."""

    model_id: int
    repo_id: str
    ref: str
    source: str
    status: ModelStatus
    head_sha: str | None
    head_manifest: Manifest | None
    head_fingerprints: dict[str, Any]
    last_seq: int


@dataclass
class _Found:
    """One new revision and the change that led to it, ready to be written."""

    commit: Commit
    from_sha: str | None
    manifest: Manifest
    fingerprints: dict[str, Any]
    change: ChangeKinds
    tags: list[str]
    extra: dict[str, Any] = field(default_factory=dict)
    stored_manifest: dict[str, Any] | None = None  # what to store instead of ``manifest`` (an endpoint's)


