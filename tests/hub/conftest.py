"""Fixtures for the hub tests: the loopback Hub (one server per session, state reset per test), remotes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.db import Database, open_database
from tests.hub._hub_server import HubServer
from tests.hub._scenarios import GitRemote, HubRemote, Remote


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
