"""The service as a user runs it: a subprocess with a port, a lease, signals and structured logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from monitor.db import Poll, ServiceLease, open_database
from tests.alerts._loopback import free_port
from tests.hub._scenarios import GitRemote, base_files
from tests.service._proc import DRIFT_MONITOR, http_get, start_serve, stop, wait_for, wait_healthy


def _post(url: str, body: dict[str, object], secret: str) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"X-Webhook-Secret": secret, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_serve_health_metrics_webhook_single_instance_and_graceful_stop(tmp_path: Path) -> None:
    remote = GitRemote(tmp_path / "repo")
    remote.commit("initial upload", base_files())
    config = tmp_path / "monitor.toml"
    config.write_text(
        f"""
[[models]]
repo = "{remote.repo_id}"
source = "git"
suites = []
schedule = {{ interval_minutes = 600, jitter_seconds = 0 }}
"""
    )
    env = {"DRIFT_MONITOR_CONFIG": str(config), "DRIFT_MONITOR_LOG_JSON": "1", "DRIFT_MONITOR_WEBHOOK_SECRET": "s3cret"}
    port = free_port()
    log = tmp_path / "serve.log"
    service = start_serve("--port", str(port), env=env, log=log)
    try:
        health = wait_healthy(port)
        assert health["lease"]["held"] is True and health["scheduler"] == "running"
        assert {job["id"].split(":")[0] for job in health["jobs"]} >= {"poll", "process", "deliver"}
        db = open_database(os.environ["DRIFT_MONITOR_DATABASE_URL"])

        def polls() -> list[str]:
            with db.session() as session:
                return list(session.scalars(sa.select(Poll.trigger).order_by(Poll.id)))

        wait_for(lambda: polls() == ["schedule"], timeout=30, what="the first poll")
        status, body = http_get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        text = body.decode()
        assert 'drift_monitor_polls_total{model="' in text and "drift_monitor_alerts_pending 0.0" in text
        assert http_get(f"http://127.0.0.1:{port}/nothing-here")[0] == 404

        # The Hub webhook is mounted on the same port: a wrong secret changes nothing, a right one polls now.
        hook = f"http://127.0.0.1:{port}/webhook"
        payload = {
            "event": {"action": "update", "scope": "repo.content"},
            "repo": {"type": "model", "name": remote.repo_id},
        }
        assert _post(hook, payload, "wrong") == 401
        assert _post(hook, payload, "s3cret") == 202
        wait_for(lambda: polls() == ["schedule", "webhook"], timeout=30, what="the webhook's poll")

        # A second service on the same database refuses to start, naming the first.
        second = subprocess.run(
            [DRIFT_MONITOR, "serve", "--port", str(free_port())],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1, second.stderr
        assert "error: another drift-monitor service" in second.stderr
        assert f":{service.pid}:" in second.stderr
    finally:
        code = stop(service, signal.SIGTERM)
    assert code == 0, log.read_text()
    with db.session() as session:
        assert session.get(ServiceLease, "service") is None  # released on a clean stop
    lines = log.read_text().splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON event
    names = [event["event"] for event in events]
    # The port listens before the service says it started; it stops in order.
    order = [names.index(name) for name in ("http.listening", "service.started", "service.stopping", "service.stopped")]
    assert order == sorted(order), names
    assert next(e for e in events if e["event"] == "service.stopping")["reason"] == "SIGTERM"
    assert all({"ts", "level", "logger", "event"} <= set(event) for event in events)


def test_serve_refuses_to_start_on_a_bad_channel_url(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[[channels]]\nname = "ops"\nurl = "nosuchscheme://token@host"\n')
    result = subprocess.run(
        [DRIFT_MONITOR, "serve", "--once"],
        env={**os.environ, "DRIFT_MONITOR_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "error: channel 'ops': apprise cannot use the URL nosuchscheme://..." in result.stderr
    assert "token" not in result.stderr
