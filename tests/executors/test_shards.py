"""Shards, their claims and what a task asks of the cluster (no cluster needed)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from monitor.config import ExecutorConfig, load_config
from monitor.db import Database, RunTask, utcnow
from monitor.engines import EngineSpec
from monitor.errors import ConfigError
from monitor.executors import claim_shard, ensure_shards, read_shards, shard_ranges, task_resources
from monitor.executors._claims import mark_shard, renew_queued
from monitor.pipeline import plan_run
from monitor.probes import load_suite
from tests.executors._runs import new_job


def test_shards_hold_whole_probes() -> None:
    items = plan_run(load_suite("identity"), samples=2, limit=5).items  # 3 items per probe
    assert shard_ranges(items, None) == [(0, 15)]
    assert shard_ranges(items, 2) == [(0, 6), (6, 12), (12, 15)]
    for first, last in shard_ranges(items, 2):
        probes = {item.request.probe_id for item in items[first:last]}
        assert all(item.request.probe_id not in probes for item in items[:first] + items[last:])
    assert shard_ranges((), 3) == []


def test_resources_come_from_the_engine() -> None:
    assert task_resources(EngineSpec("vllm", "m", options={"tensor_parallel_size": 4})) == {
        "num_gpus": 4,
        "num_cpus": 1.0,
    }
    assert task_resources(EngineSpec("vllm", "m"))["num_gpus"] == 1
    assert task_resources(EngineSpec("transformers", "m"))["num_gpus"] == 1
    assert task_resources(EngineSpec("transformers", "m", options={"device": "cpu"}), cpus_per_task=2) == {
        "num_gpus": 0,
        "num_cpus": 2,
    }
    assert task_resources(EngineSpec("openai", "m", options={"base_url": "x"}))["num_gpus"] == 0


def test_ray_needs_an_address_and_a_sane_heartbeat(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "monitor.toml"
    path.write_text('[executor]\nkind = "ray"\n')
    with pytest.raises(ConfigError, match="needs address"):
        load_config(path)
    path.write_text('[executor]\nkind = "ray"\naddress = "auto"\nheartbeat_s = 20\nstale_after_s = 30\n')
    with pytest.raises(ConfigError, match="twice heartbeat_s"):
        load_config(path)
    assert load_config(None).executor == ExecutorConfig()  # local by default


def test_one_live_claim_per_shard_stale_ones_are_taken_over(database: Database) -> None:
    job = new_job(database, EngineSpec("transformers", "m"), repo_id="local/m", suite="identity", limit=2)
    ids = ensure_shards(database, job.run_id, shard_ranges(job.items, 1), executor="ray")
    assert ensure_shards(database, job.run_id, [(0, 99)], executor="ray") == ids  # a resumed run keeps its shards
    first = claim_shard(database, ids[0], owner="service-a", stale_after_s=30)
    assert first.outcome == "claimed" and first.token
    assert claim_shard(database, ids[0], owner="service-b", stale_after_s=30).outcome == "live"
    renew_queued(database, [first.token])
    with database.session() as session:  # the holder stops beating: a minute later its claim is dead
        session.execute(
            sa.update(RunTask).where(RunTask.id == ids[0]).values(heartbeat_at=utcnow() - dt.timedelta(seconds=60))
        )
    second = claim_shard(database, ids[0], owner="service-b", stale_after_s=30)
    assert second.outcome == "claimed" and second.token != first.token
    assert not mark_shard(database, ids[0], first.token, "done")  # the old holder can no longer write
    assert mark_shard(database, ids[0], second.token or "", "done")
    assert claim_shard(database, ids[0], owner="service-c", stale_after_s=30).outcome == "done"
    assert read_shards(database, ids)[ids[0]].status == "done"


def test_a_run_another_live_process_supervises_is_left_to_it(database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from monitor.config import MonitorConfig, WatchedModelConfig
    from monitor.db import Revision, claim_run
    from monitor.pipeline import CycleContext, sync_watched_models
    from monitor.pipeline._fanout import _open, run_many
    from monitor.pipeline._pending import PendingRun

    config = MonitorConfig(
        models=[WatchedModelConfig(repo="org/m", suites=["identity"], limit=1, samples=1)],
        executor=ExecutorConfig(kind="ray", address="auto"),
    )
    (model_id,) = sync_watched_models(database, config)
    with database.session() as session:
        revision = Revision(model_id=model_id, sha="b" * 40, seq=1)
        session.add(revision)
        session.flush()
        pending = PendingRun(model_id, "org/m", revision.id, "b" * 40, "identity")
    ctx = CycleContext(db=database, config=config, data_dir=tmp_path)
    opened = _open(ctx, pending)
    run_id = opened.job.run_id  # type: ignore[union-attr]
    with claim_run(database, run_id, owner="the-other-service"):
        assert run_many(ctx, [pending]) == []  # the same claim the local executor takes: left alone
    assert ctx.executor is None  # nothing was submitted, no cluster was even contacted
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(RunTask)) == 0
