"""Every bad path for the config file is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CASES = ["directory", "missing", "through a file", "not UTF-8", "not TOML", "empty setting"]


def _bad_path(tmp_path: Path, case: str) -> Path:
    if case == "directory":
        (tmp_path / "a-directory").mkdir()
        return tmp_path / "a-directory"
    if case == "through a file":
        (tmp_path / "plain.toml").write_text("")
        return tmp_path / "plain.toml" / "config.toml"
    if case == "not UTF-8":
        (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00garbage")
        return tmp_path / "binary.toml"
    if case == "not TOML":
        (tmp_path / "bad.toml").write_text("models = [")
        return tmp_path / "bad.toml"
    if case == "empty setting":
        return Path("")  # DRIFT_MONITOR_CONFIG= (set but empty): the working directory
    return tmp_path / "missing.toml"


@pytest.mark.parametrize("case", CASES)
def test_bad_config_paths_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    monkeypatch.chdir(tmp_path)
    path = _bad_path(tmp_path, case)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    monkeypatch.setenv("DRIFT_MONITOR_CONFIG", str(path) if case != "empty setting" else "")
    result = CliRunner().invoke(app, ["check"])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.exception  # no traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: config file"), result.output


def test_a_directory_as_config_in_a_real_process(tmp_path: Path) -> None:
    """The case as reported: the installed command, its stderr, its exit status."""
    (tmp_path / "conf.d").mkdir()
    environment = {
        **os.environ,
        "DRIFT_MONITOR_CONFIG": str(tmp_path / "conf.d"),
        "DRIFT_MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", "from monitor.cli import app; app()", "check"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: config file {tmp_path / 'conf.d'} is a directory (set DRIFT_MONITOR_CONFIG to a TOML file)"
    ]
