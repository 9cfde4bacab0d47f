"""Alembic environment: uses the engine handed over by monitor.db, or sqlalchemy.url from alembic.ini."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from monitor.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///drift-monitor.db")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
