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
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from monitor.config import load_settings
from monitor.db import Database, Revision, WatchedModel, utcnow
from monitor.errors import ModelNotFoundError, MonitorError
from monitor.hub import (
    CONTENT_FINGERPRINTS,
    SMALL_FILES,
    DescribedSource,
    Manifest,
    RevisionSource,
    classify_change,
    compute_fingerprints,
    is_access_denied,
    open_source,
)
from monitor.pipeline._faults import fault_text
from monitor.pipeline._poll_record import record_poll
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

__all__ = ["ChangeRecord", "OnChange", "OnFailure", "PollResult", "hub_cache_dir", "poll_model", "poll_watched"]

logger = logging.getLogger(__name__)

_SMALL_FILE_MAX_BYTES = 4 * 1024 * 1024


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
    result = record_poll(
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


