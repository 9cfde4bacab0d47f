"""What the per-revision pages offer to choose from: revisions with runs, their runs, categories, classifiers."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard.queries._base import _cached, _frame, _model_responses, database
from monitor.db import (
    ClassifierVersion,
    Label,
    Response,
    Revision,
    Run,
)

__all__ = ["categories", "classifier_versions", "revisions_with_runs", "run_ids"]


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
