"""Fixtures for the service tests: the loopback Hub (from tests/hub) set up for the real huggingface_hub client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub._hub_server import LFS, HubServer
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


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubServer]:
    server = HubServer().start()
    yield server
    server.stop()


@pytest.fixture
def hub(hub_server: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """The loopback Hub, emptied, with huggingface_hub allowed online for this test (as in tests/hub)."""
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


@pytest.fixture(scope="session")
def smollm2_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2-135M-Instruct as a plain model folder (safetensors + tokenizer), made once per session (~20 s)."""
    from monitor._smollm import materialize_smollm2

    return materialize_smollm2(tmp_path_factory.mktemp("smollm2") / "model")


def model_repo(path: Path, folder: Path) -> GitRemote:
    """A git repository whose first commit is the model folder (weights committed as plain files, no LFS)."""
    remote = GitRemote(path)
    remote._git("config", "core.compression", "0")  # 270 MB of weights: store, do not deflate
    files: dict[str, bytes | LFS | None] = {
        item.name: item.read_bytes() for item in sorted(folder.iterdir()) if item.is_file() and item.name[0] != "."
    }
    remote.commit("Upload SmolLM2-135M-Instruct", files)
    return remote
