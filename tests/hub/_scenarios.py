"""The same repository histories, played on the loopback Hub or in a real git repository.

A ``Remote`` is where a test makes commits, tags and force-pushes; ``source()`` is the RevisionSource
the poll reads it through. ``HubRemote`` drives the loopback Hub server (read by the real
huggingface_hub client), ``GitRemote`` a git repository in tmp_path (read by the git CLI).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from monitor.db import Database, WatchedModel
from monitor.hub import GitSource, HfSource, RevisionSource
from tests.hub._hub_server import LFS, HubServer, lfs_pointer

__all__ = [
    "TEMPLATE_R1_FEB",
    "TEMPLATE_R1_JAN",
    "GitRemote",
    "HubRemote",
    "Remote",
    "base_files",
    "tokenizer_config",
    "watch",
]

# The DeepSeek-R1 generation prompt before and after the February 2025 update that appended "<think>\n".
_TEMPLATE_HEAD = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% for message in messages %}{% if message['role'] == 'user' %}{{'<｜User｜>' + message['content']}}"
    "{% elif message['role'] == 'assistant' %}{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}"
    "{% endif %}{% endfor %}"
)
TEMPLATE_R1_JAN = _TEMPLATE_HEAD + "{% if add_generation_prompt %}{{'<｜Assistant｜>'}}{% endif %}"
TEMPLATE_R1_FEB = _TEMPLATE_HEAD + "{% if add_generation_prompt %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"


def tokenizer_config(template: str = TEMPLATE_R1_JAN, **extra: object) -> bytes:
    config: dict[str, object] = {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": "<｜begin▁of▁sentence｜>",
        "eos_token": "<｜end▁of▁sentence｜>",
        "model_max_length": 16384,
        "tokenizer_class": "LlamaTokenizerFast",
        "chat_template": template,
        **extra,
    }
    return json.dumps(config, indent=2, ensure_ascii=False).encode()


def base_files() -> dict[str, bytes | LFS | None]:
    return {
        ".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
        "README.md": b"# Tiny-R1-Distill\n\nA test model.\n",
        "config.json": json.dumps({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64}, indent=2).encode(),
        "generation_config.json": json.dumps({"do_sample": True, "temperature": 0.6, "top_p": 0.95}).encode(),
        "tokenizer.json": json.dumps({"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0}}}).encode(),
        "tokenizer_config.json": tokenizer_config(),
        "model.safetensors": LFS(b"weights-v1" * 50),
    }


class Remote(Protocol):
    kind: str
    repo_id: str

    def commit(self, title: str, files: Mapping[str, bytes | LFS | None]) -> str: ...

    def tag(self, name: str, sha: str | None = None) -> None: ...

    def reset(self, sha: str) -> None: ...

    def source(self) -> RevisionSource: ...


class HubRemote:
    """A repository on the loopback Hub."""

    kind = "hf"

    def __init__(self, server: HubServer, cache_dir: Path, repo_id: str = "deepseek-ai/Tiny-R1-Distill") -> None:
        self.server = server
        self.repo_id = repo_id
        self.repo = server.repo(repo_id)
        self.cache_dir = cache_dir

    def commit(self, title: str, files: Mapping[str, bytes | LFS | None]) -> str:
        return self.repo.commit(title, files)

    def tag(self, name: str, sha: str | None = None) -> None:
        self.repo.tag(name, sha)

    def reset(self, sha: str) -> None:
        self.repo.reset(sha)

    def source(self) -> HfSource:
        return HfSource(
            self.repo_id, endpoint=self.server.url, cache_dir=self.cache_dir, attempts=3, retry_wait_s=0.001
        )


class GitRemote:
    """A real git repository in a temporary directory; LFS files are committed as their pointers."""

    kind = "git"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.repo_id = str(path)
        self._tick = 0
        path.mkdir(parents=True, exist_ok=True)
        self._git("init", "--quiet", "--initial-branch=main")
        self._git("config", "user.name", "Tester")
        self._git("config", "user.email", "tester@example.com")
        self._git("config", "commit.gpgsign", "false")

    def _git(self, *args: str) -> str:
        self._tick += 1
        stamp = f"2025-01-20T12:{self._tick // 60:02d}:{self._tick % 60:02d}+00:00"
        # No system config: Debian's git-lfs registers its filters there, and the scenarios commit LFS
        # pointers (and plain files) exactly as written, whether or not git-lfs is installed.
        env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_CONFIG_NOSYSTEM": "1"}
        result = subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, env=env, check=True)
        return result.stdout.strip()

    def commit(self, title: str, files: Mapping[str, bytes | LFS | None]) -> str:
        for name, content in files.items():
            target = self.path / name
            if content is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(lfs_pointer(content.data) if isinstance(content, LFS) else content)
        self._git("add", "-A")
        self._git("commit", "--quiet", "--allow-empty", "-m", title)
        return self._git("rev-parse", "HEAD")

    def tag(self, name: str, sha: str | None = None) -> None:
        self._git("tag", "-a", name, "-m", f"release {name}", sha or "HEAD")

    def reset(self, sha: str) -> None:
        self._git("reset", "--quiet", "--hard", sha)

    def source(self) -> GitSource:
        return GitSource(self.path)


def watch(db: Database, remote: Remote, *, ref: str = "main") -> None:
    """Add the remote's repository to the watched models."""
    with db.session() as session:
        session.add(WatchedModel(repo_id=remote.repo_id, ref=ref, source=remote.kind))
