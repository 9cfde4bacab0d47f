"""Shared fixtures: real databases (SQLite files and PostgreSQL on 127.0.0.1:5432) and a clean environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.db import Database, open_database
from tests.hub._hub_server import HubServer

POSTGRES_ADMIN_URL = os.environ.get(
    "DRIFT_MONITOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


# Tests that share an expensive session fixture run on one pytest-xdist worker, so the fixture is built once:
# the demo's pipeline run (e2e and dashboard), the local Ray cluster, the loaded SmolLM2. Every other test
# is a unit of its own, as with --dist load. (A scheduler, not xdist_group marks: pytest-xdist 3.8 renames
# node ids for its loadgroup mode through an attribute pytest 9.2 no longer reads, so the marks are ignored.)
_SHARED_FIXTURE_GROUPS = {
    "tests/e2e/": "demo",
    "tests/dashboard/": "demo",
    "tests/executors/": "ray",
    "tests/engines/": "engines",
}


@pytest.hookimpl(optionalhook=True)  # pytest without xdist (-p no:xdist) still runs the suite
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class _SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((name for prefix, name in _SHARED_FIXTURE_GROUPS.items() if nodeid.startswith(prefix)), nodeid)

    return _SharedFixtureScheduling(config, log)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each worker's torch (and every process it starts) gets its share of the cores.

    Two workers each running a model with one OpenMP thread per core would put two threads on every
    core, and OpenMP's spinning threads then slow both far more than sharing would: give each worker
    ``cores // workers`` threads instead (an explicit OMP_NUM_THREADS is kept).
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's DRIFT_MONITOR_* settings or writes outside its tmp_path."""
    for name in list(os.environ):
        if name.startswith("DRIFT_MONITOR_") and name != "DRIFT_MONITOR_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DRIFT_MONITOR_DATABASE_URL", f"sqlite:///{tmp_path / 'monitor.db'}")
    monkeypatch.setenv("DRIFT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _psycopg_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards. PostgreSQL down is a failure."""
    admin = sa.create_engine(_psycopg_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"dm_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is required for the storage tests: {exc.orig}")
    url = sa.engine.make_url(_psycopg_url(POSTGRES_ADMIN_URL)).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's own directory."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on a SQLite file and once on PostgreSQL."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url"))


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated database on each backend."""
    db = open_database(db_url)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """../shared/data beside the repository (MATH-500, AIME 2024, GSM8K); read there, never copied."""
    from tests._shared_data import SHARED_DATA

    path = SHARED_DATA
    if not path.is_dir():
        pytest.fail(f"the shared benchmark data is expected at {path}")
    return path


@pytest.fixture(scope="session")
def smollm2_dir(request: pytest.FixtureRequest) -> Path:
    """SmolLM2-135M-Instruct as a model folder (safetensors), made once and kept in pytest's cache."""
    from monitor._smollm import materialize_smollm2

    return materialize_smollm2(Path(request.config.cache.mkdir("smollm2")) / "model")


@pytest.fixture(scope="session")
def demo_result(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real pipeline's output: the demo replayed end to end (git source, worker, analysis, drift, alerts).

    Shared by the end-to-end and dashboard tests. The model repository (and its CPU fine-tune) is built
    once in pytest's cache; the database and alerts are new for every session.
    """
    from monitor.config import Settings
    from monitor.demo import DemoOptions, run_demo

    data_dir = tmp_path_factory.mktemp("demo-data")
    settings = Settings(database_url=f"sqlite:///{data_dir / 'unused.db'}", data_dir=data_dir)
    lines: list[str] = []
    result = run_demo(
        settings,
        options=DemoOptions(samples=2, limit=4, max_tokens=32),
        echo=lines.append,
        models_dir=Path(request.config.cache.mkdir("demo-models")),
    )
    return SimpleNamespace(**vars(result), output="\n".join(lines))


@pytest.fixture(scope="session")
def pipeline_db(demo_result: Any) -> str:
    """URL of the database the real pipeline filled (the demo's), for the dashboard tests."""
    return str(demo_result.database_url)


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubServer]:
    """The loopback server speaking the Hub API (tests/hub/_hub_server.py), one per session."""
    server = HubServer().start()
    yield server
    server.stop()


@pytest.fixture
def hub(hub_server: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """The loopback Hub, emptied, with huggingface_hub pointed at it and allowed online for this test.

    huggingface_hub reads HF_HUB_OFFLINE and HF_HUB_DISABLE_XET at import time, so the constants are
    patched as well as the environment; the agent-harness registry lookup (a one-off request the client
    makes to its default endpoint) is answered with the empty registry so nothing leaves the machine.
    """
    import huggingface_hub.constants as constants
    from huggingface_hub.utils import _detect_agent

    hub_server.reset()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_ENDPOINT", hub_server.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(_detect_agent, "_registry", {"standardEnvVars": [], "harnesses": {}})
    return hub_server
