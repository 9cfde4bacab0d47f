"""``drift-monitor webhook`` polls an endpoint model too: the webhook calls the cycle's poll step.

Real parts: the command as a subprocess, the loopback OpenAI-compatible server serving the real SmolLM2,
an HTTP POST with the secret. Before the one-path cycle the webhook polled through ``poll_model`` with
the model's own source, which cannot poll a model of source ``endpoint``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.db import Poll, Revision, open_database
from monitor.engines import TransformersEngine
from tests.alerts._loopback import free_port
from tests.engines._openai_server import OpenAICompatibleServer
from tests.engines.conftest import SERVED_ID
from tests.service._proc import DRIFT_MONITOR, wait_for

pytestmark = pytest.mark.slow

SECRET = "s3cret"


@pytest.fixture
def server(smollm_engine: TransformersEngine) -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer({SERVED_ID: smollm_engine}, cache_greedy=True) as running:
        yield running


def test_webhook_polls_an_endpoint_model(server: OpenAICompatibleServer, tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(
        f"""
[[models]]
repo = "acme/prod-chat"
source = "endpoint"
suites = []

[models.engine]
kind = "openai"
options = {{ base_url = "{server.base_url}", served_model = "{SERVED_ID}" }}
"""
    )
    port = free_port()
    env = {**os.environ, "DRIFT_MONITOR_CONFIG": str(config), "DRIFT_MONITOR_WEBHOOK_SECRET": SECRET}
    log = tmp_path / "webhook.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [DRIFT_MONITOR, "webhook", "--port", str(port)], env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    db = open_database(os.environ["DRIFT_MONITOR_DATABASE_URL"])
    try:
        wait_for(lambda: "listening" in log.read_text(), timeout=120, what="the webhook server")
        body = json.dumps({"event": {"scope": "repo.content"}, "repo": {"type": "model", "name": "acme/prod-chat"}})
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhook",
            data=body.encode(),
            headers={"X-Webhook-Secret": SECRET, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202

        def polls() -> list[Poll]:
            with db.session() as session:
                rows = list(session.scalars(sa.select(Poll)))
                session.expunge_all()
                return rows

        (poll,) = wait_for(polls, timeout=180, what="the webhook's poll of the endpoint")
        assert (poll.trigger, poll.ok, poll.changes) == ("webhook", True, 1), poll.error
        with db.session() as session:
            (revision,) = session.scalars(sa.select(Revision)).all()
            assert revision.sha == poll.head_sha and revision.manifest["source"] == "endpoint"
        assert server.chat_requests, "the poll fingerprinted the served model"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0, log.read_text()
