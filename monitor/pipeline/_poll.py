"""The poll step: ask a source where a watched ref is now, and record what changed since the last poll.

One poll, three phases, so no database transaction is held open across network calls:

1. read the model's last seen head (and its manifest) from the database;
2. ask the source: the head (one request; a quiet poll stops here), then the new commits, their
   manifests, the small files whose blobs changed, and the tags; classify every commit;
3. write, in one transaction: a ``Poll`` row, a ``Revision`` per new commit (``seq`` in commit order),
   a ``ChangeEvent`` per new commit (relative to its parent; after a rewritten history one event from
   the last seen head to the new head), the model's new head, and whatever the callbacks add (alerts).

Faults: a failed poll (timeouts, 429, 5xx after retries, malformed answers) is a ``Poll`` row with its
error and never a change; the next good poll catches up from the last seen head. A repository that
disappears or becomes gated is a status on the model (``gone`` / ``gated``) plus, on the transition,
a ``ChangeEvent`` of kind ``repo_gone`` / ``repo_gated`` with ``from_sha`` NULL and ``to_sha`` the last
seen head (empty when none was ever seen); these do not count as consecutive poll failures.
``gated`` also covers the Hub's usual gating, where the metadata stays public and only file downloads
are refused: the poll then still records the new commits (classified from blob ids, the unread files
named in the event's details) and marks the model gated. ``active`` means the last poll could read
everything it needed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.config import load_settings
from monitor.db import ChangeEvent, Database, ModelStatus, Poll, Revision, WatchedModel, utcnow
from monitor.errors import ModelNotFoundError, MonitorError
from monitor.hub import (
    CONTENT_FINGERPRINTS,
    SMALL_FILES,
    ChangeKinds,
    Commit,
    DescribedSource,
    Manifest,
    RevisionSource,
    classify_change,
    compute_fingerprints,
    is_access_denied,
    open_source,
)
from monitor.pipeline._faults import fault_text

__all__ = [
    "BackgroundPoller",
    "ChangeRecord",
    "OnChange",
    "OnFailure",
    "PollResult",
    "hub_cache_dir",
    "poll_model",
    "poll_watched",
]

logger = logging.getLogger(__name__)

OnChange = Callable[[Session, WatchedModel, ChangeEvent], None]
OnFailure = Callable[[Session, WatchedModel, Poll], None]
Outcome = Literal["ok", "failed", "gone", "gated"]
_SMALL_FILE_MAX_BYTES = 4 * 1024 * 1024
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


def hub_cache_dir() -> Path:
    """Where sources cache what they fetch (small files, git mirrors): ``<data_dir>/hub``."""
    return load_settings().data_dir / "hub"


def poll_model(
    db: Database,
    model: WatchedModel | str,
    source: RevisionSource | None = None,
    *,
    trigger: str = "schedule",
    cache_dir: Path | None = None,
    on_change: OnChange | None = None,
    on_failure: OnFailure | None = None,
    source_options: Mapping[str, Any] | None = None,
) -> PollResult:
    """Poll one watched model once and record the outcome (see the module docstring for the rules).

    ``model`` is a ``WatchedModel`` row or a repo id. ``source`` defaults to the model's own
    (``hf`` or ``git``). ``on_change(session, model, event)`` runs for every new event and
    ``on_failure(session, model, poll)`` for a failed poll, inside the transaction that records them,
    so an alert written there exists exactly when the event does.
    """
    started = utcnow()
    clock = time.perf_counter()
    known = _load(db, model)
    outcome: Outcome = "ok"
    error: str | None = None
    head: str | None = None
    found: list[_Found] = []
    denied: str | None = None
    requests_before = source.requests if source is not None else 0
    try:
        if source is None:
            source = open_source(
                known.source, known.repo_id, cache_dir=cache_dir or hub_cache_dir(), **dict(source_options or {})
            )
        head = source.head(known.ref)
        if head != known.head_sha:
            reader = _Reader(source)
            found = _discover(source, known, head, reader)
            denied = reader.denied
    except ModelNotFoundError as exc:
        outcome, error, head = "gone", str(exc), None
    except MonitorError as exc:
        outcome, error, head = ("gated" if is_access_denied(exc) else "failed"), str(exc), None
    except Exception as exc:  # a full disk, a library's ValueError or LocalEntryNotFoundError: this model's fault
        outcome, error, head = "failed", fault_text(exc, logger, f"poll of {known.repo_id}"), None
    requests = (source.requests - requests_before) if source is not None else 0
    result = _record(
        db,
        known,
        started=started,
        outcome=outcome,
        error=error,
        head=head,
        found=found,
        denied=denied,
        trigger=trigger,
        requests=requests,
        on_change=on_change,
        on_failure=on_failure,
    )
    result = dataclasses.replace(result, duration_s=time.perf_counter() - clock)
    logger.info(
        "poll %s@%s: %s head=%s changes=%d requests=%d%s",
        known.repo_id,
        known.ref,
        outcome,
        (head or "-")[:12],
        len(result.changes),
        requests,
        f" error={error}" if error else "",
    )
    return result


def poll_watched(
    db: Database,
    *,
    repo_id: str | None = None,
    trigger: str = "manual",
    cache_dir: Path | None = None,
    on_change: OnChange | None = None,
    on_failure: OnFailure | None = None,
    source_factory: Callable[[WatchedModel], RevisionSource | None] | None = None,
) -> list[PollResult]:
    """Poll every watched model once (or only ``repo_id``), in repo order, with ``poll_model``.

    Models whose status is not one a poll sets (``removed``, say) are skipped unless named.
    """
    with db.session() as session:
        query = sa.select(WatchedModel).order_by(WatchedModel.repo_id)
        if repo_id is not None:
            query = query.where(WatchedModel.repo_id == repo_id)
        else:
            query = query.where(WatchedModel.status.in_(_POLL_STATUSES))
        models = list(session.scalars(query))
        session.expunge_all()
    if repo_id is not None and not models:
        raise ModelNotFoundError(f"{repo_id} is not watched (add it with: drift-monitor watch add {repo_id})")
    results = []
    for model in models:
        source = source_factory(model) if source_factory is not None else None
        results.append(
            poll_model(
                db,
                model,
                source,
                trigger=trigger,
                cache_dir=cache_dir,
                on_change=on_change,
                on_failure=on_failure,
            )
        )
    return results


# -- phase 1: what the database knows -------------------------------------------------------------


def _load(db: Database, model: WatchedModel | str) -> _Known:
    with db.session() as session:
        if isinstance(model, WatchedModel):
            row = session.get(WatchedModel, model.id)
            name = model.repo_id
        else:
            row = session.scalar(sa.select(WatchedModel).where(WatchedModel.repo_id == model))
            name = model
        if row is None:
            raise ModelNotFoundError(f"{name} is not watched (add it with: drift-monitor watch add {name})")
        head_revision = None
        if row.head_sha is not None:
            head_revision = session.scalar(
                sa.select(Revision).where(Revision.model_id == row.id, Revision.sha == row.head_sha)
            )
        last_seq = session.scalar(sa.select(sa.func.max(Revision.seq)).where(Revision.model_id == row.id))
        return _Known(
            model_id=row.id,
            repo_id=row.repo_id,
            ref=row.ref,
            source=row.source,
            status=row.status,
            head_sha=row.head_sha,
            head_manifest=Manifest.from_json(head_revision.manifest) if head_revision is not None else None,
            head_fingerprints=dict(head_revision.fingerprints or {}) if head_revision is not None else {},
            last_seq=int(last_seq) if last_seq is not None else 0,
        )


# -- phase 2: what the source says ----------------------------------------------------------------


class _Reader:
    """Small-file contents, read once per blob id (a blob id names one content, whatever the commit)."""

    def __init__(self, source: RevisionSource) -> None:
        self.source = source
        self.by_blob: dict[str, bytes | None] = {}
        # Set when the source refuses file downloads (a gated repo whose metadata stays public, as on
        # the Hub): the poll goes on, classifying from blob ids, and the model is marked gated.
        self.denied: str | None = None

    def read(self, sha: str, manifest: Manifest, paths: Iterable[str], *, tolerate: bool = False) -> dict[str, Any]:
        contents: dict[str, bytes | None] = {}
        for path in paths:
            entry = manifest.get(path)
            if entry is None or entry.size > _SMALL_FILE_MAX_BYTES:
                continue
            if entry.blob_id and entry.blob_id in self.by_blob:
                contents[path] = self.by_blob[entry.blob_id]
                continue
            if self.denied is not None:
                continue
            try:
                data = self.source.read_small_file(sha, path)
            except MonitorError as exc:
                if is_access_denied(exc):
                    self.denied = str(exc)
                    continue
                if not tolerate:
                    raise
                continue  # the old side of a rewritten history may be unreadable: classify without it
            if entry.blob_id:
                self.by_blob[entry.blob_id] = data
            contents[path] = data
        return contents


def _changed_small_files(old: Manifest | None, new: Manifest) -> list[str]:
    changed = []
    for path in SMALL_FILES:
        entry = new.get(path)
        before = old.get(path) if old is not None else None
        if (entry is None) != (before is None) or (entry and before and entry.digest != before.digest):
            changed.append(path)
    return changed


def _with_companions(changed: list[str]) -> list[str]:
    """The changed small files, plus the files a content fingerprint needs alongside them."""
    needed = list(changed)
    for paths in CONTENT_FINGERPRINTS.values():
        if any(path in changed for path in paths):
            needed += [path for path in paths if path not in needed]
    return needed


def _digest(manifest: Manifest, path: str) -> str | None:
    entry = manifest.get(path)
    return entry.digest if entry is not None else None


def _fingerprints(
    manifest: Manifest, files: Mapping[str, bytes | None], parent: Manifest | None, parent_fp: Mapping[str, Any]
) -> dict[str, Any]:
    """Fingerprints of a revision; a content fingerprint carries over when its files did not change."""
    fingerprints = compute_fingerprints(manifest, files)
    for key, paths in CONTENT_FINGERPRINTS.items():
        if key in fingerprints or key not in parent_fp or parent is None:
            continue
        if all(_digest(manifest, path) == _digest(parent, path) for path in paths):
            fingerprints[key] = parent_fp[key]
    return fingerprints


def _discover(source: RevisionSource, known: _Known, head: str, reader: _Reader) -> list[_Found]:
    """Everything new between the last seen head and ``head``, classified, oldest first."""
    if isinstance(source, DescribedSource):
        facts = source.describe(head)
        return [
            _Found(
                source.commit(head),
                known.head_sha,
                Manifest(),
                facts.fingerprints,
                facts.change,
                [],
                dict(facts.details),
                stored_manifest=facts.manifest,
            )
        ]
    if known.head_sha is None:
        commit = source.commit(head)
        manifest = source.manifest(head)
        tags_by_sha = _by_sha(source.tags())
        files = reader.read(head, manifest, SMALL_FILES)
        change = classify_change(None, manifest, None, files, title=commit.title, tags=tags_by_sha.get(head, []))
        fingerprints = compute_fingerprints(manifest, files)
        return [_Found(commit, None, manifest, fingerprints, change, tags_by_sha.get(head, []))]

    commits = source.commits_between(known.head_sha, head)
    tags_by_sha = _by_sha(source.tags())
    old_head = known.head_sha
    old_manifest = known.head_manifest if known.head_manifest is not None else source.manifest(old_head)
    if not any(old_head in commit.parents for commit in commits):
        # Rewritten history: the last seen head is no longer an ancestor; compare it with the new head directly.
        head_commit = commits[-1] if commits and commits[-1].sha == head else source.commit(head)
        manifest = source.manifest(head)
        changed = _changed_small_files(old_manifest, manifest)
        old_files = reader.read(old_head, old_manifest, changed, tolerate=True)
        new_files = reader.read(head, manifest, _with_companions(changed))
        change = classify_change(
            old_manifest,
            manifest,
            old_files,
            new_files,
            title=head_commit.title,
            tags=tags_by_sha.get(head, []),
            history_rewritten=True,
        )
        fingerprints = _fingerprints(manifest, new_files, old_manifest, known.head_fingerprints)
        extra = {"previous_head": old_head, "new_history_length": len(commits)}
        return [_Found(head_commit, old_head, manifest, fingerprints, change, tags_by_sha.get(head, []), extra)]

    manifests: dict[str, Manifest] = {old_head: old_manifest}
    fingerprints_by_sha: dict[str, dict[str, Any]] = {old_head: known.head_fingerprints}
    found: list[_Found] = []
    for commit in commits:
        parent = commit.parents[0] if commit.parents else None
        parent_manifest: Manifest | None = None
        if parent is not None:
            parent_manifest = manifests.get(parent)
            if parent_manifest is None:  # a merged side branch starting before the last seen head
                parent_manifest = manifests[parent] = source.manifest(parent)
        manifest = manifests[commit.sha] = source.manifest(commit.sha)
        changed = _changed_small_files(parent_manifest, manifest)
        old_files = reader.read(parent, parent_manifest, changed) if parent and parent_manifest else {}
        new_files = reader.read(
            commit.sha, manifest, _with_companions(changed) if parent_manifest is not None else SMALL_FILES
        )
        change = classify_change(
            parent_manifest, manifest, old_files, new_files, title=commit.title, tags=tags_by_sha.get(commit.sha, [])
        )
        fingerprints = _fingerprints(manifest, new_files, parent_manifest, fingerprints_by_sha.get(parent or "", {}))
        fingerprints_by_sha[commit.sha] = fingerprints
        found.append(_Found(commit, parent, manifest, fingerprints, change, tags_by_sha.get(commit.sha, [])))
    return found


def _by_sha(tags: Mapping[str, str]) -> dict[str, list[str]]:
    by_sha: dict[str, list[str]] = {}
    for name, sha in sorted(tags.items()):
        by_sha.setdefault(sha, []).append(name)
    return by_sha


# -- phase 3: one transaction ---------------------------------------------------------------------


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _record(
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

        event_query = sa.select(ChangeEvent).where(
            ChangeEvent.model_id == row.id, ChangeEvent.to_sha == item.commit.sha
        )
        event_query = event_query.where(
            ChangeEvent.from_sha.is_(None) if item.from_sha is None else ChangeEvent.from_sha == item.from_sha
        )
        event = session.scalar(event_query)
        if event is None:
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


# -- immediate polls for webhooks -----------------------------------------------------------------


class BackgroundPoller:
    """A webhook trigger: polls a repo in a background thread, coalescing bursts per repo.

    ``poll(repo_id)`` is the poll itself (``drift-monitor webhook`` passes the cycle's poll step, so an
    endpoint model is polled like any other). Calling the poller while a poll of the same repo is running
    schedules exactly one more poll after it, so the last push is always seen and a burst of webhooks
    costs at most two polls.
    """

    def __init__(self, poll: Callable[[str], PollResult]) -> None:
        self.poll = poll
        self._lock = threading.Lock()
        self._running: dict[str, bool] = {}  # repo -> another poll requested while running
        self._threads: set[threading.Thread] = set()
        self.results: list[PollResult] = []

    def __call__(self, repo_id: str) -> None:
        """Request a poll of ``repo_id`` now (returns at once)."""
        with self._lock:
            if repo_id in self._running:
                self._running[repo_id] = True
                return
            self._running[repo_id] = False
            thread = threading.Thread(target=self._loop, args=(repo_id,), name=f"poll-{repo_id}", daemon=True)
            self._threads.add(thread)
        thread.start()

    def _loop(self, repo_id: str) -> None:
        try:
            while True:
                try:
                    result = self.poll(repo_id)
                    with self._lock:
                        self.results.append(result)
                except Exception:
                    logger.exception("webhook poll of %s failed", repo_id)
                with self._lock:
                    if not self._running.get(repo_id):
                        del self._running[repo_id]
                        return
                    self._running[repo_id] = False
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until no poll is running (tests and shutdown); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                return True
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            return not self._threads
