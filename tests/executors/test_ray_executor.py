"""The Ray executor on a local cluster (2 CPUs, 2 logical GPUs), PostgreSQL, SmolLM2 on the CPU as payload."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from monitor.config import ExecutorConfig
from monitor.db import Database, open_database
from monitor.executors import JobOutcome, RunJob
from monitor.executors._ray import RayExecutor
from tests.executors._runs import smollm2_job, stored_pairs, tasks_of

pytestmark = pytest.mark.slow


@pytest.fixture
def pg(postgres_url: str) -> Database:
    db = open_database(postgres_url)
    yield db
    db.dispose()


def _executor(db: Database, tmp_path: Path, **overrides: object) -> RayExecutor:
    config = ExecutorConfig(kind="ray", address="auto", heartbeat_s=0.5, stale_after_s=5, **overrides)
    return RayExecutor(config, db=db, data_dir=tmp_path / "data", poll_s=0.1)


def _most_at_once(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(stop, -1) for _, stop in intervals])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_three_models_two_suites_at_once_never_more_than_two_gpu_tasks(
    ray_cluster: object, pg: Database, smollm2_dir: Path, tmp_path: Path
) -> None:
    jobs = [
        smollm2_job(pg, smollm2_dir, repo_id=f"local/model-{name}", suite=suite, limit=1)
        for name in "abc"
        for suite in ("identity", "reasoning")
    ]
    executor = _executor(pg, tmp_path)
    outcomes = list(executor.execute(jobs))
    executor.close()

    assert sorted(o.run_id for o in outcomes) == sorted(j.run_id for j in jobs)
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    intervals = []
    for job in jobs:
        pairs = stored_pairs(pg, job.run_id)
        assert sorted(pairs) == sorted((i.request.probe_id, i.request.sample_index) for i in job.items)
        (task,) = tasks_of(pg, job.run_id)
        assert task.status == "done" and task.attempts == 1 and task.generated == len(job.items)
        assert task.resources == {"num_gpus": 1, "num_cpus": 1.0}
        assert task.node is not None and "127.0.0.1" in task.node and task.worker_pid
        assert task.started_at is not None and task.finished_at is not None
        intervals.append((task.started_at, task.finished_at))
    assert _most_at_once(intervals) == 2  # two logical GPUs: side by side, and never a third


def test_worker_killed_mid_task_is_retried_for_the_missing_pairs_only(
    ray_cluster: object, pg: Database, smollm2_dir: Path, tmp_path: Path
) -> None:
    job = smollm2_job(pg, smollm2_dir, repo_id="local/killed", suite="identity", limit=3)
    assert len(job.items) == 6
    executor = _executor(pg, tmp_path, max_retries=2)
    outcomes: list[JobOutcome] = []
    worker = threading.Thread(target=lambda: outcomes.extend(executor.execute([job])))
    worker.start()
    try:
        killed = _kill_after_first_batch(pg, job)
    finally:
        worker.join(timeout=300)
        executor.close()
    assert not worker.is_alive()
    (outcome,) = outcomes
    assert outcome.error is None
    pairs = stored_pairs(pg, job.run_id)
    assert len(pairs) == len(set(pairs)) == 6
    (task,) = tasks_of(pg, job.run_id)
    assert task.status == "done"
    assert task.attempts == 2  # Ray retried the task once, after the kill
    assert task.worker_pid != killed
    assert task.generated == 6  # the retry generated only what the first attempt had not stored


def _kill_after_first_batch(db: Database, job: RunJob) -> int:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        tasks = tasks_of(db, job.run_id)
        if tasks and tasks[0].status == "running" and 0 < tasks[0].generated < len(job.items) and tasks[0].worker_pid:
            os.kill(tasks[0].worker_pid, signal.SIGKILL)
            return tasks[0].worker_pid
        time.sleep(0.02)
    raise AssertionError("the task never stored a first batch")


def test_a_task_that_fails_fails_its_run_and_raises_run_failed(
    ray_cluster: object, pg: Database, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    from monitor.config import MonitorConfig, WatchedModelConfig
    from monitor.db import Alert, Revision, Run
    from monitor.pipeline import CycleContext, sync_watched_models
    from monitor.pipeline._alerting import raise_pending_alerts
    from monitor.pipeline._fanout import run_many
    from monitor.pipeline._pending import PendingRun

    repo = str(tmp_path / "no-such-repository")
    config = MonitorConfig(
        models=[WatchedModelConfig(repo=repo, source="git", suites=["identity"], limit=1, samples=1, max_tokens=4)],
        executor=ExecutorConfig(kind="ray", address="auto", heartbeat_s=0.5, stale_after_s=5),
    )
    (model_id,) = sync_watched_models(pg, config)
    with pg.session() as session:
        revision = Revision(model_id=model_id, sha="a" * 40, seq=1)
        session.add(revision)
        session.flush()
        revision_id = revision.id
    ctx = CycleContext(db=pg, config=config, data_dir=tmp_path / "data")
    try:
        (outcome,) = run_many(ctx, [PendingRun(model_id, repo, revision_id, "a" * 40, "identity")])
    finally:
        ctx.close()
    assert outcome.status == "failed" and repo in (outcome.error or ""), outcome
    with pg.session() as session:
        run = session.get(Run, outcome.run_id)
        assert run is not None and run.status == "failed" and run.error == outcome.error
    assert raise_pending_alerts(pg, poll_failure_threshold=3) >= 1
    with pg.session() as session:
        kinds = set(session.scalars(sa.select(Alert.kind)))
    assert "run.failed" in kinds


def test_a_stop_cancels_the_tasks_and_the_next_execute_finishes_the_run(
    ray_cluster: object, pg: Database, smollm2_dir: Path, tmp_path: Path
) -> None:
    job = smollm2_job(pg, smollm2_dir, repo_id="local/stopped", suite="identity", limit=3)
    executor = _executor(pg, tmp_path)
    stop = threading.Event()
    outcomes: list[JobOutcome] = []
    worker = threading.Thread(target=lambda: outcomes.extend(executor.execute([job], stop=stop)))
    worker.start()
    deadline = time.monotonic() + 240
    while not stop.is_set():
        assert time.monotonic() < deadline, "the task never stored a first batch"
        tasks = tasks_of(pg, job.run_id)
        if tasks and tasks[0].generated > 0 and tasks[0].worker_pid:
            pid = tasks[0].worker_pid
            stop.set()
        time.sleep(0.02)
    worker.join(timeout=60)
    assert not worker.is_alive()
    (outcome,) = outcomes
    assert (outcome.error or "").startswith("interrupted")
    (task,) = tasks_of(pg, job.run_id)
    assert task.status == "interrupted"
    deadline = time.monotonic() + 30  # the cancelled task's worker is ended, not left generating
    while _alive(pid):
        assert time.monotonic() < deadline, f"worker {pid} still alive after the stop"
        time.sleep(0.2)
    stored = len(stored_pairs(pg, job.run_id))

    (again,) = list(executor.execute([job]))
    executor.close()
    assert again.error is None
    pairs = stored_pairs(pg, job.run_id)
    assert len(pairs) == len(set(pairs)) == 6 and stored < 6
    (task,) = tasks_of(pg, job.run_id)
    assert task.status == "done" and task.generated == 6  # both submissions together: each pair once


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for its parent to reap it is not generating
        return stat.read().split()[2] != "Z"
