"""Every SQL statement the dashboard runs, reads and writes, in one place.

Why one module: the pages stay presentation only, the benchmark (tests/benchmarks/bench_dashboard.py)
times exactly what the pages run, and a reviewer can check in one file that the dashboard reads the
database and nothing else (never the Hub, never an engine).

Rules kept here:
- aggregation happens in the database (GROUP BY, window sums); pandas only reshapes the few aggregated
  rows that come back;
- every read is cached for ``TTL_S`` seconds with ``st.cache_data`` and keyed by the database URL, so
  two databases in one process (tests) never see each other's figures;
- statements are SQLAlchemy Core over the monitor.db models, so one text runs on SQLite and PostgreSQL
  (no dialect-only functions; booleans are counted with CASE, averages cast to float).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from monitor.db import (
    Alert,
    AlertDelivery,
    ChangeEvent,
    ClassifierVersion,
    Comparison,
    Database,
    Embedding,
    Label,
    Poll,
    Response,
    ResponseAnalysis,
    ReviewerLabel,
    Revision,
    Run,
    WatchedModel,
    open_database,
    utcnow,
)
from monitor.errors import InputError

__all__ = [
    "IDENTITY_LABELS",
    "TTL_S",
    "accuracy_by_problem",
    "acknowledge_alert",
    "add_reviewer_label",
    "alert_deliveries",
    "alert_facets",
    "alerts",
    "categories",
    "change_timeline",
    "classifier_versions",
    "clear_caches",
    "comparison",
    "comparisons",
    "database",
    "dispose_all",
    "embedding_models",
    "embedding_points",
    "format_by_revision",
    "identity_by_language",
    "identity_by_probe",
    "identity_by_revision",
    "label_choices",
    "latest_verdicts",
    "length_histogram",
    "models",
    "open_alerts_by_severity",
    "poll_summary",
    "probe_changes",
    "probe_responses",
    "response_detail",
    "response_labels",
    "review_count",
    "review_page",
    "revision_fingerprints",
    "revisions_with_runs",
    "run_ids",
]

TTL_S = 30
"""Seconds a read stays cached: short, so a new poll or run shows up on the next refresh."""

IDENTITY_LABELS = ("deepseek", "qwen", "openai", "anthropic", "google", "meta", "microsoft", "mistral", "other", "none")
"""The identity classifier's labels; the labels found in the database are added to these."""

_lock = threading.Lock()
_databases: dict[str, Database] = {}


def database(url: str) -> Database:
    """The open database for ``url``, created (and migrated to the newest schema) once per process."""
    with _lock:
        db = _databases.get(url)
        if db is None:
            db = _databases[url] = open_database(url)
        return db


def dispose_all() -> None:
    """Close every pooled connection (tests, and before the process exits)."""
    with _lock:
        for db in _databases.values():
            db.dispose()
        _databases.clear()


def clear_caches() -> None:
    """Forget cached reads, after a write, so the page shows what was just stored."""
    st.cache_data.clear()


def _frame(url: str, statement: sa.Executable) -> pd.DataFrame:
    with database(url).engine.connect() as connection:
        result = connection.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _cached(function: Any) -> Any:
    return st.cache_data(ttl=TTL_S, show_spinner=False)(function)


def _count_true(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _mean(column: Any) -> sa.ColumnElement[float]:
    return sa.cast(sa.func.avg(column), sa.Float)


def _model_responses(model_id: int) -> Any:
    """Responses JOIN runs of one model: the frame most page queries start from."""
    return sa.select().select_from(Response).join(Run, Run.id == Response.run_id).where(Run.model_id == model_id)


# --- models, revisions and polls (Overview, Revisions, sidebar) -------------------------------------------


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
def change_timeline(url: str, model_id: int) -> pd.DataFrame:
    """Every revision of a model in order, with its change event (kinds, silent, changed files) and runs."""
    run_counts = (
        sa.select(Run.revision_sha, sa.func.count().label("runs"))
        .where(Run.model_id == model_id)
        .group_by(Run.revision_sha)
        .subquery()
    )
    statement = (
        sa.select(
            Revision.seq,
            Revision.sha,
            Revision.parent_sha,
            Revision.title,
            Revision.committed_at,
            Revision.seen_at,
            Revision.tags,
            ChangeEvent.from_sha,
            ChangeEvent.kinds,
            ChangeEvent.silent,
            ChangeEvent.details,
            ChangeEvent.detected_at,
            sa.func.coalesce(run_counts.c.runs, 0).label("runs"),
        )
        .outerjoin(ChangeEvent, sa.and_(ChangeEvent.model_id == Revision.model_id, ChangeEvent.to_sha == Revision.sha))
        .outerjoin(run_counts, run_counts.c.revision_sha == Revision.sha)
        .where(Revision.model_id == model_id)
        .order_by(Revision.seq, Revision.committed_at, ChangeEvent.id)
    )
    return _frame(url, statement)


@_cached
def revision_fingerprints(url: str, model_id: int) -> pd.DataFrame:
    """Fingerprints (weights, tokenizer, chat template, ...) of every revision, in order."""
    statement = (
        sa.select(Revision.seq, Revision.sha, Revision.committed_at, Revision.fingerprints)
        .where(Revision.model_id == model_id)
        .order_by(Revision.seq, Revision.committed_at)
    )
    return _frame(url, statement)


@_cached
def revisions_with_runs(url: str, model_id: int) -> pd.DataFrame:
    """Revisions that have runs, in commit order: the choices of every per-revision page."""
    statement = (
        sa.select(
            Run.revision_sha,
            sa.func.min(Revision.seq).label("seq"),
            sa.func.min(Revision.title).label("title"),
            sa.func.min(Revision.committed_at).label("committed_at"),
            sa.func.count().label("runs"),
            sa.func.min(Run.created_at).label("first_run_at"),
        )
        .outerjoin(Revision, Revision.id == Run.revision_id)
        .where(Run.model_id == model_id)
        .group_by(Run.revision_sha)
    )
    frame = _frame(url, statement)
    if frame.empty:
        return frame
    frame = frame.sort_values(["seq", "first_run_at"], na_position="last").reset_index(drop=True)
    frame["revision"] = [
        f"{int(seq)}·{sha[:7]}" if pd.notna(seq) else sha[:7]
        for seq, sha in zip(frame["seq"], frame["revision_sha"], strict=True)
    ]
    return frame


@_cached
def run_ids(url: str, model_id: int, sha: str) -> tuple[int, ...]:
    """The runs of one revision (both sides of a comparison that was never stored)."""
    statement = sa.select(Run.id).where(Run.model_id == model_id, Run.revision_sha == sha).order_by(Run.id)
    with database(url).engine.connect() as connection:
        return tuple(int(value) for value in connection.execute(statement).scalars())


@_cached
def categories(url: str, model_id: int) -> pd.DataFrame:
    """Response categories of a model (identity, reasoning, format, ...) with their counts."""
    per_run = (
        _model_responses(model_id)
        .add_columns(Response.run_id, Response.category, sa.func.count().label("responses"))
        .group_by(Response.run_id, Response.category)
        .subquery()
    )
    statement = (
        sa.select(per_run.c.category, sa.func.sum(per_run.c.responses).label("responses"))
        .group_by(per_run.c.category)
        .order_by(per_run.c.category)
    )
    return _frame(url, statement)


@_cached
def classifier_versions(url: str) -> list[str]:
    """Identity-classifier versions to choose from: the newest label's version first, then registered ones.

    Why not ``SELECT DISTINCT`` over labels: that reads every label (a quarter of a million rows and
    more); the newest label (by id) and the small classifier_versions table answer the same question.
    """
    newest = sa.select(Label.classifier_version).order_by(Label.id.desc()).limit(1)
    registered = sa.select(ClassifierVersion.version).order_by(ClassifierVersion.created_at.desc())
    with database(url).engine.connect() as connection:
        first = connection.execute(newest).scalar_one_or_none()
        others = [str(v) for v in connection.execute(registered).scalars()]
    versions = [str(first)] if first is not None else []
    return versions + [v for v in others if v not in versions]


# --- identity ----------------------------------------------------------------------------------------------


def _identity_base(model_id: int, classifier_version: str, category: str | None) -> Any:
    statement = _model_responses(model_id).join(
        Label, sa.and_(Label.response_id == Response.id, Label.classifier_version == classifier_version)
    )
    return statement if category is None else statement.where(Response.category == category)


@_cached
def identity_by_revision(url: str, model_id: int, classifier_version: str, category: str | None) -> pd.DataFrame:
    """Claims per label per revision: k responses with the label out of n labelled (a window sum).

    Counted per run first (integer keys, in index order), then per revision: the cheap way to group
    a model's whole history.
    """
    per_run = (
        _identity_base(model_id, classifier_version, category)
        .add_columns(Response.run_id, Label.label, sa.func.count().label("k"))
        .group_by(Response.run_id, Label.label)
        .subquery()
    )
    k = sa.func.sum(per_run.c.k)
    statement = (
        sa.select(
            Run.revision_sha,
            per_run.c.label,
            k.label("k"),
            sa.func.sum(k).over(partition_by=Run.revision_sha).label("n"),
        )
        .join(Run, Run.id == per_run.c.run_id)
        .group_by(Run.revision_sha, per_run.c.label)
    )
    return _frame(url, statement)


@_cached
def identity_by_probe(
    url: str, model_id: int, classifier_version: str, shas: tuple[str, ...], category: str | None
) -> pd.DataFrame:
    """Claims per label per probe, for the chosen revisions."""
    k = sa.func.count()
    statement = (
        _identity_base(model_id, classifier_version, category)
        .where(Run.revision_sha.in_(shas))
        .add_columns(
            Run.revision_sha,
            Response.probe_id,
            Label.label,
            k.label("k"),
            sa.func.sum(k).over(partition_by=(Run.revision_sha, Response.probe_id)).label("n"),
        )
        .group_by(Run.revision_sha, Response.probe_id, Label.label)
    )
    return _frame(url, statement)


@_cached
def identity_by_language(
    url: str,
    model_id: int,
    classifier_version: str,
    shas: tuple[str, ...],
    category: str | None,
    field: Literal["prompt_language", "language"] = "prompt_language",
) -> pd.DataFrame:
    """Claims per label per language (of the prompt, or detected in the answer), for the chosen revisions."""
    column = ResponseAnalysis.prompt_language if field == "prompt_language" else ResponseAnalysis.language
    language = sa.func.coalesce(column, "unknown")
    k = sa.func.count()
    statement = (
        _identity_base(model_id, classifier_version, category)
        .join(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .where(Run.revision_sha.in_(shas))
        .add_columns(
            Run.revision_sha,
            language.label("language"),
            Label.label,
            k.label("k"),
            sa.func.sum(k).over(partition_by=(Run.revision_sha, language)).label("n"),
        )
        .group_by(Run.revision_sha, language, Label.label)
    )
    return _frame(url, statement)


# --- reasoning and format --------------------------------------------------------------------------------


@_cached
def format_by_revision(url: str, model_id: int) -> pd.DataFrame:
    """One pass over a model's analysed responses, grouped by revision, category and think state.

    Accuracy (scored responses only), truncation, think states and mean lengths all come from this one
    aggregate; the page sums its few rows per revision as it needs. It reads only columns held by the
    covering indexes of migration 0002_dashboard (responses: run, category; analyses: the summary
    columns), never the long texts, and groups per run before per revision.
    """
    per_run = (
        _model_responses(model_id)
        .join(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .add_columns(
            Response.run_id,
            Response.category,
            ResponseAnalysis.think_state,
            sa.func.count().label("n"),
            sa.func.count(ResponseAnalysis.correct).label("scored"),
            _count_true(ResponseAnalysis.correct.is_(True)).label("correct"),
            _count_true(ResponseAnalysis.truncated.is_(True)).label("truncated"),
            sa.func.sum(ResponseAnalysis.answer_chars).label("answer_chars"),
            sa.func.sum(ResponseAnalysis.think_chars).label("think_chars"),
        )
        .group_by(Response.run_id, Response.category, ResponseAnalysis.think_state)
        .subquery()
    )
    sums = [
        sa.func.sum(per_run.c[name]).label(name)
        for name in ("n", "scored", "correct", "truncated", "answer_chars", "think_chars")
    ]
    statement = (
        sa.select(Run.revision_sha, per_run.c.category, per_run.c.think_state, *sums)
        .join(Run, Run.id == per_run.c.run_id)
        .group_by(Run.revision_sha, per_run.c.category, per_run.c.think_state)
    )
    return _frame(url, statement)


@_cached
def accuracy_by_problem(url: str, model_id: int, shas: tuple[str, ...]) -> pd.DataFrame:
    """Per problem and revision: scored samples and correct ones, for the chosen revisions."""
    statement = (
        _model_responses(model_id)
        .join(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .where(Run.revision_sha.in_(shas), ResponseAnalysis.correct.is_not(None))
        .add_columns(
            Run.revision_sha,
            Response.probe_id,
            sa.func.count().label("n"),
            _count_true(ResponseAnalysis.correct.is_(True)).label("k"),
        )
        .group_by(Run.revision_sha, Response.probe_id)
    )
    return _frame(url, statement)


@_cached
def length_histogram(
    url: str, model_id: int, shas: tuple[str, ...], field: Literal["answer_chars", "think_chars"], bin_chars: int
) -> pd.DataFrame:
    """Length distribution in bins of ``bin_chars`` characters, per chosen revision."""
    column = ResponseAnalysis.answer_chars if field == "answer_chars" else ResponseAnalysis.think_chars
    bucket = (column // bin_chars) * bin_chars  # SQLAlchemy renders integer division for both databases
    statement = (
        _model_responses(model_id)
        .join(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .where(Run.revision_sha.in_(shas))
        .add_columns(Run.revision_sha, bucket.label("bin_start"), sa.func.count().label("n"))
        .group_by(Run.revision_sha, bucket)
        .order_by(Run.revision_sha, bucket)
    )
    return _frame(url, statement)


# --- compare -------------------------------------------------------------------------------------------------


@_cached
def comparisons(url: str, model_id: int) -> pd.DataFrame:
    """Stored drift comparisons of a model, newest first (without the report body)."""
    statement = (
        sa.select(
            Comparison.id,
            Comparison.baseline_sha,
            Comparison.candidate_sha,
            Comparison.kind,
            Comparison.drift,
            Comparison.severity,
            Comparison.suite_hash,
            Comparison.created_at,
        )
        .where(Comparison.model_id == model_id)
        .order_by(Comparison.created_at.desc(), Comparison.id.desc())
    )
    return _frame(url, statement)


@_cached
def comparison(url: str, comparison_id: int) -> dict[str, Any] | None:
    """One comparison with its report and the runs on each side."""
    statement = sa.select(
        Comparison.id,
        Comparison.baseline_sha,
        Comparison.candidate_sha,
        Comparison.baseline_run_ids,
        Comparison.candidate_run_ids,
        Comparison.kind,
        Comparison.drift,
        Comparison.severity,
        Comparison.report,
        Comparison.created_at,
    ).where(Comparison.id == comparison_id)
    with database(url).engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return dict(row) if row is not None else None


def _side(baseline: Sequence[int]) -> sa.ColumnElement[str]:
    return sa.case((Response.run_id.in_(list(baseline)), "baseline"), else_="candidate")


@_cached
def probe_changes(
    url: str, baseline_runs: tuple[int, ...], candidate_runs: tuple[int, ...], classifier_version: str
) -> pd.DataFrame:
    """Per side, probe and identity label: responses and correct ones (for the most-changed probes)."""
    side = _side(baseline_runs)
    label = sa.func.coalesce(Label.label, "(unlabelled)")
    statement = (
        sa.select(
            side.label("side"),
            Response.probe_id,
            Response.category,
            label.label("label"),
            sa.func.count().label("n"),
            sa.func.count(ResponseAnalysis.correct).label("scored"),
            _count_true(ResponseAnalysis.correct.is_(True)).label("correct"),
        )
        .outerjoin(Label, sa.and_(Label.response_id == Response.id, Label.classifier_version == classifier_version))
        .outerjoin(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .where(Response.run_id.in_(list(baseline_runs) + list(candidate_runs)))
        .group_by(side, Response.probe_id, Response.category, label)
    )
    return _frame(url, statement)


@_cached
def probe_responses(
    url: str, run_ids: tuple[int, ...], probe_id: str, classifier_version: str, limit: int = 3
) -> pd.DataFrame:
    """The first few responses of one probe in the given runs, with their label and score."""
    statement = (
        sa.select(
            Response.id,
            Response.run_id,
            Response.sample_index,
            Response.raw_text,
            ResponseAnalysis.answer_text,
            ResponseAnalysis.correct,
            ResponseAnalysis.extracted_answer,
            Label.label,
            Label.confidence,
        )
        .outerjoin(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .outerjoin(Label, sa.and_(Label.response_id == Response.id, Label.classifier_version == classifier_version))
        .where(Response.run_id.in_(list(run_ids)), Response.probe_id == probe_id)
        .order_by(Response.sample_index, Response.run_id)
        .limit(limit)
    )
    return _frame(url, statement)


@_cached
def embedding_models(url: str, run_ids: tuple[int, ...], sample: int = 500) -> pd.DataFrame:
    """Embedding models that embedded answers of these runs, most used first (judged on a sample of answers).

    A sample, because the question is which models exist for these runs, not how many rows each has;
    counting them all would join every answer of both revisions with the embeddings.
    """
    answers = (
        sa.select(ResponseAnalysis.answer_hash)
        .join(Response, Response.id == ResponseAnalysis.response_id)
        .where(Response.run_id.in_(list(run_ids)))
        .limit(sample)
        .subquery()
    )
    statement = (
        sa.select(Embedding.model_name, sa.func.count().label("embedded"))
        .join(answers, answers.c.answer_hash == Embedding.text_hash)
        .group_by(Embedding.model_name)
        .order_by(sa.func.count().desc(), Embedding.model_name)
    )
    return _frame(url, statement)


@_cached
def embedding_points(
    url: str, run_ids: tuple[int, ...], model_name: str, classifier_version: str, limit: int = 1000
) -> pd.DataFrame:
    """Up to ``limit`` answer embeddings of these runs (an even spread, not the first probes only)."""
    # A fixed pseudo-shuffle, the same on both databases (64-bit, so PostgreSQL does not overflow).
    spread = (sa.cast(Response.id, sa.BigInteger) * sa.literal(2654435761, sa.BigInteger)) % 1000003
    statement = (
        sa.select(
            Response.id.label("response_id"),
            Response.run_id,
            Response.probe_id,
            sa.func.coalesce(Label.label, "(unlabelled)").label("label"),
            Embedding.dim,
            Embedding.vector,
        )
        .join(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .join(
            Embedding,
            sa.and_(Embedding.text_hash == ResponseAnalysis.answer_hash, Embedding.model_name == model_name),
        )
        .outerjoin(Label, sa.and_(Label.response_id == Response.id, Label.classifier_version == classifier_version))
        .where(Response.run_id.in_(list(run_ids)))
        .order_by(spread)
        .limit(limit)
    )
    return _frame(url, statement)


# --- alerts ------------------------------------------------------------------------------------------------


@_cached
def alert_facets(url: str) -> pd.DataFrame:
    """Kinds, severities and statuses present, with counts: the choices of the Alerts filters."""
    statement = (
        sa.select(Alert.kind, Alert.severity, Alert.status, sa.func.count().label("alerts"))
        .group_by(Alert.kind, Alert.severity, Alert.status)
        .order_by(Alert.kind, Alert.severity, Alert.status)
    )
    return _frame(url, statement)


@_cached
def alerts(
    url: str,
    *,
    kinds: tuple[str, ...] = (),
    severities: tuple[str, ...] = (),
    statuses: tuple[str, ...] = (),
    model_id: int | None = None,
    open_only: bool = False,
    limit: int = 500,
) -> pd.DataFrame:
    """Alerts matching the filters, newest first, with how many channels delivered each."""
    deliveries = (
        sa.select(
            AlertDelivery.alert_id,
            sa.func.count().label("channels"),
            _count_true(AlertDelivery.status == "delivered").label("delivered_to"),
        )
        .group_by(AlertDelivery.alert_id)
        .subquery()
    )
    statement = (
        sa.select(
            Alert.id,
            Alert.created_at,
            Alert.severity,
            Alert.kind,
            WatchedModel.repo_id,
            Alert.title,
            Alert.status,
            Alert.attempts,
            Alert.last_error,
            sa.func.coalesce(deliveries.c.delivered_to, 0).label("delivered_to"),
            sa.func.coalesce(deliveries.c.channels, 0).label("channels"),
            Alert.acknowledged_by,
            Alert.acknowledged_at,
            Alert.ack_comment,
        )
        .outerjoin(WatchedModel, WatchedModel.id == Alert.model_id)
        .outerjoin(deliveries, deliveries.c.alert_id == Alert.id)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    if kinds:
        statement = statement.where(Alert.kind.in_(kinds))
    if severities:
        statement = statement.where(Alert.severity.in_(severities))
    if statuses:
        statement = statement.where(Alert.status.in_(statuses))
    if model_id is not None:
        statement = statement.where(Alert.model_id == model_id)
    if open_only:
        statement = statement.where(Alert.acknowledged_at.is_(None))
    return _frame(url, statement)


@_cached
def alert_deliveries(url: str, alert_id: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """One alert's payload and its delivery state per channel."""
    payload = sa.select(Alert.payload).where(Alert.id == alert_id)
    with database(url).engine.connect() as connection:
        document = connection.execute(payload).scalar_one_or_none()
    statement = (
        sa.select(
            AlertDelivery.channel,
            AlertDelivery.status,
            AlertDelivery.attempts,
            AlertDelivery.last_error,
            AlertDelivery.next_attempt_at,
            AlertDelivery.delivered_at,
        )
        .where(AlertDelivery.alert_id == alert_id)
        .order_by(AlertDelivery.channel)
    )
    return (document or {}), _frame(url, statement)


# --- review -------------------------------------------------------------------------------------------------


def _review_filter(
    statement: Any,
    model_id: int,
    classifier_version: str,
    sha: str | None,
    category: str | None,
    label: str | None,
    probe: str | None,
) -> Any:
    statement = statement.where(Run.model_id == model_id)
    if sha is not None:
        statement = statement.where(Run.revision_sha == sha)
    if category is not None:
        statement = statement.where(Response.category == category)
    if probe is not None:
        statement = statement.where(Response.probe_id == probe)
    if label is not None:
        statement = statement.where(Label.label == label, Label.classifier_version == classifier_version)
    return statement


@_cached
def review_count(
    url: str,
    model_id: int,
    classifier_version: str,
    *,
    sha: str | None = None,
    category: str | None = None,
    label: str | None = None,
    probe: str | None = None,
) -> int:
    """How many responses match the Review filters (for the pager)."""
    statement = sa.select(sa.func.count()).select_from(Response).join(Run, Run.id == Response.run_id)
    if label is not None:
        statement = statement.join(Label, Label.response_id == Response.id)
    statement = _review_filter(statement, model_id, classifier_version, sha, category, label, probe)
    with database(url).engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


@_cached
def review_page(
    url: str,
    model_id: int,
    classifier_version: str,
    *,
    sha: str | None = None,
    category: str | None = None,
    label: str | None = None,
    probe: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> pd.DataFrame:
    """One page of responses, newest first, with the classifier's label and the newest reviewer correction."""
    newest_review = (
        sa.select(ReviewerLabel.response_id, sa.func.max(ReviewerLabel.id).label("review_id"))
        .group_by(ReviewerLabel.response_id)
        .subquery()
    )
    # The page's ids first (an index walk, newest first, stopping after ``limit``), then their details.
    ids = sa.select(Response.id).select_from(Response).join(Run, Run.id == Response.run_id)
    if label is not None:
        ids = ids.join(Label, Label.response_id == Response.id)
    ids = _review_filter(ids, model_id, classifier_version, sha, category, label, probe)
    page = ids.order_by(Response.id.desc()).limit(limit).offset(offset).subquery()
    statement = (
        sa.select(
            Response.id,
            Run.revision_sha,
            Response.probe_id,
            Response.sample_index,
            Response.category,
            Label.label,
            Label.confidence,
            ReviewerLabel.label.label("reviewer_label"),
            sa.func.substr(ResponseAnalysis.answer_text, 1, 120).label("answer_excerpt"),
            ReviewerLabel.reviewer,
            ResponseAnalysis.correct,
            ResponseAnalysis.think_state,
            ResponseAnalysis.language,
            Response.finish_reason,
            ResponseAnalysis.answer_chars,
        )
        .select_from(page)
        .join(Response, Response.id == page.c.id)
        .join(Run, Run.id == Response.run_id)
        .outerjoin(Label, sa.and_(Label.response_id == Response.id, Label.classifier_version == classifier_version))
        .outerjoin(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .outerjoin(newest_review, newest_review.c.response_id == Response.id)
        .outerjoin(ReviewerLabel, ReviewerLabel.id == newest_review.c.review_id)
        .order_by(Response.id.desc())
    )
    return _frame(url, statement)


@_cached
def response_detail(url: str, response_id: int) -> dict[str, Any] | None:
    """Everything stored about one response: prompt, raw text, split, analysis, run and revision."""
    statement = (
        sa.select(
            Response.id,
            Response.run_id,
            Run.revision_sha,
            WatchedModel.repo_id,
            WatchedModel.expected_identity,
            Response.probe_id,
            Response.sample_index,
            Response.category,
            Response.prompt,
            Response.raw_text,
            Response.server_reasoning,
            Response.prompt_tokens,
            Response.completion_tokens,
            Response.finish_reason,
            Response.latency_s,
            ResponseAnalysis.reasoning_text,
            ResponseAnalysis.answer_text,
            ResponseAnalysis.think_state,
            ResponseAnalysis.truncated,
            ResponseAnalysis.language,
            ResponseAnalysis.prompt_language,
            ResponseAnalysis.extracted_answer,
            ResponseAnalysis.correct,
        )
        .join(Run, Run.id == Response.run_id)
        .join(WatchedModel, WatchedModel.id == Run.model_id)
        .outerjoin(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .where(Response.id == response_id)
    )
    with database(url).engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return dict(row) if row is not None else None


@_cached
def response_labels(url: str, response_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A response's classifier labels (every version) and its reviewer corrections, newest first."""
    machine = (
        sa.select(
            Label.classifier_version,
            Label.label,
            Label.reasoning_label,
            Label.confidence,
            Label.evidence,
            Label.created_at,
        )
        .where(Label.response_id == response_id)
        .order_by(Label.created_at.desc())
    )
    human = (
        sa.select(ReviewerLabel.label, ReviewerLabel.reviewer, ReviewerLabel.comment, ReviewerLabel.created_at)
        .where(ReviewerLabel.response_id == response_id)
        .order_by(ReviewerLabel.id.desc())
    )
    return _frame(url, machine), _frame(url, human)


@_cached
def label_choices(url: str) -> list[str]:
    """The classifier's labels plus any other label present in the database."""
    statement = sa.select(Label.label).distinct()
    with database(url).engine.connect() as connection:
        found = {str(value) for value in connection.execute(statement).scalars()}
    return list(IDENTITY_LABELS) + sorted(found - set(IDENTITY_LABELS))


# --- writes ---------------------------------------------------------------------------------------------------


def acknowledge_alert(url: str, alert_id: int, *, by: str, comment: str | None) -> bool:
    """Record who acknowledged an alert, when and why; False when it was already acknowledged."""
    by = by.strip()
    if not by:
        raise InputError("give your name to acknowledge an alert")
    statement = (
        sa.update(Alert)
        .where(Alert.id == alert_id, Alert.acknowledged_at.is_(None))
        .values(acknowledged_by=by[:100], acknowledged_at=utcnow(), ack_comment=(comment or "").strip() or None)
    )
    with database(url).session() as session:
        changed = session.execute(statement).rowcount  # type: ignore[attr-defined]
    clear_caches()
    return bool(changed)


def add_reviewer_label(url: str, response_id: int, *, label: str, reviewer: str, comment: str | None) -> int:
    """Store a reviewer's correction (kept apart from the classifier's labels; ``classifier train`` reads it)."""
    reviewer = reviewer.strip()
    label = label.strip()
    if not reviewer:
        raise InputError("give your name to correct a label")
    if not label:
        raise InputError("choose the correct label")
    with database(url).session() as session:
        if session.get(Response, response_id) is None:
            raise InputError(f"response {response_id} does not exist")
        row = ReviewerLabel(
            response_id=response_id, label=label[:30], reviewer=reviewer[:100], comment=(comment or "").strip() or None
        )
        session.add(row)
        session.flush()
        new_id = row.id
    clear_caches()
    return new_id
