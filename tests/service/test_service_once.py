"""``serve --once``: one full cycle through the CLI, alerts to a file and the console, then exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from tests.hub._scenarios import GitRemote, base_files


def test_serve_once_polls_alerts_delivers_and_exits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = GitRemote(tmp_path / "repo")
    remote.commit("initial upload", base_files())
    config = tmp_path / "monitor.toml"
    config.write_text(
        f"""
[[models]]
repo = "{remote.repo_id}"
source = "git"
suites = []

[[channels]]
name = "console"
url = "console://"

[[channels]]
name = "file"
url = "file:alerts.jsonl"
min_severity = "high"
"""
    )
    monkeypatch.setenv("DRIFT_MONITOR_CONFIG", str(config))
    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--once"])
    assert result.exit_code == 0, result.output
    assert "cycle done: 1 polls (0 failed), 1 changes" in result.output
    assert "ALERT" not in result.output  # a first sighting is not an alert

    remote.commit("Update tokenizer_config.json", {"tokenizer_config.json": b'{"chat_template": "{{ x }}"}'})
    remote.commit("Add modeling code", {"modeling_tiny.py": b"print('hi')\n"})
    result = runner.invoke(app, ["serve", "--once"])
    assert result.exit_code == 0, result.output
    alerts = [line for line in result.output.splitlines() if line.startswith("ALERT #")]
    assert len(alerts) == 2
    assert "[medium] hub.chat_template_changed" in alerts[0] and "[high] hub.remote_code_changed" in alerts[1]
    assert "2 alerts raised, 3 deliveries sent, 0 alerts pending" in result.output
    [line] = (tmp_path / "alerts.jsonl").read_text().splitlines()  # the file takes high severity only
    assert json.loads(line)["kind"] == "hub.remote_code_changed"

    result = runner.invoke(app, ["serve", "--once"])  # nothing new: nothing raised, nothing re-sent
    assert result.exit_code == 0, result.output
    assert "ALERT" not in result.output and "0 alerts raised, 0 deliveries sent" in result.output
