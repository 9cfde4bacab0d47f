"""The two sources on their own: what they read, what it costs, how they fail, pinned downloads."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from monitor.errors import HubError, ModelNotFoundError
from monitor.hub import GitSource, HfSource, checkout_snapshot, download_snapshot, is_access_denied, open_source
from tests.hub._hub_server import LFS, HubServer, lfs_pointer
from tests.hub._scenarios import GitRemote, HubRemote, base_files

# -- the Hub -------------------------------------------------------------------------------------


def test_hf_head_is_one_small_request(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    head = remote.commit("initial", base_files())
    source = remote.source()
    assert source.head("main") == head
    assert source.requests == 1
    assert hub.requests() == [("GET", f"/api/models/{remote.repo_id}/revision/main")]


def test_hf_reads_endpoint_from_the_environment(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    head = remote.commit("initial", base_files())
    source = open_source("hf", remote.repo_id, cache_dir=tmp_path)
    assert isinstance(source, HfSource) and source.endpoint == hub.url
    assert source.head(head) == head


def test_hf_manifest_carries_lfs_sha256(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    head = remote.commit("initial", base_files())
    manifest = remote.source().manifest(head)
    weights = manifest.get("model.safetensors")
    assert weights is not None
    assert weights.lfs_sha256 == hashlib.sha256(b"weights-v1" * 50).hexdigest()
    assert weights.size == 500
    readme = manifest.get("README.md")
    assert readme is not None and readme.lfs_sha256 is None and len(readme.blob_id) == 40


def test_hf_commits_between_pages_and_stops_at_the_old_head(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    hub.commits_page_size = 4
    shas = [remote.commit(f"c{i}", base_files() if i == 0 else {"README.md": str(i).encode()}) for i in range(20)]
    source = remote.source()
    new = source.commits_between(shas[13], shas[19])
    assert [c.sha for c in new] == shas[14:]
    assert [c.parents for c in new] == [(sha,) for sha in shas[13:19]]
    assert source.requests == 2  # 4 per page: 19..16, 15..12 (where the old head is)
    everything = source.commits_between("0" * 40, shas[19])
    assert [c.sha for c in everything] == shas and everything[0].parents == ()


def test_hf_small_files_are_cached_by_commit(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    head = remote.commit("initial", base_files())
    source = remote.source()
    data = source.read_small_file(head, "config.json")
    assert data is not None and b"Qwen2ForCausalLM" in data
    assert source.requests == 2  # HEAD + GET
    assert source.read_small_file(head, "config.json") == data
    assert source.requests == 2
    assert source.read_small_file(head, "chat_template.jinja") is None


def test_hf_tags(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    first = remote.commit("initial", base_files())
    remote.tag("v1.0", first)
    assert dict(remote.source().tags()) == {"v1.0": first}


@pytest.mark.parametrize(
    ("access", "error", "denied"),
    [("gone", ModelNotFoundError, False), ("gated401", HubError, True), ("gated403", HubError, True)],
)
def test_hf_access_errors(hub: HubServer, tmp_path: Path, access: str, error: type[Exception], denied: bool) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial", base_files())
    hub.repo(remote.repo_id).access = access
    with pytest.raises(error) as info:
        remote.source().head("main")
    assert is_access_denied(info.value) is denied
    assert len(hub.requests()) == 1  # not retried


def test_hf_unknown_ref(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial", base_files())
    with pytest.raises(HubError, match="revision nope"):
        remote.source().head("nope")


def test_hf_retries_then_gives_up(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial", base_files())
    hub.fail(r"/revision/", 503, times=None)
    with pytest.raises(HubError, match="HTTP 503"):
        remote.source().head("main")
    assert len(hub.requests()) == 3


def test_hf_a_long_retry_after_is_left_to_the_next_poll(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    remote.commit("initial", base_files())
    hub.fail(r"/revision/", 429, times=None, headers={"Retry-After": "3600"})
    with pytest.raises(HubError, match="retry after 3600s"):
        remote.source().head("main")
    assert len(hub.requests()) == 1


def test_hf_timeout_is_retried(hub: HubServer, tmp_path: Path) -> None:
    import threading

    remote = HubRemote(hub, tmp_path)
    head = remote.commit("initial", base_files())
    gate = threading.Event()
    original = hub.take_fault

    def slow_once(method: str, path: str):  # type: ignore[no-untyped-def]
        if not gate.is_set():
            gate.set()
            threading.Event().wait(1.0)  # longer than the client's timeout
        return original(method, path)

    hub.take_fault = slow_once  # type: ignore[method-assign]
    try:
        source = HfSource(remote.repo_id, endpoint=hub.url, timeout_s=0.3, attempts=3, retry_wait_s=0.001)
        assert source.head("main") == head
        assert source.requests == 2
    finally:
        hub.take_fault = original  # type: ignore[method-assign]


def test_hf_offline_mode_is_a_clear_error(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    remote = HubRemote(hub, tmp_path)
    with pytest.raises(HubError, match="HF_HUB_OFFLINE"):
        remote.source().head("main")


def test_hf_rejects_bad_repo_ids() -> None:
    with pytest.raises(HubError, match="owner/name"):
        HfSource("not a repo")


def test_download_snapshot_is_pinned_and_never_takes_code(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    files = {**base_files(), "modeling_x.py": b"import os\n", "pytorch_model.bin": LFS(b"pickle" * 10)}
    head = remote.commit("initial", files)
    with pytest.raises(HubError, match="full commit sha"):
        download_snapshot(remote.repo_id, "main", cache_dir=tmp_path / "dl", endpoint=hub.url)
    folder = download_snapshot(remote.repo_id, head, cache_dir=tmp_path / "dl", endpoint=hub.url)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert (folder / "model.safetensors").read_bytes() == b"weights-v1" * 50
    hub.clear_log()
    assert download_snapshot(remote.repo_id, head, cache_dir=tmp_path / "dl", endpoint=hub.url) == folder
    assert hub.requests() == []  # the cache answers
    with_pickle = download_snapshot(
        remote.repo_id, head, cache_dir=tmp_path / "dl", endpoint=hub.url, allow_pickle=True
    )
    assert (with_pickle / "pytorch_model.bin").exists() and not (with_pickle / "modeling_x.py").exists()


# -- git -----------------------------------------------------------------------------------------


def test_git_manifest_reads_lfs_pointers_and_plain_blobs(tmp_path: Path) -> None:
    remote = GitRemote(tmp_path / "repo")
    head = remote.commit("initial", {**base_files(), "small.safetensors": b"plain-weights"})
    source = GitSource(remote.path)
    manifest = source.manifest(head)
    lfs = manifest.get("model.safetensors")
    assert lfs is not None and lfs.lfs_sha256 == hashlib.sha256(b"weights-v1" * 50).hexdigest() and lfs.size == 500
    plain = manifest.get("small.safetensors")
    assert plain is not None and plain.lfs_sha256 is None and plain.digest.startswith("git:")
    assert source.read_small_file(head, "model.safetensors") == lfs_pointer(b"weights-v1" * 50)
    assert source.read_small_file(head, "missing.json") is None


def test_git_quiet_poll_is_one_command_and_tags_are_peeled(tmp_path: Path) -> None:
    remote = GitRemote(tmp_path / "repo")
    head = remote.commit("initial", base_files())
    remote.tag("v1.0")
    source = GitSource(remote.path)
    assert source.head("main") == head and source.requests == 1
    assert source.head("v1.0") == head
    assert dict(source.tags()) == {"v1.0": head}
    with pytest.raises(HubError, match="not found"):
        source.head("nope")


def test_git_url_is_mirrored_and_fetched_only_when_the_head_moved(tmp_path: Path) -> None:
    remote = GitRemote(tmp_path / "repo")
    first = remote.commit("initial", base_files())
    source = GitSource(f"file://{remote.path}", cache_dir=tmp_path / "cache")
    assert source.head("main") == first and source.requests == 1  # git ls-remote
    assert source.manifest(first).get("config.json") is not None
    second = remote.commit("docs", {"README.md": b"new"})
    before = source.requests
    assert source.head("main") == second and source.requests == before + 1
    assert [c.sha for c in source.commits_between(first, second)] == [second]


def test_git_url_gone(tmp_path: Path) -> None:
    source = GitSource(f"file://{tmp_path / 'nothing'}", cache_dir=tmp_path / "cache")
    with pytest.raises(ModelNotFoundError):
        source.head("main")


def test_git_merge_history_events_follow_first_parents(tmp_path: Path) -> None:
    remote = GitRemote(tmp_path / "repo")
    base = remote.commit("initial", base_files())
    remote._git("checkout", "-q", "-b", "side")
    side = remote.commit("side docs", {"README.md": b"side"})
    remote._git("checkout", "-q", "main")
    main = remote.commit("main weights", {"model.safetensors": LFS(b"w2")})
    remote._git("merge", "-q", "--no-edit", "side")
    merge = remote._git("rev-parse", "HEAD")
    commits = GitSource(remote.path).commits_between(base, merge)
    assert {c.sha for c in commits} == {side, main, merge}
    assert commits[-1].sha == merge and commits[-1].parents == (main, side)
    assert any(base in c.parents for c in commits)


def test_checkout_snapshot(tmp_path: Path) -> None:
    remote = GitRemote(tmp_path / "repo")
    files = {**base_files(), "model.safetensors": b"plain-weights", "modeling_x.py": b"import os\n"}
    files["pytorch_model.bin"] = b"pickle"
    head = remote.commit("initial", files)
    folder = checkout_snapshot(remote.path, head, tmp_path / "snapshots")
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert names == [
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert (folder / "model.safetensors").read_bytes() == b"plain-weights"
    (folder / "config.json").write_text("{}")  # reused, not rewritten
    assert checkout_snapshot(remote.path, head, tmp_path / "snapshots") == folder
    assert (folder / "config.json").read_text() == "{}"
    with pytest.raises(HubError, match="full commit sha"):
        checkout_snapshot(remote.path, "main", tmp_path / "snapshots")


def test_git_is_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = GitRemote(tmp_path / "repo")
    remote.commit("initial", base_files())
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(HubError, match="git is not installed"):
        GitSource(remote.path).head("main")


def test_a_snapshot_bigger_than_the_disk_is_refused_before_downloading(hub: HubServer, tmp_path: Path) -> None:
    remote = HubRemote(hub, tmp_path)
    huge = 50 * 10**15  # 50 PB listed: more than any test machine's disk
    head = remote.commit("initial", {**base_files(), "model.safetensors": LFS(b"w" * 100, listed_size=huge)})
    hub.clear_log()
    with pytest.raises(HubError) as caught:
        download_snapshot(remote.repo_id, head, cache_dir=tmp_path / "dl", endpoint=hub.url)
    message = str(caught.value)
    numbers = re.search(r"needs (\d+) bytes .* has (\d+) bytes .* free", message)
    assert numbers is not None and "\n" not in message, message  # one line naming needed and free bytes
    assert int(numbers[1]) >= huge
    assert abs(int(numbers[2]) - shutil.disk_usage(tmp_path).free) < 10**9
    assert not [path for method, path in hub.requests() if method == "GET" and "/resolve/" in path]
    assert not list((tmp_path / "dl").rglob("model.safetensors"))


def test_a_git_checkout_bigger_than_the_disk_is_refused(tmp_path: Path) -> None:
    remote = GitRemote(tmp_path / "repo")
    huge = 50 * 10**15
    pointer = lfs_pointer(b"w" * 100).replace(b"size 100", f"size {huge}".encode())
    head = remote.commit("huge weights", {**base_files(), "model.safetensors": pointer})
    with pytest.raises(HubError, match=r"needs \d+ bytes .* has \d+ bytes .* free"):
        checkout_snapshot(remote.path, head, tmp_path / "checkouts")
    assert not (tmp_path / "checkouts" / head).exists()


@pytest.mark.parametrize(("access", "message"), [("gated403", "access"), ("gone", "not found")])
def test_a_download_the_hub_refuses_keeps_its_own_error(
    hub: HubServer, tmp_path: Path, access: str, message: str
) -> None:
    remote = HubRemote(hub, tmp_path)
    head = remote.commit("initial", base_files())
    hub.repo(remote.repo_id).access = access
    with pytest.raises((HubError, ModelNotFoundError), match=message) as caught:
        download_snapshot(remote.repo_id, head, cache_dir=tmp_path / "dl", endpoint=hub.url)
    assert "dry run" not in str(caught.value).lower()
