"""The service with ``[executor] kind = "ray"``: SIGKILLed while its tasks run, then started again.

Real parts: ``drift-monitor serve`` subprocesses connecting to the session's local Ray cluster, a git
repository holding SmolLM2-135M (each task checks the pinned revision out on its node), the transformers
engine on the CPU under a logical GPU, PostgreSQL. Two suites, two shards each: four tasks for two GPUs.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.db import Database, Response, Run, RunTask, open_database
from tests.alerts._loopback import free_port
from tests.executors.conftest import RayCluster
from tests.service._proc import DRIFT_MONITOR, http_get, kill_group, start_serve, wait_for
from tests.service.conftest import model_repo

pytestmark = pytest.mark.slow


def _config(path: Path, repo: str, address: str) -> Path:
    path.write_text(
        f"""
[[models]]
repo = "{repo}"
source = "git"
suites = ["identity", "reasoning"]
samples = 1
limit = 2
max_tokens = 4
engine = {{ kind = "transformers", batch_size = 1 }}
schedule = {{ interval_minutes = 0.05, jitter_seconds = 0 }}

[executor]
kind = "ray"
address = "{address}"
shard_size = 1
heartbeat_s = 0.5
stale_after_s = 4
"""
    )
    return path


def _shards(db: Database) -> list[RunTask]:
    with db.session() as session:
        rows = list(session.scalars(sa.select(RunTask).order_by(RunTask.run_id, RunTask.shard)))
        session.expunge_all()
        return rows


def _completed(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Run).where(Run.status == "completed")) or 0)


def test_service_sigkilled_while_tasks_run_then_restarted(
    ray_cluster: RayCluster, postgres_url: str, smollm2_dir: Path, tmp_path: Path
) -> None:
    remote = model_repo(tmp_path / "repo", smollm2_dir)
    config = _config(tmp_path / "monitor.toml", remote.repo_id, ray_cluster.address)
    env = {"DRIFT_MONITOR_CONFIG": str(config), "DRIFT_MONITOR_DATABASE_URL": postgres_url}
    port = free_port()
    args = ["--port", str(port), "--process-interval", "1", "--lease-ttl", "3"]
    db = open_database(postgres_url)
    log = tmp_path / "serve.log"
    first = start_serve(*args, env=env, log=log)
    try:
        wait_for(
            lambda: any(s.status == "running" and s.generated > 0 for s in _shards(db)),
            timeout=400,
            what="a task with a stored batch",
            interval=0.05,
        )
    finally:
        kill_group(first)
    at_kill = {s.id: s for s in _shards(db)}
    assert len(at_kill) == 4 and sum(s.status in ("queued", "running") for s in at_kill.values()) >= 2

    second = start_serve(*args, env=env, log=log)
    # Per shard, its tokens in order, and the last heartbeat seen under the token that held it at the kill.
    seen_tokens: dict[int, list[str]] = {task_id: [s.token or ""] for task_id, s in at_kill.items()}
    last_old_beat = {task_id: s.heartbeat_at for task_id, s in at_kill.items()}
    try:
        deadline = time.monotonic() + 600
        while _completed(db) < 2:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            assert second.poll() is None, log.read_text()[-3000:]
            for shard in _shards(db):
                if shard.token == seen_tokens[shard.id][0]:
                    last_old_beat[shard.id] = shard.heartbeat_at
                elif shard.token and shard.token != seen_tokens[shard.id][-1]:
                    seen_tokens[shard.id].append(shard.token)
            time.sleep(0.1)
        status, metrics = http_get(f"http://127.0.0.1:{port}/metrics")
    finally:
        kill_group(second)

    with db.session() as session:
        runs = list(session.scalars(sa.select(Run)))
        pairs = [
            (run_id, probe, index)
            for run_id, probe, index in session.execute(
                sa.select(Response.run_id, Response.probe_id, Response.sample_index)
            )
        ]
    assert len(runs) == 2 and all(run.status == "completed" for run in runs)
    assert len(pairs) == len(set(pairs)) == sum(run.expected_responses for run in runs)
    for shard in _shards(db):
        assert shard.status == "done"
        assert shard.generated == shard.last_item - shard.first_item, shard  # no pair generated twice
        # Claimed again at most once, and only once the task holding it at the kill had stopped beating.
        assert len(seen_tokens[shard.id]) <= 2
        if len(seen_tokens[shard.id]) == 2:
            beat = last_old_beat[shard.id]
            assert beat is not None and (shard.queued_at - beat).total_seconds() >= 4, (shard, beat)
    assert "task.submitted" in log.read_text()

    # Visible: per-model task states on /metrics, and each run's tasks with the node they ran on.
    assert status == 200
    text = metrics.decode()
    assert f'drift_monitor_tasks{{model="{remote.repo_id}",state="done"}} 4.0' in text
    assert 'drift_monitor_tasks_by_node{node="' in text and "127.0.0.1" in text
    listed = subprocess.run(
        [DRIFT_MONITOR, "runs", "list", "--json"],
        env={**os.environ, "DRIFT_MONITOR_DATABASE_URL": postgres_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    document = json.loads(listed.stdout)
    assert document["tasks_by_model"][remote.repo_id]["done"] == 4
    for run in document["runs"]:
        assert len(run["tasks"]) == 2
        assert all(task["status"] == "done" and "127.0.0.1" in task["node"] for task in run["tasks"])


def test_ray_executor_refuses_sqlite_with_one_line(ray_cluster: RayCluster, tmp_path: Path) -> None:
    config = _config(tmp_path / "monitor.toml", str(tmp_path / "repo"), ray_cluster.address)
    result = subprocess.run(
        [DRIFT_MONITOR, "serve", "--once"],
        env={**os.environ, "DRIFT_MONITOR_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    output = result.stderr + result.stdout
    last = output.strip().splitlines()[-1]
    assert "PostgreSQL" in last and "SQLite" in last and "Traceback" not in output, output
