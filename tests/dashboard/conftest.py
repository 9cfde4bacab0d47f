"""Fixtures for the dashboard tests: a filled database, copied per test, and the app's entry script.

The issue asks for the real pipeline's output, shared with the end-to-end tests. When a session
fixture ``pipeline_db`` exists (tests/conftest.py or tests/e2e/conftest.py; a SQLite URL, or an object
with ``.url``), ``dashboard_db`` copies that database. Until then it copies a database written by
``tests/dashboard/_fill.py`` through the monitor.db models.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard import queries
from monitor.db import Database, open_database
from tests.dashboard._fill import FillSummary, fill_dashboard_data

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@dataclass(frozen=True)
class DashboardData:
    """A private database for one test: its URL, an open handle, and what the filler wrote (if it did)."""

    url: str
    db: Database
    summary: FillSummary | None


@pytest.fixture(scope="session")
def _filled_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FillSummary | None]:
    path = tmp_path_factory.mktemp("dashboard-template") / "template.db"
    db = open_database(f"sqlite:///{path}")
    summary = fill_dashboard_data(db)
    db.dispose()
    return path, summary


def _sqlite_path(url: str) -> Path:
    database = sa.engine.make_url(url).database
    assert database, f"pipeline_db must be a SQLite file for the dashboard tests, got {url}"
    return Path(database)


def _template(request: pytest.FixtureRequest) -> tuple[Path, FillSummary | None]:
    try:
        pipeline = request.getfixturevalue("pipeline_db")
    except pytest.FixtureLookupError:
        template: tuple[Path, FillSummary | None] = request.getfixturevalue("_filled_template")
        return template
    url = pipeline if isinstance(pipeline, str) else str(getattr(pipeline, "url", pipeline))
    return _sqlite_path(url), None


@pytest.fixture
def dashboard_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DashboardData]:
    """A copy of the filled database for this test alone; DRIFT_MONITOR_DATABASE_URL points at it."""
    source, summary = _template(request)
    target = tmp_path / "dashboard.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{target}"
    monkeypatch.setenv("DRIFT_MONITOR_DATABASE_URL", url)
    db = open_database(url)
    yield DashboardData(url=url, db=db, summary=summary)
    db.dispose()
    queries.dispose_all()


@pytest.fixture(autouse=True)
def _close_dashboard_connections() -> Iterator[None]:
    """The dashboard keeps one engine per database URL; close them after each test."""
    yield
    queries.dispose_all()
