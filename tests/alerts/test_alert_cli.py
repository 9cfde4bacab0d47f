from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.alerts import raise_alert
from monitor.cli import app
from monitor.db import WatchedModel, open_database
from tests.alerts._loopback import HttpReceiver


def _seed() -> list[int]:
    db = open_database(os.environ["DRIFT_MONITOR_DATABASE_URL"])
    with db.session() as session:
        model = WatchedModel(repo_id="org/model")
        session.add(model)
        session.flush()
        ids = []
        for index, (kind, severity) in enumerate([("hub.weights_changed", "medium"), ("drift.identity", "high")]):
            alert = raise_alert(
                session,
                kind=kind,
                severity=severity,  # type: ignore[arg-type]
                dedup_key=f"k{index}",
                model_id=model.id,
                title=f"org/model: {kind}",
                payload={"evidence": index},
            )
            assert alert is not None
            ids.append(alert.id)
    db.dispose()
    return ids


def test_alerts_list_ack_and_json() -> None:
    first, second = _seed()
    runner = CliRunner()
    result = runner.invoke(app, ["alerts", "list"])
    assert result.exit_code == 0, result.output
    assert f"#{second}" in result.output.splitlines()[0]  # newest first
    assert "drift.identity" in result.output and "unacked" in result.output

    result = runner.invoke(app, ["alerts", "ack", str(first), "--by", "alice", "--comment", "expected update"])
    assert result.exit_code == 0, result.output
    assert f"alert #{first} acknowledged by alice" in result.output

    result = runner.invoke(app, ["alerts", "list", "--json"])
    assert result.exit_code == 0, result.output
    alerts = {alert["id"]: alert for alert in json.loads(result.output)["alerts"]}
    assert alerts[first]["acknowledged_by"] == "alice" and alerts[first]["ack_comment"] == "expected update"
    assert alerts[second]["acknowledged_by"] is None
    assert alerts[second]["severity"] == "high" and alerts[second]["payload"] == {"evidence": 1}
    assert alerts[second]["model"] == "org/model" and alerts[second]["deliveries"] == []

    result = runner.invoke(app, ["alerts", "list", "--unacked", "--json"])
    assert [alert["id"] for alert in json.loads(result.output)["alerts"]] == [second]

    result = runner.invoke(app, ["alerts", "ack", str(first), "--by", "bob"])
    assert result.exit_code == 1
    assert "already acknowledged by alice" in result.output
    result = runner.invoke(app, ["alerts", "ack", "999", "--by", "bob"])
    assert result.exit_code == 1 and "alert 999 does not exist" in result.output


def test_alerts_test_reaches_every_channel_and_fails_on_a_dead_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = HttpReceiver()
    receiver.start()
    config = tmp_path / "monitor.toml"
    config.write_text(
        f"""
[[channels]]
name = "hook"
url = "{receiver.url}"
min_severity = "high"

[[channels]]
name = "file"
url = "file:alerts.jsonl"
"""
    )
    monkeypatch.setenv("DRIFT_MONITOR_CONFIG", str(config))
    try:
        result = CliRunner().invoke(app, ["alerts", "test"])
        assert result.exit_code == 0, result.output
        assert "hook: ok" in result.output and "file: ok" in result.output
        assert len(receiver.posts) == 1  # severity filters do not apply to a test message
        assert json.loads((tmp_path / "alerts.jsonl").read_text())["kind"] == "test"
        receiver.fail_with = 503
        result = CliRunner().invoke(app, ["alerts", "test"])
        assert result.exit_code == 1
        assert "error: channel 'hook'" in result.output and "file: ok" in result.output
    finally:
        receiver.stop()


def test_alerts_test_without_channels_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["alerts", "test"])
    assert result.exit_code == 1
    assert "no alert channels configured" in result.output
