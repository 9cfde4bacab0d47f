"""Review: pages of responses with their labels, one response in full, and the reviewer's correction."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.queries._base import _cached, _frame, clear_caches, database
from monitor.analysis import IDENTITY_LABELS
from monitor.db import (
    Label,
    Response,
    ResponseAnalysis,
    ReviewerLabel,
    Run,
    WatchedModel,
)
from monitor.errors import InputError

__all__ = [
    "IDENTITY_LABELS",
    "add_reviewer_label",
    "label_choices",
    "response_detail",
    "response_labels",
    "review_count",
    "review_page",
]


def _matching(
    column: Any,
    model_id: int,
    classifier_version: str,
    sha: str | None,
    category: str | None,
    label: str | None,
    probe: str | None,
) -> Any:
    """``column`` over the responses that match the Review filters: the one rule for the count and the page."""
    statement = sa.select(column).select_from(Response).join(Run, Run.id == Response.run_id)
    statement = statement.where(Run.model_id == model_id)
    if sha is not None:
        statement = statement.where(Run.revision_sha == sha)
    if category is not None:
        statement = statement.where(Response.category == category)
    if probe is not None:
        statement = statement.where(Response.probe_id == probe)
    if label is not None:
        statement = statement.join(Label, Label.response_id == Response.id).where(
            Label.label == label, Label.classifier_version == classifier_version
        )
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
    statement = _matching(sa.func.count(), model_id, classifier_version, sha, category, label, probe)
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
    ids = _matching(Response.id, model_id, classifier_version, sha, category, label, probe)
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
