"""``drift-monitor dashboard``: safe defaults, and a clean error before Streamlit starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.cli._dashboard import DASHBOARD_APP, streamlit_command


def test_help_names_the_local_default() -> None:
    result = CliRunner().invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0, result.output
    assert "127.0.0.1" in result.output and "8501" in result.output


def test_streamlit_command_is_headless_local_and_quiet() -> None:
    command = streamlit_command(host="127.0.0.1", port=9999)
    assert command[1:5] == ["-m", "streamlit", "run", str(DASHBOARD_APP)]
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.port"] == "9999"
    assert options["--server.headless"] == "true"
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--client.showErrorDetails"] == "none", "a viewer never sees a traceback"
    assert DASHBOARD_APP.is_file()


def test_unusable_database_is_one_red_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFT_MONITOR_DATABASE_URL", f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    result = CliRunner().invoke(app, ["dashboard", "--port", "9999"])
    assert result.exit_code == 1, result.output
    assert "error:" in result.output and "does not exist" in result.output
