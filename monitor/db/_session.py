"""Engines, sessions and schema migration for SQLite files and PostgreSQL.

Choice (documented in the README): every command that opens the database upgrades it to the newest
schema first, with Alembic, so a new SQLite file or an empty PostgreSQL database just works.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor._redact import redact
from monitor._resources import bundled_dir
from monitor.errors import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS_DIR",
    "SCHEMA_HEAD",
    "Database",
    "current_revision",
    "head_revision",
    "make_engine",
    "open_database",
    "upgrade",
]

MIGRATIONS_DIR = bundled_dir("migrations")
SCHEMA_HEAD = "0003_i12_events"
"""The newest migration's revision id, so that opening an up-to-date database needs no Alembic (a script
scan imports every migration: a third of a quick command's start). tests/db/test_migrations.py checks it
against ``migrations/versions``: a new migration that does not move it fails the suite."""
_SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith(("postgresql://", "postgres://")):
        # psycopg 3 is the driver we ship; SQLAlchemy's default for a bare URL would be psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        engine = sa.create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    except (SQLAlchemyError, ValueError, ModuleNotFoundError) as exc:
        raise DatabaseError(f"cannot use database URL {_safe(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise DatabaseError(f"directory {parent} for the SQLite database does not exist")
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise DatabaseError(
            f"migrations not found at {MIGRATIONS_DIR}; reinstall drift-monitor (its wheel ships them)"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest schema revision in the migration scripts (what ``SCHEMA_HEAD`` must say)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None, "migrations/versions is empty"
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None when it was never migrated).

    Read from Alembic's own table with plain SQL: Alembic is imported only when there is work to do.
    """
    with _translate(engine), engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, target: str = "head") -> None:
    """Migrate the database to ``target`` (the newest schema by default)."""
    from alembic import command

    with _translate(engine):
        command.upgrade(_alembic_config(engine), target)


class Database:
    """An engine and its session factory; the one object the pipeline passes around."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success, rolls back on error, and reports a full disk clearly."""
        session = self._sessions()
        try:
            with _translate(self.engine):
                yield session
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close pooled connections (before a fork, or at exit)."""
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open the database at ``url``, upgrading its schema first unless told not to."""
    engine = make_engine(url)
    if migrate and current_revision(engine) != SCHEMA_HEAD:
        upgrade(engine)
    return Database(engine)


@contextlib.contextmanager
def _translate(engine: Engine) -> Iterator[None]:
    """Turn driver errors a user can fix (unreachable server, full disk, locked file) into DatabaseError."""
    try:
        yield
    except OperationalError as exc:
        raise DatabaseError(_explain(engine, exc)) from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DatabaseError(f"disk full while writing {_safe(str(engine.url))}: free space and retry") from None
        raise


def _explain(engine: Engine, exc: OperationalError) -> str:
    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    where = engine.url.render_as_string(hide_password=True)
    if "disk" in text.lower() and "full" in text.lower():
        return f"disk full while writing {where}: free space and retry"
    if engine.dialect.name == "sqlite":
        return f"cannot use SQLite database {where}: {text}"
    return f"cannot reach database {where}: {text} (check DRIFT_MONITOR_DATABASE_URL and that the server runs)"


def _safe(url: str) -> str:
    """A database URL as shown in messages: the one redaction rule, parseable or not."""
    return redact(url)
