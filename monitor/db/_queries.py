"""Small query helpers shared by every step; they know tables, not workflows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from monitor.db._models import Base
from monitor.errors import DatabaseError

__all__ = ["conflict_insert", "insert_ignoring_duplicates"]


def conflict_insert(session: Session, table: Any) -> Any:
    """An ``INSERT`` into ``table`` for the session's database, with ``on_conflict_do_nothing`` (SQLite, PostgreSQL).

    The one place that picks the dialect's insert. Its module is imported here, on use: the engine has
    loaded its own dialect already, and a command on SQLite should not import PostgreSQL's.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    raise DatabaseError(f"drift-monitor stores its data in SQLite or PostgreSQL, not {dialect}")


def insert_ignoring_duplicates(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], conflict_columns: Sequence[str]
) -> int:
    """Insert rows, silently skipping those that collide on ``conflict_columns``; returns rows inserted.

    This is what makes every step idempotent: a resumed step re-offers what it has and the database
    keeps the first copy. Works on SQLite and PostgreSQL (``INSERT ... ON CONFLICT DO NOTHING``).
    """
    if not rows:
        return 0
    statement = (
        conflict_insert(session, model.__table__)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
    )
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
