"""A Ray node supplies the database password itself: against a PostgreSQL server that checks passwords.

The shared PostgreSQL on 127.0.0.1:5432 trusts every local connection, so there a task's password-less
URL connects whether or not its node has the password. This module starts a throwaway server that asks
for a scram-sha-256 password on TCP and runs ``drift-monitor run`` through the session's Ray cluster
against it. With the password in the node's pgpass file (``RayCluster.pgpass``, the ``PGPASSFILE`` the
cluster's workers inherit) the run completes and Ray records no password; without it the task cannot
connect and the run fails with the one line that says where the node's password goes. Together they
fail if the service hands tasks the password again (the second test's run would complete) or if the
node's own lookup breaks (the first one's would fail).
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.db import Response, Run, RunTask, open_database
from tests.executors.conftest import RayCluster
from tests.executors.test_ray_cli import _cli, _ray_config, _ray_records, _run_args

pytestmark = pytest.mark.slow

_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass(frozen=True)
class PasswordServer:
    """A PostgreSQL server on 127.0.0.1:``port`` that lets ``role`` in only with ``password`` over TCP."""

    port: int
    socket_dir: Path
    role: str
    password: str

    def url(self, database: str, *, password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql+psycopg://{self.role}{secret}@127.0.0.1:{self.port}/{database}"


def _as_postgres(*args: str) -> None:
    """A server binary run as the ``postgres`` OS user (initdb refuses root); its output only on failure."""
    done = subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{args[0]} failed: {done.stdout}{done.stderr}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def password_server() -> Iterator[PasswordServer]:
    """initdb in a temp dir owned by ``postgres``; TCP from 127.0.0.1 needs a password, the socket dir trusts."""
    home = Path(tempfile.mkdtemp(prefix="dmpgpw", dir="/tmp"))
    shutil.chown(home, "postgres", "postgres")
    data = home / "data"
    server = PasswordServer(_free_port(), home, f"dm_node_{secrets.token_hex(4)}", f"pw-{secrets.token_hex(16)}")
    try:
        _as_postgres(str(_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-sync",
                     "--auth-local=trust", "--auth-host=scram-sha-256")  # fmt: skip
        (data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n", encoding="utf-8"
        )
        options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {home} -c fsync=off"
        _as_postgres(str(_BIN / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w", "-o", options, "start")
        admin = sa.create_engine(
            f"postgresql+psycopg://postgres@/postgres?host={home}&port={server.port}", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE ROLE {server.role} LOGIN PASSWORD '{server.password}'"))
            connection.execute(sa.text(f"CREATE DATABASE granted OWNER {server.role}"))
            connection.execute(sa.text(f"CREATE DATABASE refused OWNER {server.role}"))
        admin.dispose()
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            _as_postgres(str(_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def node_pgpass(ray_cluster: RayCluster) -> Iterator[Path]:
    """The cluster node's pgpass file, emptied of whatever a test wrote there once the test is done."""
    assert not ray_cluster.pgpass.exists(), "a test left a password on the node"
    yield ray_cluster.pgpass
    ray_cluster.pgpass.unlink(missing_ok=True)


def _env(server: PasswordServer, database: str, cluster: RayCluster, tmp_path: Path) -> dict[str, str]:
    """The service's settings: the full URL (the service has the password), Ray as its executor."""
    config = _ray_config(tmp_path / "m.toml", cluster.address)
    return {"DRIFT_MONITOR_DATABASE_URL": server.url(database), "DRIFT_MONITOR_CONFIG": str(config)}


def test_the_password_in_the_nodes_pgpass_file_lets_the_task_in_and_ray_records_none(
    ray_cluster: RayCluster, password_server: PasswordServer, node_pgpass: Path, smollm2_dir: Path, tmp_path: Path
) -> None:
    server = password_server
    node_pgpass.write_text(f"127.0.0.1:{server.port}:granted:{server.role}:{server.password}\n", encoding="utf-8")
    node_pgpass.chmod(0o600)  # libpq ignores a password file others can read
    result = _cli(*_run_args(smollm2_dir, "--max-tokens", "4"), env=_env(server, "granted", ray_cluster, tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "completed" in result.stdout

    db = open_database(server.url("granted"))
    with db.session() as session:
        (run,) = session.scalars(sa.select(Run)).all()
        (task,) = session.scalars(sa.select(RunTask).where(RunTask.run_id == run.id)).all()
        assert run.status == "completed" and run.error is None
        stored = session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.run_id == run.id))
        assert (task.executor, task.status) == ("ray", "done") and task.generated == stored > 0
        assert "127.0.0.1" in (task.node or "")
    db.dispose()
    assert server.password not in result.stdout + result.stderr
    assert server.password not in _ray_records(ray_cluster.temp_dir)


def test_a_node_without_the_password_fails_the_run_with_where_to_set_it(
    ray_cluster: RayCluster, password_server: PasswordServer, node_pgpass: Path, smollm2_dir: Path, tmp_path: Path
) -> None:
    server = password_server
    result = _cli(*_run_args(smollm2_dir, "--max-tokens", "4"), env=_env(server, "refused", ray_cluster, tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    node = f"{socket.gethostname()} (127.0.0.1)"
    # Names the node, the URL the task was given (no password) and the places a node's password goes.
    for part in (node, server.url("refused", password=False), "no password supplied", "PGPASSWORD", "~/.pgpass",
                 "DRIFT_MONITOR_DATABASE_URL", "'ray start'"):  # fmt: skip
        assert part in last, (part, last)
    assert "Traceback" not in result.stderr and server.password not in result.stdout + result.stderr

    db = open_database(server.url("refused"))
    with db.session() as session:
        (run,) = session.scalars(sa.select(Run)).all()
        (task,) = session.scalars(sa.select(RunTask).where(RunTask.run_id == run.id)).all()
        assert run.status == "failed" and run.error is not None and node in run.error
        assert server.url("refused", password=False) in run.error and "PGPASSWORD" in run.error
        assert (task.executor, task.status, task.error) == ("ray", "failed", run.error)
        assert task.generated == 0
    db.dispose()
