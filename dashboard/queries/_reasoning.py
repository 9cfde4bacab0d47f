"""Reasoning and format: accuracy, think states, truncation and lengths per revision."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import sqlalchemy as sa

from dashboard.queries._base import _cached, _count_true, _frame, _model_responses
from monitor.db import (
    Response,
    ResponseAnalysis,
    Run,
)

__all__ = ["accuracy_by_problem", "format_by_revision", "length_histogram"]


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
