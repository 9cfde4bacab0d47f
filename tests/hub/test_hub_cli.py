"""The CLI contract: watch add/list/remove, check [--json] with exit 0/2, revisions, webhook."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from monitor.cli import app
from monitor.db import Alert, open_database
from tests.hub._hub_server import LFS, HubServer
from tests.hub._scenarios import TEMPLATE_R1_FEB, GitRemote, HubRemote, base_files, tokenizer_config

REPO = "deepseek-ai/Tiny-R1-Distill"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def ok(*args: str) -> str:
    code, output = invoke(*args)
    assert code == 0, output
    return output


def check_json(*args: str, expect: int = 0) -> dict:  # type: ignore[type-arg]
    code, output = invoke("check", "--json", *args)
    assert code == expect, output
    return json.loads(output)


def test_watch_add_list_remove(hub: HubServer) -> None:
    assert "watching deepseek-ai/Tiny-R1-Distill@main (hf)" in ok("watch", "add", REPO, "--expect", "deepseek")
    assert "already watched" in ok("watch", "add", REPO, "--expect", "deepseek")
    code, output = invoke("watch", "add", REPO, "--ref", "v2")
    assert code == 1 and "already watched" in output and "watch remove" in output
    listed = json.loads(ok("watch", "list", "--json"))
    assert listed == {
        "models": [
            {
                "repo_id": REPO,
                "ref": "main",
                "source": "hf",
                "expected_identity": "deepseek",
                "status": "active",
                "head": None,
                "last_polled_at": None,
                "last_poll_error": None,
                "consecutive_poll_failures": 0,
            }
        ]
    }
    assert REPO in ok("watch", "list")
    assert "stopped watching" in ok("watch", "remove", REPO)
    assert json.loads(ok("watch", "list", "--json")) == {"models": []}
    code, output = invoke("watch", "remove", REPO)
    assert code == 1 and "not watched" in output


@pytest.mark.parametrize("bad", ["no-slash", "a/b/c", "bad name/x"])
def test_watch_add_refuses_what_is_not_a_repo_id(bad: str) -> None:
    code, output = invoke("watch", "add", bad)
    assert code == 2 and "owner/name" in output


def test_watch_add_git_needs_a_repository(tmp_path: Path) -> None:
    code, output = invoke("watch", "add", str(tmp_path), "--source", "git")
    flat = " ".join(output.replace("│", " ").split())  # the error box wraps long paths
    assert code == 2 and "not a git repository" in flat


def test_check_json_contract_and_alerts(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    first = remote.commit("initial commit", base_files())
    ok("watch", "add", REPO)
    document = check_json()
    (model,) = document["models"]
    assert model == {
        "repo_id": REPO,
        "ref": "main",
        "head": first,
        "error": None,
        "changes": [
            {
                "from": None,
                "to": first,
                "kinds": ["first_seen"],
                "silent": False,
                "title": "initial commit",
                "committed_at": model["changes"][0]["committed_at"],
            }
        ],
    }
    assert dt.datetime.fromisoformat(model["changes"][0]["committed_at"]).tzinfo is not None
    assert check_json()["models"][0]["changes"] == []

    template = remote.commit(
        "Update tokenizer_config.json", {"tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB)}
    )
    weights = remote.commit("Upload model.safetensors", {"model.safetensors": LFS(b"weights-v2" * 50)})
    changes = check_json("--model", REPO)["models"][0]["changes"]
    assert [(c["from"], c["to"], c["kinds"], c["silent"]) for c in changes] == [
        (first, template, ["chat_template_changed"], True),
        (template, weights, ["weights_changed"], True),
    ]
    db = open_database(os.environ["DRIFT_MONITOR_DATABASE_URL"])
    with db.session() as session:
        kinds = sorted(session.scalars(sa.select(Alert.kind)))
    db.dispose()
    assert kinds == ["hub.chat_template_changed", "hub.weights_changed"]


def test_check_human_output(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial commit", base_files())
    ok("watch", "add", REPO)
    ok("check")
    remote.commit("Upload model.safetensors", {"model.safetensors": LFS(b"weights-v2" * 50)})
    output = ok("check")
    assert "1 change" in output and "weights_changed" in output and "SILENT" in output


def test_check_exit_2_when_a_poll_fails(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    first = remote.commit("initial commit", base_files())
    ok("watch", "add", REPO)
    check_json()
    remote.commit("Upload model.safetensors", {"model.safetensors": LFS(b"weights-v2" * 50)})
    hub.fail(r"/revision/main$", 500, times=None, headers={"Retry-After": "0"})
    document = check_json(expect=2)
    (model,) = document["models"]
    assert model["head"] is None and model["changes"] == [] and "500" in model["error"]
    code, output = invoke("check")
    assert code == 2 and "FAILED" in output
    listed = json.loads(ok("watch", "list", "--json"))["models"][0]
    assert listed["head"] == first and listed["consecutive_poll_failures"] == 2
    hub.faults.clear()
    assert check_json()["models"][0]["changes"][0]["kinds"] == ["weights_changed"]


def test_check_gone_repo_exits_2(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial commit", base_files())
    ok("watch", "add", REPO)
    hub.repo(REPO).access = "gone"
    (model,) = check_json(expect=2)["models"]
    assert "not found" in model["error"]
    assert json.loads(ok("watch", "list", "--json"))["models"][0]["status"] == "gone"


def test_check_unknown_model_and_nothing_watched() -> None:
    assert "nothing is watched" in ok("check")
    assert check_json() == {"models": []}
    code, output = invoke("check", "--model", "some/one")
    assert code == 1 and "not watched" in output


def test_revisions(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    first = remote.commit("initial commit", base_files())
    ok("watch", "add", REPO)
    check_json()
    second = remote.commit("Release v1.1", {"model.safetensors": LFS(b"weights-v2" * 50)})
    remote.tag("v1.1", second)
    check_json()
    document = json.loads(ok("revisions", REPO, "--json"))
    assert [(r["seq"], r["sha"], r["kinds"], r["silent"], r["tags"]) for r in document["revisions"]] == [
        (1, first, ["first_seen"], False, []),
        (2, second, ["weights_changed"], False, ["v1.1"]),
    ]
    assert document["revisions"][0]["weights"] != document["revisions"][1]["weights"]
    assert [e["to"] for e in document["events"]] == [first, second]
    table = ok("revisions", REPO)
    assert "weights_changed" in table and "v1.1" in table
    code, output = invoke("revisions", "nobody/nothing")
    assert code == 1 and "not watched" in output


def test_git_source_through_the_cli(tmp_path: Path) -> None:
    remote = GitRemote(tmp_path / "model-repo")
    first = remote.commit("original", base_files())
    ok("watch", "add", str(remote.path), "--source", "git")
    assert check_json()["models"][0]["head"] == first
    new = remote.commit("Update chat template", {"tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB)})
    (change,) = check_json("--model", str(remote.path))["models"][0]["changes"]
    assert (change["to"], change["kinds"], change["silent"]) == (new, ["chat_template_changed"], True)
    assert len(json.loads(ok("revisions", str(remote.path), "--json"))["revisions"]) == 2


def test_webhook_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRIFT_MONITOR_WEBHOOK_SECRET", raising=False)
    code, output = invoke("webhook", "--port", "0")
    assert code == 1 and "DRIFT_MONITOR_WEBHOOK_SECRET" in output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_webhook_command_serves_and_polls(hub: HubServer, tmp_path: Path) -> None:
    """`drift-monitor webhook` as a user starts it: a process that answers, polls, and stops on Ctrl-C."""
    remote = HubRemote(hub, tmp_path)
    head = remote.commit("initial commit", base_files())
    ok("watch", "add", REPO)
    port = _free_port()
    env = {
        **os.environ,
        "DRIFT_MONITOR_WEBHOOK_SECRET": "hook-secret",
        "HF_ENDPOINT": hub.url,
        "HF_HUB_OFFLINE": "0",
        "HF_HUB_DISABLE_XET": "1",
    }
    command = [sys.executable, "-c", "from monitor.cli import main; main()", "webhook", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "webhook server did not start"
                time.sleep(0.2)
        body = json.dumps({"event": {"scope": "repo.content"}, "repo": {"type": "model", "name": REPO}}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhook", data=body, headers={"X-Webhook-Secret": "hook-secret"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        deadline = time.monotonic() + 30
        while json.loads(ok("watch", "list", "--json"))["models"][0]["head"] != head:
            assert time.monotonic() < deadline, "the webhook did not lead to a poll"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=90)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/webhook" in output


def test_check_polls_the_models_of_the_config_file(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = HubRemote(hub, tmp_path)
    head = remote.commit("initial commit", base_files())
    config = tmp_path / "monitor.toml"
    config.write_text(f'[[models]]\nrepo = "{REPO}"\nexpect = "deepseek"\n')
    monkeypatch.setenv("DRIFT_MONITOR_CONFIG", str(config))
    (model,) = check_json()["models"]
    assert (model["repo_id"], model["head"], model["error"]) == (REPO, head, None)
    listed = json.loads(ok("watch", "list", "--json"))["models"][0]
    assert listed["expected_identity"] == "deepseek" and listed["head"] == head
