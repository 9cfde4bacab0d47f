"""SIGKILL the service mid-run and start it again: the run finishes without duplicates, no response is lost,
and every alert reaches every channel exactly once; then SIGTERM mid-run: the batch in flight is stored, the
service exits 0, and the next start finishes the run. Real parts: ``drift-monitor serve`` subprocesses, a git
repository holding SmolLM2-135M, the transformers engine in its worker process, a JSON-lines file channel
and a loopback HTTP receiver (apprise ``json://``). Each test runs on SQLite and on PostgreSQL.

``test_sigkill_of_serve_alone_leaves_no_worker`` kills only the service process (not its group), as an
OOM killer or ``kill -9 PID`` does: its worker must die with it and store nothing more."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.db import Alert, AlertDelivery, Database, Response, Run, open_database
from tests.alerts._loopback import HttpReceiver, free_port
from tests.engines._procs import alive, descendants
from tests.service._proc import http_get, kill_group, start_serve, stop, wait_for
from tests.service.conftest import model_repo

pytestmark = pytest.mark.slow

PROBES, SAMPLES = 2, 1  # greedy + 1 sample per probe: 4 responses per run
EXPECTED = PROBES * (SAMPLES + 1)


def _config(path: Path, repo: str, hook_url: str) -> Path:
    path.write_text(
        f"""
[[models]]
repo = "{repo}"
source = "git"
suites = ["identity"]
samples = {SAMPLES}
limit = {PROBES}
max_tokens = 16
engine = {{ kind = "transformers", batch_size = 1, options = {{ device = "cpu" }} }}
schedule = {{ interval_minutes = 0.05, jitter_seconds = 0 }}

[[channels]]
name = "file"
url = "file:alerts.jsonl"

[[channels]]
name = "hook"
url = "{hook_url}"

[alerts]
max_attempts = 1000
backoff_base_s = 0.5
backoff_max_s = 2.0
claim_timeout_s = 5  # a delivery claimed when the service is SIGKILLed is sent again 5 s later
"""
    )
    return path


def _partial_run(db: Database) -> tuple[int, int] | None:
    with db.session() as session:
        for run in session.scalars(sa.select(Run).where(Run.status == "running")):
            stored = session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.run_id == run.id))
            if stored and stored < run.expected_responses:
                return run.id, int(stored)
    return None


def test_sigkill_mid_run_then_restart(tmp_path: Path, smollm2_dir: Path, db_url: str) -> None:
    remote = model_repo(tmp_path / "repo", smollm2_dir)
    hook = HttpReceiver()
    hook.fail_with = 503  # the webhook channel is down until after the crash
    hook.start()
    config = _config(tmp_path / "monitor.toml", remote.repo_id, hook.url)
    env = {"DRIFT_MONITOR_CONFIG": str(config), "DRIFT_MONITOR_DATABASE_URL": db_url}
    # A short lease: after the SIGKILL the next start waits until the dead service's heartbeat lease runs out.
    args = ["--port", str(free_port()), "--delivery-interval", "0.5", "--process-interval", "2", "--lease-ttl", "5"]
    db = open_database(db_url)
    log = tmp_path / "serve.log"
    first = start_serve(*args, env=env, log=log)
    try:
        wait_for(lambda: _count(db, "revisions") == 1, timeout=60, what="the first revision")
        template = (smollm2_dir / "chat_template.jinja").read_text()
        remote.commit(
            "Update chat_template.jinja",
            {
                "chat_template.jinja": template.replace(
                    "SmolLM, trained by Hugging Face", "ChatGPT, made by OpenAI"
                ).encode()
            },
        )
        remote.commit("Add custom modeling code", {"modeling_smol.py": b"import os\n"})
        alerts_file = config.parent / "alerts.jsonl"
        wait_for(
            lambda: alerts_file.exists() and len(alerts_file.read_text().splitlines()) == 2,
            timeout=90,
            what="both hub alerts on the file channel",
        )
        killed_at = wait_for(
            lambda: _partial_run(db), timeout=300, what="a run with some responses stored", interval=0.05
        )
    finally:
        kill_group(first)
    run_id, stored_at_kill = killed_at
    with db.session() as session:
        before = {
            (r.run_id, r.probe_id, r.sample_index): (r.id, r.raw_text) for r in session.scalars(sa.select(Response))
        }
        pending_hook = session.scalar(
            sa.select(sa.func.count())
            .select_from(AlertDelivery)
            .where(AlertDelivery.channel == "hook", AlertDelivery.status != "delivered")
        )
    assert pending_hook == 2  # both alerts were still owed to the webhook when the power went

    hook.fail_with = None
    second = start_serve(*args, env=env, log=log)
    try:
        # A graceful stop (SIGTERM) in the middle of a run this service advanced: the batch in flight is
        # finished and stored, the run is marked interrupted, the service exits 0.
        stored_before = Counter(run for run, _, _ in before)
        other = wait_for(
            lambda: (found := _partial_run(db)) and found[1] > stored_before[found[0]] and found,
            timeout=600,
            what="a run under way again",
            interval=0.05,
        )
        code = stop(second, signal.SIGTERM, timeout=300)
        assert code == 0, log.read_text()[-3000:]
        with db.session() as session:
            interrupted = session.get(Run, other[0])
            assert interrupted is not None and interrupted.status == "interrupted"
        stored_at_term = _stored(db, other[0])
        assert other[1] <= stored_at_term < EXPECTED
    finally:
        if second.poll() is None:
            kill_group(second)
    third = start_serve(*args, env=env, log=log)
    try:
        wait_for(lambda: _runs_done(db) == 2, timeout=600, what="both revisions' runs completed")
        wait_for(lambda: _count(db, "comparisons") == 1, timeout=300, what="analysis and the comparison")
        wait_for(lambda: _undelivered(db) == 0, timeout=60, what="every alert delivered")
        status, body = http_get(f"http://127.0.0.1:{args[1]}/metrics")
        metrics = body.decode()
        assert status == 200 and "drift_monitor_run_duration_seconds_count{" in metrics
        assert 'drift_monitor_responses_generated_total{model="' in metrics
    finally:
        code = stop(third, signal.SIGTERM)
        hook.stop()
    assert code == 0, log.read_text()[-3000:]

    with db.session() as session:
        runs = session.scalars(sa.select(Run).order_by(Run.id)).all()
        responses = session.scalars(sa.select(Response)).all()
        alerts = session.scalars(sa.select(Alert)).all()
        deliveries = session.scalars(sa.select(AlertDelivery)).all()
    # The killed run was resumed (same row), not restarted; one run per revision.
    assert [run.status for run in runs] == ["completed", "completed"]
    assert _count(db, "response_analyses") == 2 * EXPECTED
    assert run_id in {run.id for run in runs}
    keys = [(r.run_id, r.probe_id, r.sample_index) for r in responses]
    duplicates = len(keys) - len(set(keys))
    assert len(responses) == 2 * EXPECTED and duplicates == 0
    after = {(r.run_id, r.probe_id, r.sample_index): (r.id, r.raw_text) for r in responses}
    lost = [key for key, value in before.items() if after.get(key) != value]  # gone, or regenerated
    assert lost == [] and len(before) >= stored_at_kill

    file_ids = Counter(json.loads(line)["alert_id"] for line in alerts_file.read_text().splitlines())
    hook_titles = Counter(post["title"] for post in hook.posts)
    assert sorted(alert.kind for alert in alerts) == ["hub.chat_template_changed", "hub.remote_code_changed"]
    assert set(file_ids.values()) == {1} and len(file_ids) == len(alerts)
    assert set(hook_titles.values()) == {1} and len(hook_titles) == len(alerts)
    assert all(d.status == "delivered" for d in deliveries)
    assert all(d.attempts >= 2 for d in deliveries if d.channel == "hook")  # failed before the crash, then sent
    print(
        f"\nFAULT sigterm: run {other[0]} stopped with {stored_at_term}/{EXPECTED} stored, exit 0, resumed to "
        f"{EXPECTED}/{EXPECTED}"
    )
    print(
        f"FAULT sigkill: killed run {run_id} with {stored_at_kill}/{EXPECTED} responses stored; after restart "
        f"{len(responses)} responses in {len(runs)} runs, duplicates {duplicates}, lost {len(lost)}; "
        f"alerts {len(alerts)}, deliveries {len(deliveries)} (file {sum(file_ids.values())}, hook "
        f"{sum(hook_titles.values())}), duplicate deliveries "
        f"{sum(file_ids.values()) + sum(hook_titles.values()) - len(deliveries)}"
    )


def test_sigkill_of_serve_alone_leaves_no_worker(tmp_path: Path, smollm2_dir: Path, db_url: str) -> None:
    """The figure from issue 12: descendants alive 10 s after ``kill -9`` of serve, and responses stored after."""
    remote = model_repo(tmp_path / "repo", smollm2_dir)
    config = tmp_path / "monitor.toml"
    config.write_text(
        f"""
[[models]]
repo = "{remote.repo_id}"
source = "git"
suites = ["identity"]
samples = 3
limit = 6
max_tokens = 16
engine = {{ kind = "transformers", batch_size = 1, options = {{ device = "cpu" }} }}
schedule = {{ interval_minutes = 60, jitter_seconds = 0 }}
"""
    )
    env = {"DRIFT_MONITOR_CONFIG": str(config), "DRIFT_MONITOR_DATABASE_URL": db_url}
    db = open_database(db_url)
    serve = start_serve("--port", str(free_port()), "--process-interval", "2", env=env, log=tmp_path / "serve.log")
    spawned: list[int] = []
    try:
        run_id, stored_at_kill = wait_for(
            lambda: (found := _partial_run(db)) and found[1] >= 4 and found,
            timeout=300,
            what="a run with 4 responses stored",
            interval=0.05,
        )
        spawned = descendants(serve.pid)
        serve.send_signal(signal.SIGKILL)  # the service only: its worker is on its own
        killed = time.monotonic()
        serve.wait(timeout=30)
        # Descendants still alive 10 s after the kill (the figure), checked as they go rather than by sleeping.
        while (alive_after := [pid for pid in spawned if alive(pid)]) and time.monotonic() - killed < 10:
            time.sleep(0.1)
        gone_s = time.monotonic() - killed
        # An orphaned worker would go on storing responses: at batch size 1 it stores one every ~0.5 s here.
        time.sleep(5)
        stored_after = _stored(db, run_id)
        print(
            f"\nFAULT sigkill of serve alone ({db.engine.dialect.name}): {len(spawned)} descendants at the kill, "
            f"{len(alive_after)} alive 10 s later (all gone after {gone_s:.1f} s); responses {stored_at_kill} at "
            f"the kill -> {stored_after} 5 s after they were gone"
        )
        assert alive_after == [], "a worker outlived the SIGKILLed service"
        assert stored_after <= stored_at_kill + 1  # at most the batch whose commit was under way
    finally:
        for pid in [serve.pid, *spawned]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        db.dispose()


def _count(db: Database, table: str) -> int:
    with db.session() as session:
        return int(session.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)


def _stored(db: Database, run_id: int) -> int:
    with db.session() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.run_id == run_id))
        return int(count or 0)


def _runs_done(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Run).where(Run.status == "completed")) or 0)


def _undelivered(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(sa.select(sa.func.count()).select_from(Alert).where(Alert.status != "delivered")) or 0
        )
