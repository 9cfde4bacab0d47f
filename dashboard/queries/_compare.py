"""Compare: stored drift reports, the most changed probes, their responses and the embedding map."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.queries._base import _cached, _count_true, _frame, database
from monitor.db import (
    Comparison,
    Embedding,
    Label,
    Response,
    ResponseAnalysis,
)

__all__ = ["comparison", "comparisons", "embedding_models", "embedding_points", "probe_changes", "probe_responses"]


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
