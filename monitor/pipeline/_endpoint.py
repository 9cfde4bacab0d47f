"""The endpoint check: a served model's behavioural fingerprint, as the "poll" of a model with no commits.

For a watched model of source ``endpoint`` the fingerprint plays the part of a commit: its content hash
is stored as a ``Revision`` sha (with the fingerprint itself in ``fingerprints``), the model's head
moves to it when it changes, and runs of the model's suites attach to that head like runs of a Hub
revision, so the same drift machinery compares them. A change is recorded as a ``ChangeEvent`` with
kinds ``["endpoint_changed"]`` (always silent: an endpoint never announces a redeploy), and the caller's
``on_change`` runs in the same transaction (``alert_callbacks()`` makes it write ``hub.endpoint_changed``).

Each check is compared with the fingerprint of the current head, not the last check, so a slow slide
that never exceeds the tolerance in one step still shows once it adds up. A suspected change is
confirmed by a second fingerprint before it is believed (a batched GPU server can flip a near-tie).
The HTTP work happens outside any database transaction; the results are written in one short one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from monitor.config import EngineConfig, WatchedModelConfig
from monitor.db import ChangeEvent, Database, Poll, Revision, WatchedModel, utcnow
from monitor.engines import (
    FINGERPRINT_PROMPTS,
    EngineSpec,
    Fingerprint,
    FingerprintDiff,
    OpenAIEngine,
    build_engine,
    compare_fingerprints,
    take_fingerprint,
)
from monitor.errors import ComparisonError, ConfigError, EngineError, ModelNotFoundError
from monitor.pipeline._poll import OnChange, OnFailure

__all__ = ["EndpointCheck", "check_endpoint", "endpoint_spec"]

CheckStatus = Literal["first_seen", "unchanged", "changed", "rebaselined", "failed"]


@dataclass(frozen=True)
class EndpointCheck:
    """What one check found: the head sha after it, and the change event it recorded, if any."""

    model_id: int
    repo_id: str
    status: CheckStatus
    sha: str | None
    previous_sha: str | None
    event_id: int | None = None
    title: str | None = None
    kinds: tuple[str, ...] = ()
    diff: FingerprintDiff | None = None
    error: str | None = None
    requests: int = 0

    @property
    def ok(self) -> bool:
        """False when the endpoint could not be fingerprinted (a failed poll)."""
        return self.status != "failed"

    def to_json(self) -> dict[str, Any]:
        """The same shape as a hub poll's ``check --json`` object (``ref`` is always ``endpoint``)."""
        changes = []
        if self.kinds and self.sha is not None:
            changes.append(
                {
                    "from": self.previous_sha,
                    "to": self.sha,
                    "kinds": list(self.kinds),
                    "silent": self.kinds == ("endpoint_changed",),
                    "title": self.title,
                    "committed_at": None,
                }
            )
        return {"repo_id": self.repo_id, "ref": "endpoint", "head": self.sha, "error": self.error, "changes": changes}


def endpoint_spec(config: WatchedModelConfig) -> EngineSpec:
    """The engine spec of an endpoint model from its TOML entry (``engine.kind = "openai"``, base_url set)."""
    if config.engine.kind != "openai":
        raise ConfigError(
            f"model {config.repo!r} has source = 'endpoint': set engine.kind = 'openai' (not {config.engine.kind!r})"
        )
    if not config.engine.options.get("base_url"):
        raise ConfigError(
            f"model {config.repo!r} has source = 'endpoint': set engine.options.base_url (e.g. http://host:8000/v1)"
        )
    return EngineSpec(kind="openai", model=config.repo, revision=None, options=dict(config.engine.options))


def check_endpoint(
    db: Database,
    model_id: int,
    spec: EngineSpec | None = None,
    *,
    prompts: Sequence[tuple[str, str]] = FINGERPRINT_PROMPTS,
    max_tokens: int = 24,
    logprob_tolerance: float = 0.1,
    confirm: bool = True,
    trigger: str = "schedule",
    on_change: OnChange | None = None,
    on_failure: OnFailure | None = None,
    engine: OpenAIEngine | None = None,
) -> EndpointCheck:
    """Fingerprint the endpoint, compare with the head's fingerprint, and record what changed.

    ``spec`` defaults to the model's stored config entry (``settings["engine"]``, written by
    ``sync_watched_models``). ``engine`` lets a caller reuse a connected engine; otherwise one is built
    from the spec and closed. As with ``poll_model``, ``on_change(session, model, event)`` runs for an
    ``endpoint_changed`` event and ``on_failure(session, model, poll)`` for a failed check, inside the
    transaction that records them: pass ``*alert_callbacks()`` for ``hub.endpoint_changed`` and
    ``poll.failed`` alerts. A failed check is a failed poll, never a change (``status="failed"``).
    """
    started = utcnow()
    with db.session() as session:
        model = _model(session, model_id)
        repo_id = model.repo_id
        spec = spec or _stored_spec(model)
        head = _head(session, model)
        previous = _stored_fingerprint(head)
        previous_sha = head.sha if head is not None else None
    if spec.kind != "openai":
        raise ConfigError(f"an endpoint is checked with the openai engine, not {spec.kind!r}")
    own_engine = engine is None
    requests = 0
    try:
        if engine is None:
            built = build_engine(spec)
            if not isinstance(built, OpenAIEngine):  # pragma: no cover - build_engine maps openai to OpenAIEngine
                raise EngineError(f"engine kind {spec.kind!r} cannot take a fingerprint")
            engine = built
        fingerprint = take_fingerprint(engine, prompts=prompts, max_tokens=max_tokens)
        requests += len(prompts)
        diff = compare_fingerprints(previous, fingerprint, logprob_tolerance=logprob_tolerance) if previous else None
        if previous is not None and diff is not None and diff.changed and confirm:
            fingerprint = take_fingerprint(engine, prompts=prompts, max_tokens=max_tokens)
            requests += len(prompts)
            diff = compare_fingerprints(previous, fingerprint, logprob_tolerance=logprob_tolerance)
        engine_version = engine.version
    except EngineError as exc:
        with db.session() as session:
            model = _model(session, model_id)
            _record_failure(session, model, str(exc), started, requests, trigger, on_failure)
        return EndpointCheck(model_id, repo_id, "failed", previous_sha, previous_sha, error=str(exc), requests=requests)
    finally:
        if own_engine and engine is not None:
            engine.close()

    with db.session() as session:
        model = _model(session, model_id)
        status: CheckStatus
        if previous is None:
            status, kinds = "first_seen", ["first_seen"]
        elif diff is not None and not diff.comparable:
            status, kinds = "rebaselined", ["fingerprint_rebaselined"]
        elif diff is not None and diff.changed and fingerprint.content_hash() != previous_sha:
            status, kinds = "changed", ["endpoint_changed"]
        else:
            status, kinds = "unchanged", []
        event_id, title = None, None
        sha = previous_sha
        if kinds:
            revision = _ensure_revision(session, model, fingerprint, previous_sha, spec, engine_version)
            sha = revision.sha
            event = _record_event(session, model, previous_sha, sha, kinds, diff, previous, fingerprint)
            event_id, title = event.id, event.title
            model.head_sha = sha
            if status == "changed" and on_change is not None:
                on_change(session, model, event)
        session.add(
            Poll(
                model_id=model.id,
                started_at=started,
                finished_at=utcnow(),
                ok=True,
                head_sha=sha,
                requests=requests,
                changes=1 if status == "changed" else 0,
                trigger=trigger,
            )
        )
        model.last_polled_at = utcnow()
        model.last_poll_error = None
        model.consecutive_poll_failures = 0
    return EndpointCheck(
        model_id,
        repo_id,
        status,
        sha,
        previous_sha,
        event_id=event_id,
        title=title,
        kinds=tuple(kinds),
        diff=diff,
        requests=requests,
    )


def _model(session: Session, model_id: int) -> WatchedModel:
    model = session.get(WatchedModel, model_id)
    if model is None:
        raise ModelNotFoundError(f"watched model {model_id} does not exist (see: drift-monitor models list)")
    return model


def _stored_spec(model: WatchedModel) -> EngineSpec:
    """The spec from the model's config entry as ``sync_watched_models`` stored it."""
    stored = model.settings.get("engine") if isinstance(model.settings, dict) else None
    options = stored.get("options") if isinstance(stored, dict) else None
    if not isinstance(stored, dict) or stored.get("kind") != "openai" or not isinstance(options, dict):
        raise ConfigError(
            f"model {model.repo_id!r} has no endpoint settings: give it engine.kind = 'openai' and "
            "engine.options.base_url in the config file"
        )
    try:
        engine = EngineConfig.model_validate(stored)
    except ValidationError as exc:
        raise ConfigError(
            f"model {model.repo_id!r}: stored engine settings are invalid ({exc.errors()[0]['msg']})"
        ) from None
    return endpoint_spec(WatchedModelConfig(repo=model.repo_id, source="endpoint", engine=engine))


def _endpoint_settings(spec: EngineSpec) -> dict[str, Any]:
    """Where the endpoint is (never a key: only the name of the variable that holds it)."""
    options = spec.options
    return {
        "base_url": options.get("base_url"),
        "served_model": options.get("served_model") or spec.model,
        "api_key_env": options.get("api_key_env", "OPENAI_API_KEY"),
    }


def _head(session: Session, model: WatchedModel) -> Revision | None:
    if model.head_sha is None:
        return None
    return session.scalar(sa.select(Revision).where(Revision.model_id == model.id, Revision.sha == model.head_sha))


def _stored_fingerprint(head: Revision | None) -> Fingerprint | None:
    if head is None or not head.fingerprints.get("entries"):
        return None
    try:
        return Fingerprint.from_dict(head.fingerprints)
    except ComparisonError:
        return None  # unreadable: start a new baseline rather than fail every check


def _ensure_revision(
    session: Session,
    model: WatchedModel,
    fingerprint: Fingerprint,
    parent_sha: str | None,
    spec: EngineSpec,
    engine_version: str,
) -> Revision:
    """The revision row for this fingerprint; an endpoint that returns to an earlier model reuses its row."""
    sha = fingerprint.content_hash()
    existing = session.scalar(sa.select(Revision).where(Revision.model_id == model.id, Revision.sha == sha))
    if existing is not None:
        return existing
    last_seq = session.scalar(sa.select(sa.func.max(Revision.seq)).where(Revision.model_id == model.id))
    settings = _endpoint_settings(spec)
    revision = Revision(
        model_id=model.id,
        sha=sha,
        seq=(last_seq or 0) + 1,
        parent_sha=parent_sha,
        title=f"fingerprint of {settings['served_model']} at {settings['base_url']}",
        committed_at=None,
        tags=[],
        manifest={
            "files": [],  # an endpoint has no files: the fingerprint is the revision
            "source": "endpoint",
            "base_url": settings["base_url"],
            "served_model": settings["served_model"],
            "system_fingerprint": fingerprint.system_fingerprint,
            "engine_version": engine_version,
            "prompts": len(fingerprint.entries),
            "max_tokens": fingerprint.max_tokens,
        },
        fingerprints=fingerprint.to_dict(),
    )
    session.add(revision)
    session.flush()
    return revision


def _record_event(
    session: Session,
    model: WatchedModel,
    from_sha: str | None,
    to_sha: str,
    kinds: list[str],
    diff: FingerprintDiff | None,
    previous: Fingerprint | None,
    fingerprint: Fingerprint,
) -> ChangeEvent:
    """One event per (from, to); a transition seen again (a flapping endpoint) is noted on the first one."""
    now = utcnow()
    details: dict[str, Any] = {
        "diff": diff.to_dict() if diff is not None else None,
        "system_fingerprint": {
            "before": previous.system_fingerprint if previous else None,
            "after": fingerprint.system_fingerprint,
        },
        "examples": _examples(diff, previous, fingerprint),
    }
    existing = session.scalar(
        sa.select(ChangeEvent).where(
            ChangeEvent.model_id == model.id,
            ChangeEvent.from_sha.is_(None) if from_sha is None else ChangeEvent.from_sha == from_sha,
            ChangeEvent.to_sha == to_sha,
        )
    )
    if existing is not None:
        seen = [*existing.details.get("seen_again_at", []), now.isoformat()]
        existing.details = {**existing.details, "seen_again_at": seen}
        return existing
    served = fingerprint.served_model
    title = {
        "first_seen": f"first fingerprint of {served}",
        "endpoint_changed": f"the model served as {served} changed: {diff.reason if diff else ''}",
        "fingerprint_rebaselined": f"new fingerprint baseline for {served} ({diff.reason if diff else ''})",
    }[kinds[0]]
    event = ChangeEvent(
        model_id=model.id,
        from_sha=from_sha,
        to_sha=to_sha,
        kinds=kinds,
        silent=kinds == ["endpoint_changed"],
        title=title,
        committed_at=None,
        details=details,
        detected_at=now,
    )
    session.add(event)
    session.flush()
    return event


def _examples(
    diff: FingerprintDiff | None, previous: Fingerprint | None, fingerprint: Fingerprint, limit: int = 3
) -> list[dict[str, str]]:
    """Before/after answers of the first prompts whose answer changed: the evidence a reviewer reads."""
    if diff is None or previous is None:
        return []
    before = {e.prompt_id: e.text for e in previous.entries}
    after = {e.prompt_id: e.text for e in fingerprint.entries}
    return [{"prompt_id": p, "before": before[p], "after": after[p]} for p in diff.text_changed[:limit]]


def _record_failure(
    session: Session,
    model: WatchedModel,
    error: str,
    started: dt.datetime,
    requests: int,
    trigger: str,
    on_failure: OnFailure | None,
) -> None:
    poll = Poll(
        model_id=model.id,
        started_at=started,
        finished_at=utcnow(),
        ok=False,
        error=error,
        head_sha=model.head_sha,
        requests=requests,
        changes=0,
        trigger=trigger,
    )
    session.add(poll)
    model.last_polled_at = utcnow()
    model.last_poll_error = error
    model.consecutive_poll_failures += 1
    session.flush()
    if on_failure is not None:
        on_failure(session, model, poll)
