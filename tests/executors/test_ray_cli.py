"""``drift-monitor run`` with ``[executor] kind = "ray"``: the session's local cluster, SmolLM2, PostgreSQL.

The database URL carries a real password (a role made for the test): the run goes through Ray's tasks,
and the password shows up nowhere Ray, the CLI or the monitor's rows record things. PostgreSQL here
trusts 127.0.0.1, so it accepts the tasks' password-less URL either way; which password a node supplies
is ``tests/executors/test_task_database.py``'s subject.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.db import Alert, Run, RunTask, open_database
from monitor.pipeline._alerting import raise_pending_alerts
from tests.conftest import POSTGRES_ADMIN_URL, _psycopg_url
from tests.executors.conftest import RayCluster
from tests.service._proc import DRIFT_MONITOR

pytestmark = pytest.mark.slow


@pytest.fixture
def password_url(postgres_url: str) -> Iterator[tuple[str, str]]:
    """The test database owned by a new login role with a password: (its URL with the password, the password)."""
    role, password = f"dm_role_{secrets.token_hex(6)}", f"pw-{secrets.token_hex(16)}"
    database = sa.engine.make_url(postgres_url).database
    admin = sa.create_engine(_psycopg_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
        connection.execute(sa.text(f'ALTER DATABASE "{database}" OWNER TO {role}'))
    url = sa.engine.make_url(postgres_url).set(username=role, password=password)
    yield url.render_as_string(hide_password=False), password
    with admin.connect() as connection:
        connection.execute(sa.text(f'ALTER DATABASE "{database}" OWNER TO postgres'))
    owner = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.execute(sa.text(f"DROP OWNED BY {role}"))
    owner.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP ROLE {role}"))
    admin.dispose()


def _ray_config(path: Path, address: str) -> Path:
    path.write_text(f'[executor]\nkind = "ray"\naddress = "{address}"\nheartbeat_s = 0.5\nstale_after_s = 5\n')
    return path


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DRIFT_MONITOR, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=400
    )


def _run_args(model: Path, *extra: str) -> list[str]:
    return ["run", "--model", str(model), "--suite", "identity", "--limit", "1", "--samples", "1",
            "--batch-size", "1", *extra]  # fmt: skip


def _ray_records(temp_dir: str) -> str:
    """What Ray recorded of this session's tasks (their events in the GCS) and every log file it wrote.

    The events are what ``ray list tasks`` and the dashboard show (here read from the GCS directly:
    the test cluster runs without the dashboard, which ``ray.util.state`` needs).
    """
    from ray._private.state import state

    events = [str(event) for event in state._get_all_task_events()]
    assert any("generate_shard" in event for event in events), "Ray recorded no task of the run"
    texts = [*events]
    for path in Path(temp_dir).rglob("*"):
        if path.is_file() and "logs" in path.parts:
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


def test_run_through_ray_without_its_database_password_travelling(
    ray_cluster: RayCluster, password_url: tuple[str, str], smollm2_dir: Path, tmp_path: Path
) -> None:
    url, password = password_url
    config = _ray_config(tmp_path / "m.toml", ray_cluster.address)
    env = {"DRIFT_MONITOR_DATABASE_URL": url, "DRIFT_MONITOR_CONFIG": str(config)}
    result = _cli(*_run_args(smollm2_dir, "--max-tokens", "4"), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "completed" in result.stdout

    db = open_database(url)
    with db.session() as session:
        (run,) = session.scalars(sa.select(Run)).all()
        tasks = session.scalars(sa.select(RunTask).where(RunTask.run_id == run.id)).all()
        assert run.status == "completed"
        # The configured executor ran it: a Ray task on the cluster's node, not the local worker.
        assert [(t.executor, t.status) for t in tasks] == [("ray", "done")]
        assert "127.0.0.1" in (tasks[0].node or "")
    db.dispose()

    listed = _cli("runs", "list", "--json", env=env)
    table = _cli("runs", "list", env=env)
    assert listed.returncode == table.returncode == 0
    assert '"done"' in listed.stdout
    for text in (result.stdout, result.stderr, listed.stdout, listed.stderr, table.stdout, table.stderr):
        assert password not in text
    assert password not in _ray_records(ray_cluster.temp_dir)


def test_a_task_past_its_timeout_is_cancelled_and_fails_its_run(
    ray_cluster: RayCluster, postgres_url: str, smollm2_dir: Path, tmp_path: Path
) -> None:
    env = {
        "DRIFT_MONITOR_DATABASE_URL": postgres_url,
        "DRIFT_MONITOR_CONFIG": str(_ray_config(tmp_path / "m.toml", ray_cluster.address)),
    }
    # 512 tokens on two shared CPUs: far more than 3 s (loading SmolLM2 alone takes about that).
    result = _cli(*_run_args(smollm2_dir, "--max-tokens", "512", "--timeout", "3"), env=env)
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert "timed out" in last and "engine.timeout_s" in last and "shard_size" in last, last

    db = open_database(postgres_url)
    with db.session() as session:
        (run,) = session.scalars(sa.select(Run)).all()
        (task,) = session.scalars(sa.select(RunTask)).all()
        assert run.status == "failed" and "timed out" in (run.error or "")
        assert task.status == "failed" and task.error == run.error and task.worker_pid
        pid = task.worker_pid
    deadline = time.monotonic() + 30
    while _running(pid):
        assert time.monotonic() < deadline, f"the cancelled task's worker {pid} is still generating"
        time.sleep(0.2)
    assert raise_pending_alerts(db, poll_failure_threshold=3) == 1
    with db.session() as session:
        (alert,) = session.scalars(sa.select(Alert)).all()
        assert alert.kind == "run.failed"
    db.dispose()


def test_executor_flag_needs_the_clusters_address(tmp_path: Path, smollm2_dir: Path) -> None:
    result = _cli(*_run_args(smollm2_dir), "--executor", "ray", env={})
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "--executor ray" in last and "address" in last and "Traceback" not in result.stderr, result.stderr


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting to be reaped is not generating
        return stat.read().split()[2] != "Z"
