"""Small query helpers shared by every step; they know tables, not workflows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.db._models import Base

__all__ = ["insert_ignoring_duplicates"]


def insert_ignoring_duplicates(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], conflict_columns: Sequence[str]
) -> int:
    """Insert rows, silently skipping those that collide on ``conflict_columns``; returns rows inserted.

    This is what makes every step idempotent: a resumed step re-offers what it has and the database
    keeps the first copy. Works on SQLite and PostgreSQL (``INSERT ... ON CONFLICT DO NOTHING``).
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    table: Any = model.__table__
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(list(rows)).on_conflict_do_nothing(
            index_elements=list(conflict_columns)
        )
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(list(rows)).on_conflict_do_nothing(
            index_elements=list(conflict_columns)
        )
    else:  # pragma: no cover - only the two supported backends reach here
        raise NotImplementedError(dialect)
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
