"""Git sources check out real Git LFS content: through git-lfs, from a loopback LFS server or a local store.

git-lfs is installed by ``make test`` (Debian's package, like chromium). The remote case is served by
real ``git http-backend`` and an LFS batch API on loopback, both behind Basic auth, so a checkout that
yields the bytes proves the credential reached git and git-lfs, and that ``GIT_LFS_SKIP_SMUDGE`` (set
for polls) did not reach the explicit smudge.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import pytest

from monitor.errors import HubError
from monitor.hub import checkout_snapshot
from tests.hub._git_http_server import GitHttpServer
from tests.hub._hub_server import LFS
from tests.hub._scenarios import GitRemote, base_files

TOKEN = "lfs-token-0b3d"
SHARD = os.urandom(16 * 1024 * 1024)  # big enough that holding it in memory shows


def _git_lfs() -> str:
    path = shutil.which("git-lfs")
    assert path is not None, "git-lfs is not installed: run `make test` (it installs Debian's git-lfs)"
    return path


def test_remote_lfs_checkout_streams_from_the_lfs_server(tmp_path: Path) -> None:
    _git_lfs()
    work = GitRemote(tmp_path / "work")
    first = work.commit("small weights", {**base_files(), "model.safetensors": LFS(b"w" * 1000)})
    root = tmp_path / "served"
    root.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work.path), str(root / "model.git")], check=True)
    with GitHttpServer(root, credentials=("user", TOKEN)) as server:
        server.put_lfs_object(b"w" * 1000)
        url = f"http://user:{TOKEN}@127.0.0.1:{server.port}/model.git"
        checkout_snapshot(url, first, tmp_path / "checkouts")  # the mirror exists, the code is imported
        head = work.commit("weights", {"model.safetensors": LFS(SHARD)})
        push = ["git", "push", "--quiet", "--no-verify", str(root / "model.git"), "main"]  # objects: put below
        subprocess.run(push, cwd=work.path, check=True)
        server.put_lfs_object(SHARD)
        server.log.clear()
        tracemalloc.start()
        try:
            folder = checkout_snapshot(url, head, tmp_path / "checkouts")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        batch = [user for method, path, user in server.log if path.endswith("/objects/batch") and user]
    weights = folder / "model.safetensors"
    assert weights.stat().st_size == len(SHARD)
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == hashlib.sha256(SHARD).hexdigest()
    assert batch == ["user"]  # one authenticated batch request
    assert peak < len(SHARD) // 4, f"the checkout held {peak} bytes of Python memory for a {len(SHARD)}-byte shard"
    assert not list(folder.glob(".*lfs-partial"))


def test_local_repository_lfs_checkout_reads_its_lfs_store(tmp_path: Path) -> None:
    _git_lfs()
    work = GitRemote(tmp_path / "work")
    work._git("lfs", "install", "--local")
    work._git("lfs", "track", "*.safetensors")
    data = os.urandom(200_000)
    head = work.commit("weights", {**base_files(), "model.safetensors": data})
    assert work._git("cat-file", "-p", f"{head}:model.safetensors").startswith("version https://git-lfs")
    folder = checkout_snapshot(work.path, head, tmp_path / "checkouts")
    assert (folder / "model.safetensors").read_bytes() == data


def test_an_lfs_object_missing_from_the_server_is_one_error(tmp_path: Path) -> None:
    _git_lfs()
    work = GitRemote(tmp_path / "work")
    head = work.commit("weights", {**base_files(), "model.safetensors": LFS(b"never uploaded")})
    root = tmp_path / "served"
    root.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work.path), str(root / "model.git")], check=True)
    with GitHttpServer(root) as server, pytest.raises(HubError, match=r"model\.safetensors") as caught:
        checkout_snapshot(f"{server.url}/model.git", head, tmp_path / "checkouts")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "checkouts" / head).exists()


def test_without_git_lfs_the_checkout_says_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git = shutil.which("git")
    assert git is not None
    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to(git)
    work = GitRemote(tmp_path / "work")
    head = work.commit("weights", {**base_files(), "model.safetensors": LFS(b"w" * 100)})
    monkeypatch.setenv("PATH", str(only_git))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")  # Debian's git-lfs also registers its filters system-wide
    with pytest.raises(HubError, match="install git-lfs"):
        checkout_snapshot(work.path, head, tmp_path / "checkouts")
    assert not (tmp_path / "checkouts" / head).exists()
