"""Fixtures for the dashboard tests: two filled databases, each copied per test, and the app's entry script.

Two sources, chosen explicitly by each test (never one silently standing in for the other):

- ``dashboard_db``: a copy of the real pipeline's output, the demo replayed end to end (the session
  fixture ``demo_result`` in tests/conftest.py, shared with the end-to-end tests), with its config. What a reviewer of
  the demo sees: one git-folder model, a docs-only commit, a silent chat-template change and a silent
  weight change, with their runs, comparisons and alerts.
- ``filled_db``: a copy of the database ``tests/dashboard/_fill.py`` writes through the monitor.db
  models: two models and shapes the demo does not have (poll failures, reviewer labels, a hostile
  response, a tokenizer_config.json edit), with a ``FillSummary`` of what it wrote.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard import queries
from monitor.db import Database, open_database
from tests.dashboard._fill import FillSummary, fill_dashboard_data

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@dataclass(frozen=True)
class DashboardData:
    """A private database for one test: its URL, an open handle, and what the filler wrote (filled_db only)."""

    url: str
    db: Database
    summary: FillSummary | None


@pytest.fixture(scope="session")
def _filled_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FillSummary]:
    path = tmp_path_factory.mktemp("dashboard-template") / "template.db"
    db = open_database(f"sqlite:///{path}")
    summary = fill_dashboard_data(db)
    db.dispose()
    return path, summary


def _sqlite_path(url: str) -> Path:
    database = sa.engine.make_url(url).database
    assert database, f"pipeline_db must be a SQLite file for the dashboard tests, got {url}"
    return Path(database)


def _private_copy(
    source: Path, summary: FillSummary | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DashboardData]:
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


@pytest.fixture
def dashboard_db(demo_result: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DashboardData]:
    """A copy of the demo's database for this test alone, with the demo's config (the model's ``name``).

    DRIFT_MONITOR_DATABASE_URL points at the copy and DRIFT_MONITOR_CONFIG at the demo's TOML.
    """
    monkeypatch.setenv("DRIFT_MONITOR_CONFIG", str(demo_result.config_path))
    yield from _private_copy(_sqlite_path(str(demo_result.database_url)), None, tmp_path, monkeypatch)


@pytest.fixture
def filled_db(
    _filled_template: tuple[Path, FillSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DashboardData]:
    """A copy of the filler's database for this test alone; DRIFT_MONITOR_DATABASE_URL points at it."""
    source, summary = _filled_template
    yield from _private_copy(source, summary, tmp_path, monkeypatch)


@pytest.fixture(autouse=True)
def _close_dashboard_connections() -> Iterator[None]:
    """The dashboard keeps one engine per database URL; close them after each test."""
    yield
    queries.dispose_all()
