"""The tables of DESIGN.md as typed SQLAlchemy 2 models.

The schema itself is made only by Alembic migrations (migrations/); these classes describe it for
queries. Unique constraints carry the idempotency of every step: a restarted step inserts what is
missing and the database refuses duplicates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from monitor.db._status import AlertStatus, DeliveryStatus, ModelStatus, RunStatus

__all__ = [
    "Alert",
    "AlertDelivery",
    "Base",
    "ChangeEvent",
    "ClassifierVersion",
    "Comparison",
    "Embedding",
    "Label",
    "Poll",
    "ProbeSuite",
    "Response",
    "ResponseAnalysis",
    "ReviewerLabel",
    "Revision",
    "Run",
    "RunTask",
    "ServiceLease",
    "WatchedModel",
    "utcnow",
]


def utcnow() -> dt.datetime:
    """The current time, timezone-aware (a scheduler lives on timestamps)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Store UTC; always hand back aware datetimes, also on SQLite, which forgets the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use monitor.db.utcnow()")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with the JSON and timestamp mappings used throughout."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class WatchedModel(Base):
    """A repository (or endpoint) under watch, with what it should say it is."""

    __tablename__ = "watched_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[str] = mapped_column(String(300), unique=True)
    ref: Mapped[str] = mapped_column(String(200), default="main")
    source: Mapped[str] = mapped_column(String(20), default="hf")
    expected_identity: Mapped[str | None] = mapped_column(String(50))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[ModelStatus] = mapped_column(String(20), default="active")
    head_sha: Mapped[str | None] = mapped_column(String(64))
    last_polled_at: Mapped[dt.datetime | None]
    last_poll_error: Mapped[str | None] = mapped_column(Text)
    consecutive_poll_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    revisions: Mapped[list[Revision]] = relationship(back_populates="model", order_by="Revision.seq")


class Revision(Base):
    """One commit of a watched repository, with its file manifest and fingerprints."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("model_id", "sha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("watched_models.id", ondelete="CASCADE"), index=True)
    sha: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    parent_sha: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    committed_at: Mapped[dt.datetime | None]
    tags: Mapped[list[Any]] = mapped_column(default=list)
    manifest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fingerprints: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    model: Mapped[WatchedModel] = relationship(back_populates="revisions")


class Poll(Base):
    """One poll of a source: its outcome, cost and error. A failed poll is never a change."""

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("watched_models.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    head_sha: Mapped[str | None] = mapped_column(String(64))
    requests: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")


class ChangeEvent(Base):
    """What changed between two revisions: kinds, whether anybody said so, which files.

    One row per transition as it happened: the same (from, to) pair may occur more than once (a
    force-push back and forth, a repository gone twice), each with its own alert.
    """

    __tablename__ = "change_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("watched_models.id", ondelete="CASCADE"), index=True)
    from_sha: Mapped[str | None] = mapped_column(String(64))
    to_sha: Mapped[str] = mapped_column(String(64))
    kinds: Mapped[list[Any]] = mapped_column(default=list)
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(Text)
    committed_at: Mapped[dt.datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ProbeSuite(Base):
    """A probe suite as run: its content is frozen under its content hash."""

    __tablename__ = "probe_suites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    content: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Run(Base):
    """One suite run on one revision with one engine and sampling."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("watched_models.id", ondelete="CASCADE"), index=True)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"), index=True)
    revision_sha: Mapped[str] = mapped_column(String(64))
    suite_id: Mapped[int] = mapped_column(ForeignKey("probe_suites.id"), index=True)
    engine: Mapped[str] = mapped_column(String(30))
    engine_version: Mapped[str | None] = mapped_column(String(100))
    engine_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    device: Mapped[str | None] = mapped_column(String(200))
    sampling: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sampling_hash: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer, default=0)
    samples: Mapped[int] = mapped_column(Integer, default=1)
    probe_limit: Mapped[int | None] = mapped_column(Integer)
    expected_responses: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[RunStatus] = mapped_column(String(20), default="pending", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # who supervises its worker now (_claims.py)
    claim_beat_at: Mapped[dt.datetime | None]

    suite: Mapped[ProbeSuite] = relationship()
    model: Mapped[WatchedModel] = relationship()


class RunTask(Base):
    """One shard of a run handed to an executor: its claim, where it ran, and how it ended.

    The row is the claim: ``token`` names the one submission allowed to write (a task whose token was
    replaced stops at its next batch), and ``heartbeat_at`` says it is alive (renewed by the service while
    the task is queued, by the task while it runs). A restarted service waits on a shard whose heartbeat
    is fresh and resubmits one whose heartbeat went stale, so one shard never has two live tasks.
    """

    __tablename__ = "run_tasks"
    __table_args__ = (UniqueConstraint("run_id", "shard"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    shard: Mapped[int] = mapped_column(Integer)
    first_item: Mapped[int] = mapped_column(Integer)
    last_item: Mapped[int] = mapped_column(Integer)
    executor: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    token: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    generated: Mapped[int] = mapped_column(Integer, default=0)
    node: Mapped[str | None] = mapped_column(String(200))
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    resources: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]


class Response(Base):
    """One generated response; (run, probe, sample) is unique, so a resumed run never duplicates."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("run_id", "probe_id", "sample_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    probe_id: Mapped[str] = mapped_column(String(200))
    sample_index: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(30))
    prompt: Mapped[list[Any]] = mapped_column()
    raw_text: Mapped[str] = mapped_column(Text)
    server_reasoning: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    finish_reason: Mapped[str | None] = mapped_column(String(20))
    latency_s: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ResponseAnalysis(Base):
    """Split, features and reasoning score of one response (pure analysis output, stored)."""

    __tablename__ = "response_analyses"

    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    analyzer_version: Mapped[str] = mapped_column(String(40))
    reasoning_text: Mapped[str | None] = mapped_column(Text)
    answer_text: Mapped[str] = mapped_column(Text)
    think_state: Mapped[str] = mapped_column(String(20))
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    answer_chars: Mapped[int] = mapped_column(Integer, default=0)
    think_chars: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str | None] = mapped_column(String(10))
    prompt_language: Mapped[str | None] = mapped_column(String(10))
    answer_hash: Mapped[str] = mapped_column(String(64), index=True)
    extracted_answer: Mapped[str | None] = mapped_column(Text)
    extraction_method: Mapped[str | None] = mapped_column(String(30))
    correct: Mapped[bool | None] = mapped_column(Boolean)
    analyzed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Label(Base):
    """The identity classifier's judgement of a response, under the classifier version that made it."""

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("response_id", "classifier_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    classifier_version: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(30), index=True)
    reasoning_label: Mapped[str | None] = mapped_column(String(30))
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReviewerLabel(Base):
    """A reviewer's correction, kept apart from model labels and used by ``classifier train``."""

    __tablename__ = "reviewer_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(30))
    reviewer: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ClassifierVersion(Base):
    """A trained identity classifier: where its file is and how well it scored."""

    __tablename__ = "classifier_versions"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    examples: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Embedding(Base):
    """A sentence embedding, cached by (text hash, model): identical texts are embedded once."""

    __tablename__ = "embeddings"
    __table_args__ = (UniqueConstraint("text_hash", "model_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    model_name: Mapped[str] = mapped_column(String(200))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Comparison(Base):
    """A drift report: candidate runs against baseline runs, the metrics and the verdict."""

    __tablename__ = "comparisons"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("watched_models.id", ondelete="CASCADE"), index=True)
    suite_hash: Mapped[str] = mapped_column(String(64))
    baseline_sha: Mapped[str] = mapped_column(String(64))
    candidate_sha: Mapped[str] = mapped_column(String(64))
    baseline_run_ids: Mapped[list[Any]] = mapped_column(default=list)
    candidate_run_ids: Mapped[list[Any]] = mapped_column(default=list)
    kind: Mapped[str] = mapped_column(String(20), default="revision")
    drift: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[str] = mapped_column(String(10), default="none")
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """An outbox row: written with the event that caused it, delivered later, never twice."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("watched_models.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[AlertStatus] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[dt.datetime | None]
    ack_comment: Mapped[str | None] = mapped_column(Text)

    deliveries: Mapped[list[AlertDelivery]] = relationship(back_populates="alert")


class AlertDelivery(Base):
    """Delivery state of one alert on one channel."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(100))
    status: Mapped[DeliveryStatus] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]

    alert: Mapped[Alert] = relationship(back_populates="deliveries")


class ServiceLease(Base):
    """A named lease: the one running service holds it and renews it; a second one refuses to start."""

    __tablename__ = "service_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]


Index("ix_responses_run_probe", Response.run_id, Response.probe_id)
# Covering indexes for the dashboard's per-revision aggregates (migration 0002_dashboard).
Index("ix_responses_run_category_probe", Response.run_id, Response.category, Response.probe_id, Response.id)
Index("ix_labels_response_version_label", Label.response_id, Label.classifier_version, Label.label)
Index(
    "ix_response_analyses_summary",
    ResponseAnalysis.response_id,
    ResponseAnalysis.think_state,
    ResponseAnalysis.truncated,
    ResponseAnalysis.correct,
    ResponseAnalysis.answer_chars,
    ResponseAnalysis.think_chars,
)
