"""What is watched: the config file's models as ``WatchedModel`` rows, and the config entry of a row.

Every command that polls (``check``, ``webhook``, the service) syncs the config first, and the poll of
an endpoint model reads its settings here; neither needs the run machinery of ``_pending`` (engines,
executors, probe suites), so these two rules live on their own.
"""

from __future__ import annotations

import sqlalchemy as sa

from monitor.config import MonitorConfig, WatchedModelConfig
from monitor.db import Database, WatchedModel
from monitor.hub import public_location, scrub_stored_credentials, store_credentials

__all__ = ["model_config_for", "sync_watched_models"]


def model_config_for(model: WatchedModel, config: MonitorConfig) -> WatchedModelConfig:
    """The config entry of a watched model; models added with ``watch add`` get the defaults."""
    for entry in config.models:
        if public_location(entry.repo) == model.repo_id:
            return entry
    return WatchedModelConfig(
        repo=model.repo_id,
        ref=model.ref,
        source=model.source,  # type: ignore[arg-type]
        expect=model.expected_identity,
    )


def sync_watched_models(db: Database, config: MonitorConfig) -> list[int]:
    """Make a ``WatchedModel`` row for every model in the config (updating ref, source, expectation).

    Models added with ``watch add`` and absent from the config stay watched with default settings.
    Returns the ids of the models to watch (``gone`` and ``gated`` ones included: a repository that
    comes back is noticed by its next poll).
    """
    with db.session() as session:
        scrub_stored_credentials(session)  # rows from before credentials were kept out of the database
        for entry in config.models:
            repo_id = store_credentials(entry.repo) if entry.source == "git" else entry.repo
            row = session.scalar(sa.select(WatchedModel).where(WatchedModel.repo_id == repo_id))
            if row is None:
                row = WatchedModel(repo_id=repo_id)
                session.add(row)
            row.ref, row.source, row.expected_identity = entry.ref, entry.source, entry.expect
            row.settings = {**entry.model_dump(mode="json"), "repo": repo_id}  # credentials stay in the config
        session.flush()
        return list(
            session.scalars(
                sa.select(WatchedModel.id).where(WatchedModel.status != "removed").order_by(WatchedModel.id)
            )
        )
