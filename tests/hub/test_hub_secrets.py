"""Secrets never leave the config: a planted credential is looked for everywhere text leaves the monitor.

Real parts: a git server over smart HTTP that refuses requests without the planted credential (so a
poll that finds the head proves the credential reached git), PostgreSQL reached through a URL with a
password, an apprise ``json://`` channel with a password whose receiver is down, and ``HF_TOKEN`` set.
The places searched: every row of every table, the log, ``/metrics``, alert titles and payloads, the
CLI's JSON and error output, and every file the monitor wrote except the credential store itself.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client import generate_latest
from typer.testing import CliRunner

from monitor._logging import configure_logging
from monitor.alerts import DeliveryPolicy, build_channels
from monitor.cli import app
from monitor.config import load_config
from monitor.db import Base, open_database
from monitor.pipeline import CycleContext, deliver_step, poll_step, sync_watched_models
from monitor.service import ServiceMetrics
from tests.hub._git_http_server import GitHttpServer
from tests.hub._hub_server import LFS
from tests.hub._scenarios import GitRemote, base_files

TOKEN = "tok-PLANTED-git-4f1c9a"
DB_PASSWORD = "pw-PLANTED-db-77b2"
CHANNEL_PASSWORD = "pw-PLANTED-apprise-31d0"
HF_TOKEN = "hf_PLANTEDplantedPLANTEDplanted00"
WEBHOOK_SECRET = "wh-PLANTED-secret-9e1"
SECRETS = (TOKEN, DB_PASSWORD, CHANNEL_PASSWORD, HF_TOKEN, WEBHOOK_SECRET)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The monitor's log handler writing into a buffer for this test; removed afterwards."""
    stream = io.StringIO()
    configure_logging(level="DEBUG", stream=stream)
    yield stream
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "drift-monitor":
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def _hits(text: str) -> int:
    return sum(text.count(secret) for secret in SECRETS)


def test_a_planted_secret_appears_nowhere(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, log_stream: io.StringIO
) -> None:
    work = GitRemote(tmp_path / "work")
    work.commit("initial commit", base_files())
    root = tmp_path / "served"
    root.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work.path), str(root / "model.git")], check=True)

    url = sa.engine.make_url(postgres_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    monkeypatch.setenv("DRIFT_MONITOR_DATABASE_URL", url)
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    monkeypatch.setenv("DRIFT_MONITOR_WEBHOOK_SECRET", WEBHOOK_SECRET)
    data_dir = tmp_path / "data"
    config_path = tmp_path / "monitor.toml"
    channel = f"json://alerts:{CHANNEL_PASSWORD}@127.0.0.1:{_free_port()}/hook"
    with GitHttpServer(root, credentials=("user", TOKEN)) as server:
        watched = f"http://user:{TOKEN}@127.0.0.1:{server.port}/model.git"
        missing = f"http://user:{TOKEN}@127.0.0.1:{server.port}/missing.git"
        config_path.write_text(
            f'[[models]]\nrepo = "{missing}"\nsource = "git"\n\n'
            f'[[channels]]\nname = "hook"\nurl = "{channel}"\n\n[alerts]\npoll_failure_threshold = 1\n'
        )
        monkeypatch.setenv("DRIFT_MONITOR_CONFIG", str(config_path))
        runner = CliRunner()
        outputs: dict[str, str] = {}

        def cli(name: str, *args: str) -> str:
            result = runner.invoke(app, list(args))
            outputs[name] = result.output
            return result.output

        cli("watch add", "watch", "add", watched, "--source", "git")
        cli("watch add --source hf (refused)", "watch", "add", watched, "--source", "hf")
        first = json.loads(cli("check --json", "check", "--json"))
        # The credential reached git: the protected repository was read (and a request carried the user).
        (protected,) = [model for model in first["models"] if model["repo_id"].endswith("/model.git")]
        assert protected["head"] is not None, first
        assert any(user == "user" for _, _, user in server.log)

        work.commit("Upload weights", {"model.safetensors": LFS(b"weights-v2" * 50)})
        push = ["git", "push", "--quiet", "--force", "--no-verify", str(root / "model.git"), "main"]
        subprocess.run(push, cwd=work.path, check=True)
        cli("check --json (change)", "check", "--json")
        cli("watch list --json", "watch", "list", "--json")
        cli("revisions --json", "revisions", watched, "--json")
        cli("alerts list --json", "alerts", "list", "--json")
        cli("check --model (error)", "check", "--model", missing)

        config = load_config(config_path)
        db = open_database(url)
        ids = sync_watched_models(db, config)
        metrics = ServiceMetrics(db)  # what the service serves on /metrics, fed as the cycle's observer
        ctx = CycleContext(
            db=db,
            config=config,
            data_dir=data_dir,
            observer=metrics,
            channels=build_channels(config.channels),
            policy=DeliveryPolicy(max_attempts=1),
        )
        poll_step(ctx, ids)
        delivered = deliver_step(ctx)
        assert delivered.delivery_failures >= 1, delivered  # the receiver is down: its error went to the log and rows

    places: dict[str, int] = {f"output: {name}": _hits(text) for name, text in outputs.items()}
    places["log"] = _hits(log_stream.getvalue())
    places["/metrics"] = _hits(generate_latest(metrics.registry).decode())
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(sa.select(table)).all()
            places[f"table {table.name}"] = sum(_hits(repr(tuple(row))) for row in rows)
    db.dispose()
    store = data_dir / "git-credentials"
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and path != store:
            places[f"file {path.relative_to(data_dir)}"] = _hits(path.read_bytes().decode("utf-8", "replace"))
    leaks = {place: count for place, count in places.items() if count}
    print("secret hits per place:", json.dumps(leaks or "none", indent=1))
    assert not leaks, leaks
    public = f"http://127.0.0.1:{server.port}/model.git"
    # The places were exercised: they name the repository (without its credential) and the failures.
    assert public in outputs["watch list --json"] and public in log_stream.getvalue()
    assert "missing.git" in outputs["check --model (error)"] and "hook" in log_stream.getvalue()
    # The credential's one home outside the config: git's credential store, readable by its owner only.
    assert TOKEN in store.read_text() and store.stat().st_mode & 0o077 == 0
    removed = runner.invoke(app, ["watch", "remove", watched])
    assert removed.exit_code == 0 and removed.output == f"stopped watching {public}\n", removed.output
    assert "/model.git" not in store.read_text() and "/missing.git" in store.read_text()  # its line only


def test_rows_written_before_the_credential_store_are_scrubbed_and_keep_working(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.db import Alert, Poll, WatchedModel

    work = GitRemote(tmp_path / "work")
    head = work.commit("initial commit", base_files())
    root = tmp_path / "served"
    root.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work.path), str(root / "model.git")], check=True)
    monkeypatch.setenv("DRIFT_MONITOR_DATABASE_URL", sqlite_url)
    with GitHttpServer(root, credentials=("user", TOKEN)) as server:
        old_id = f"http://user:{TOKEN}@127.0.0.1:{server.port}/model.git"
        db = open_database(sqlite_url)
        with db.session() as session:  # as an older version stored it
            model = WatchedModel(repo_id=old_id, source="git", last_poll_error=f"git fetch on {old_id} failed")
            session.add(model)
            session.flush()
            session.add(Poll(model_id=model.id, ok=False, error=f"git fetch on {old_id} failed"))
            session.add(
                Alert(
                    kind="poll.failed",
                    severity="medium",
                    dedup_key="poll.failed:1:1",
                    model_id=model.id,
                    title=f"{old_id}: 3 polls in a row failed",
                    payload={"repo": old_id},
                )
            )
        result = CliRunner().invoke(app, ["check", "--json"])
        assert result.exit_code == 0, result.output
        (polled,) = json.loads(result.output)["models"]
    assert polled["repo_id"] == f"http://127.0.0.1:{server.port}/model.git" and polled["head"] == head
    with db.session() as session:
        rows = [repr(tuple(row)) for table in Base.metadata.sorted_tables for row in session.execute(sa.select(table))]
    db.dispose()
    assert not [row for row in rows if TOKEN in row]
    assert TOKEN in (tmp_path / "data" / "git-credentials").read_text()


def test_a_refused_credential_stays_in_the_store(tmp_path: Path) -> None:
    """git erases a credential a server refused; the store is read-only to git, so a 401 loses nothing."""
    work = GitRemote(tmp_path / "work")
    work.commit("initial commit", base_files())
    root = tmp_path / "served"
    root.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work.path), str(root / "model.git")], check=True)
    with GitHttpServer(root, credentials=("user", "another-token")) as server:
        url = f"http://user:{TOKEN}@127.0.0.1:{server.port}/model.git"
        assert CliRunner().invoke(app, ["watch", "add", url, "--source", "git"]).exit_code == 0
        store = tmp_path / "data" / "git-credentials"
        before = store.read_bytes()
        result = CliRunner().invoke(app, ["check", "--json"])
    assert result.exit_code == 2 and "access denied" in result.output, result.output
    assert store.read_bytes() == before
