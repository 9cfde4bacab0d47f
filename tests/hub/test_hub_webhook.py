"""The webhook endpoint, served for real on loopback, triggering real polls of the loopback Hub."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.db import Database, Poll, Revision
from monitor.errors import ConfigError
from monitor.hub import make_webhook_handler, make_webhook_server
from monitor.pipeline import BackgroundPoller, poll_model
from tests.hub._hub_server import HubServer
from tests.hub._scenarios import HubRemote, base_files, watch

SECRET = "s3cret-webhook"


class Served:
    def __init__(self, url: str, poller: BackgroundPoller, calls: list[str]) -> None:
        self.url = url
        self.poller = poller
        self.calls = calls

    def post(
        self, payload: Any, *, secret: str | None = SECRET, raw: bytes | None = None
    ) -> tuple[int, dict[str, Any]]:
        data = raw if raw is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Webhook-Secret"] = secret
        request = urllib.request.Request(self.url + "/webhook", data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture
def served(sqlite_db: Database, hub: HubServer, tmp_path: Path) -> Iterator[Served]:
    poller = BackgroundPoller(lambda repo: poll_model(sqlite_db, repo, trigger="webhook", cache_dir=tmp_path / "cache"))
    calls: list[str] = []

    def trigger(repo_id: str) -> None:
        calls.append(repo_id)
        poller(repo_id)

    server = make_webhook_server(make_webhook_handler(sqlite_db, SECRET, trigger), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield Served(f"http://127.0.0.1:{server.server_port}", poller, calls)
    server.shutdown()
    server.server_close()
    poller.wait_idle()


def payload(repo: str, *, refs: list[str] | None = None, scope: str = "repo.content") -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": {"action": "update", "scope": scope},
        "repo": {"type": "model", "name": repo, "id": "abc", "private": False, "owner": {"id": "o"}},
        "webhook": {"id": "w", "version": 3},
    }
    if refs is not None:
        body["updatedRefs"] = [{"ref": ref, "oldSha": "a" * 40, "newSha": "b" * 40} for ref in refs]
    return body


def polls(db: Database) -> list[Poll]:
    with db.session() as session:
        return list(session.scalars(sa.select(Poll)))


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
def test_wrong_or_missing_secret_is_401_and_records_nothing(
    served: Served, sqlite_db: Database, hub: HubServer, tmp_path: Path, secret: str | None
) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial", base_files())
    watch(sqlite_db, remote)
    status, body = served.post(payload(remote.repo_id), secret=secret)
    assert status == 401 and "secret" in body["error"].lower()
    assert served.calls == [] and polls(sqlite_db) == [] and hub.requests() == []


def test_valid_webhook_triggers_a_poll(served: Served, sqlite_db: Database, hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    head = remote.commit("initial", base_files())
    watch(sqlite_db, remote)
    status, body = served.post(payload(remote.repo_id, refs=["refs/heads/main"]))
    assert (status, body) == (202, {"polled": True, "repo": remote.repo_id})
    assert served.poller.wait_idle(30)
    (poll,) = polls(sqlite_db)
    assert poll.ok and poll.trigger == "webhook" and poll.head_sha == head
    with sqlite_db.session() as session:
        assert session.scalar(sa.select(Revision.sha)) == head


def test_bad_json_unknown_repo_and_ignored_events(
    served: Served, sqlite_db: Database, hub: HubServer, tmp_path: Path
) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial", base_files())
    watch(sqlite_db, remote)
    assert served.post(None, raw=b"{not json")[0] == 400
    assert served.post({"repo": {}})[0] == 400
    assert served.post(payload("someone/else"))[0] == 404
    status, body = served.post(payload(remote.repo_id, scope="discussion.comment"))
    assert status == 200 and body["polled"] is False
    status, body = served.post(payload(remote.repo_id, refs=["refs/heads/dev"]))
    assert status == 200 and body["polled"] is False
    assert served.calls == [] and polls(sqlite_db) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event": "x"}, "event must be an object"),
        ({"event": {"scope": 5}}, "event.scope"),
        ({"updatedRefs": 5}, "updatedRefs must be a list"),
        ({"updatedRefs": [5]}, "updatedRefs entry"),
        ({"updatedRefs": [{"ref": None}]}, "updatedRefs entry"),
        ({"repo": "x"}, "repo.name"),
        ({"repo": {"name": 7}}, "repo.name"),
        ({"repo": {"name": "a/b", "type": ["model"]}}, "repo.type"),
    ],
)
def test_malformed_payloads_with_the_right_secret_are_400_with_a_reason(
    served: Served, sqlite_db: Database, hub: HubServer, tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial", base_files())
    watch(sqlite_db, remote)
    status, body = served.post({**payload(remote.repo_id, refs=["refs/heads/main"]), **change})
    assert status == 400 and reason in body["error"], body
    assert served.calls == [] and polls(sqlite_db) == []
    assert served.post([1, 2])[0] == 400


def test_a_silent_client_is_dropped_after_the_socket_timeout(sqlite_db: Database) -> None:
    server = make_webhook_server(make_webhook_handler(sqlite_db, SECRET, lambda repo: None), timeout_s=0.5)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        stalled = []
        for _ in range(5):  # send half a request line, then nothing
            client = socket.create_connection(("127.0.0.1", server.server_port), timeout=10)
            client.sendall(b"POST /webhook HTT")
            stalled.append(client)
        partial_body = socket.create_connection(("127.0.0.1", server.server_port), timeout=10)
        partial_body.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Webhook-Secret: " + SECRET.encode()
            + b"\r\nContent-Length: 100\r\n\r\n{"
        )
        started = time.monotonic()
        for client in stalled:
            assert client.recv(1024) == b""  # closed by the server (a TimeoutError here: held forever)
            client.close()
        answer = partial_body.recv(1024)
        partial_body.close()
        assert time.monotonic() - started < 5
        assert answer.startswith(b"HTTP/1.0 408"), answer  # the body never came: 408, not a held thread
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/healthz", timeout=10) as response:
            assert response.status == 200  # the port still answers
    finally:
        server.shutdown()
        server.server_close()


def test_health_and_methods(served: Served) -> None:
    with urllib.request.urlopen(served.url + "/healthz", timeout=10) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(served.url + "/webhook", timeout=10)
    assert info.value.code == 405


def test_a_secret_is_required(sqlite_db: Database) -> None:
    with pytest.raises(ConfigError, match="secret"):
        make_webhook_handler(sqlite_db, "", lambda repo: None)


def test_bursts_are_coalesced(sqlite_db: Database, hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial", base_files())
    watch(sqlite_db, remote)

    class Slow:
        def __init__(self) -> None:
            self.inner = remote.source()
            self.kind = "hf"

        @property
        def requests(self) -> int:
            return self.inner.requests

        def head(self, ref: str) -> str:
            time.sleep(0.3)
            return self.inner.head(ref)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    slow = Slow()
    poller = BackgroundPoller(lambda repo: poll_model(sqlite_db, repo, slow, trigger="webhook"))
    for _ in range(5):
        poller(remote.repo_id)
    assert poller.wait_idle(30)
    assert len(poller.results) == 2  # the running poll, then exactly one more for the burst
    assert [len(result.changes) for result in poller.results] == [1, 0]
