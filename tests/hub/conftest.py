"""Fixtures for the hub tests: the loopback Hub (one server per session, state reset per test), remotes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.db import Database, open_database
from tests.hub._hub_server import HubServer
from tests.hub._scenarios import GitRemote, HubRemote, Remote


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubServer]:
    server = HubServer().start()
    yield server
    server.stop()


@pytest.fixture
def hub(hub_server: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """The loopback Hub, emptied, with huggingface_hub pointed at it and allowed online for this test.

    huggingface_hub reads HF_HUB_OFFLINE and HF_HUB_DISABLE_XET at import time, so the constants are
    patched as well as the environment; the agent-harness registry lookup (a one-off request the client
    makes to its default endpoint) is answered with the empty registry so nothing leaves the machine.
    """
    import huggingface_hub.constants as constants
    from huggingface_hub.utils import _detect_agent

    hub_server.reset()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_ENDPOINT", hub_server.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(_detect_agent, "_registry", {"standardEnvVars": [], "harnesses": {}})
    return hub_server


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    db = open_database(sqlite_url)
    yield db
    db.dispose()


@pytest.fixture
def make_remote(hub: HubServer, tmp_path: Path) -> Callable[[str], Remote]:
    """``make_remote("hf")`` or ``make_remote("git")``: an empty repository of that kind."""

    def make(kind: str) -> Remote:
        if kind == "hf":
            return HubRemote(hub, tmp_path / "hf-cache")
        return GitRemote(tmp_path / "repo")

    return make
