"""The database handle, the read cache and the SQL helpers every page's queries share.

Every read is cached for ``TTL_S`` seconds with ``st.cache_data`` and keyed by the database URL, so two
databases in one process (tests) never see each other's figures.
"""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from monitor.db import (
    Database,
    Response,
    Run,
    open_database,
)

__all__ = ["TTL_S", "clear_caches", "database", "dispose_all"]


TTL_S = 30
"""Seconds a read stays cached: short, so a new poll or run shows up on the next refresh."""

_lock = threading.Lock()
_databases: dict[str, Database] = {}


def database(url: str) -> Database:
    """The open database for ``url``, created (and migrated to the newest schema) once per process."""
    with _lock:
        db = _databases.get(url)
        if db is None:
            db = _databases[url] = open_database(url)
        return db


def dispose_all() -> None:
    """Close every pooled connection (tests, and before the process exits)."""
    with _lock:
        for db in _databases.values():
            db.dispose()
        _databases.clear()


def clear_caches() -> None:
    """Forget cached reads, after a write, so the page shows what was just stored."""
    st.cache_data.clear()


def _frame(url: str, statement: sa.Executable) -> pd.DataFrame:
    with database(url).engine.connect() as connection:
        result = connection.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _cached(function: Any) -> Any:
    return st.cache_data(ttl=TTL_S, show_spinner=False)(function)


def _count_true(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _mean(column: Any) -> sa.ColumnElement[float]:
    return sa.cast(sa.func.avg(column), sa.Float)


def _model_responses(model_id: int) -> Any:
    """Responses JOIN runs of one model: the frame most page queries start from."""
    return sa.select().select_from(Response).join(Run, Run.id == Response.run_id).where(Run.model_id == model_id)
