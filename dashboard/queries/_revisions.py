"""Revisions: the commit timeline with its change events, and fingerprints per revision."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard.queries._base import _cached, _frame, database
from monitor.db import (
    ChangeEvent,
    Revision,
    Run,
)

__all__ = ["change_timeline", "file_sizes", "revision_fingerprints"]


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
def file_sizes(url: str, model_id: int, shas: tuple[str, ...]) -> pd.DataFrame:
    """(sha, path, size in bytes) of every file of the given revisions, from their stored manifests.

    Why the manifests: a change event names the files that changed, the manifests say how large each
    side is (a weight shard's size is what a reviewer weighs first).
    """
    statement = sa.select(Revision.sha, Revision.manifest).where(Revision.model_id == model_id, Revision.sha.in_(shas))
    rows: list[tuple[str, str, int]] = []
    with database(url).engine.connect() as connection:
        for sha, manifest in connection.execute(statement):
            for item in (manifest or {}).get("files", []):
                rows.append((str(sha), str(item.get("path")), int(item.get("size") or 0)))
    return pd.DataFrame(rows, columns=["sha", "path", "size"])
