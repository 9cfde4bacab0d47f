"""Identity: claims per label per revision, probe and language (k of n, counted in the database)."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from dashboard.queries._base import _cached, _frame, _model_responses
from monitor.db import (
    Label,
    Response,
    ResponseAnalysis,
    Run,
)

__all__ = ["identity_by_language", "identity_by_probe", "identity_by_revision"]


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
