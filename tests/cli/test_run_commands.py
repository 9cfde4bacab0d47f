"""``run``, ``runs list`` and ``export`` as a user runs them, on the real model; and their bad inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def git_model(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Path:
    """A git repository holding the model, with one commit (read-only to the tests, so built once)."""
    repo = tmp_path_factory.mktemp("git-model") / "repo"
    repo.mkdir()
    for item in smollm2_dir.iterdir():
        if item.is_file() and not item.name.startswith("."):
            try:
                os.link(item, repo / item.name)  # git stores the content; no 270 MB copy
            except OSError:
                shutil.copy2(item, repo / item.name)
    env = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "core.compression", "0"], check=True)  # weights: store them
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), *env, "commit", "-q", "-m", "upload"], check=True)
    return repo


@pytest.mark.slow
def test_run_list_export_on_a_git_revision(git_model: Path) -> None:
    result = runner.invoke(
        app,
        [
            "run",
            "--model",
            str(git_model),
            "--revision",
            "main",
            "--suite",
            "reasoning",
            "--suite",
            "identity",
            "--limit",
            "2",
            "--samples",
            "1",
            "--max-tokens",
            "6",
            "--device",
            "cpu",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "reasoning completed, 4 responses" in result.output
    assert "identity completed, 4 responses" in result.output

    listed = runner.invoke(app, ["runs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    runs = json.loads(listed.stdout)["runs"]
    assert [r["suite"] for r in runs] == ["identity", "reasoning"]
    sha = subprocess.run(["git", "-C", str(git_model), "rev-parse", "main"], capture_output=True, text=True).stdout
    assert all(r["revision"] == sha.strip() and r["status"] == "completed" and r["responses"] == 4 for r in runs)
    assert runs[0]["engine_version"].startswith("transformers")

    exported = runner.invoke(app, ["export", str(runs[1]["id"]), "--format", "jsonl"])
    assert exported.exit_code == 0, exported.output
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(records) == 4
    assert {r["sample_index"] for r in records} == {0, 1}
    first = records[0]
    assert first["category"] == "reasoning" and first["expected"] and "\\boxed{}" in first["prompt"]
    assert set(first) >= {"probe_id", "category", "prompt", "sample_index", "text", "expected"}

    again = runner.invoke(
        app,
        [
            "run",
            "--model",
            str(git_model),
            "--revision",
            "main",
            "--suite",
            "reasoning",
            "--limit",
            "2",
            "--samples",
            "1",
            "--max-tokens",
            "6",
            "--device",
            "cpu",
        ],
    )
    assert again.exit_code == 0, again.output
    assert "already complete" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suite", "nonexistent"], "unknown suite 'nonexistent'"),
        (["--model", "/no/such/dir"], "neither an existing path nor a Hub repository id"),
        (["--revision", "no-such-branch"], "no-such-branch"),
    ],
)
def test_bad_input_is_one_clear_line(git_model: Path, args: list[str], message: str) -> None:
    base = {"--model": str(git_model), "--suite": "identity", "--revision": "main"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    result = runner.invoke(app, ["run", *[x for pair in base.items() for x in pair]])
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = runner.invoke(app, ["run", "--model", str(tmp_path), "--suite", "identity", "--limit", "1"])
    assert result.exit_code == 1
    assert "is not a model: it has no config.json" in result.stderr
    listed = runner.invoke(app, ["runs", "list", "--json"])
    assert listed.exit_code == 0, (listed.output, listed.exception)
    assert json.loads(listed.stdout)["runs"] == []


def test_export_of_an_unknown_run() -> None:
    result = runner.invoke(app, ["export", "42"])
    assert result.exit_code == 1
    assert "there is no run 42" in result.stderr
