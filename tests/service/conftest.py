"""Fixtures for the service tests: the loopback Hub (from tests/hub) set up for the real huggingface_hub client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub._hub_server import LFS
from tests.hub._scenarios import GitRemote


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``serve`` configures the root logger (as a process should); in-process CLI tests put it back."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("apscheduler.scheduler", "apscheduler.executors", "apprise", "httpx", "urllib3", "filelock")
    levels = {name: logging.getLogger(name).level for name in (*names, "sentence_transformers")}
    filters = list(logging.getLogger("apscheduler.scheduler").filters)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)
    logging.getLogger("apscheduler.scheduler").filters[:] = filters


def model_repo(path: Path, folder: Path) -> GitRemote:
    """A git repository whose first commit is the model folder (weights committed as plain files, no LFS)."""
    remote = GitRemote(path)
    remote._git("config", "core.compression", "0")  # 270 MB of weights: store, do not deflate
    files: dict[str, bytes | LFS | None] = {
        item.name: item.read_bytes() for item in sorted(folder.iterdir()) if item.is_file() and item.name[0] != "."
    }
    remote.commit("Upload SmolLM2-135M-Instruct", files)
    return remote
