"""Which files a run loads: a watched revision's pinned folder, or what ``drift-monitor run --model`` names.

Both the local worker's host and a Ray task's node resolve a revision here, by the same rules (pinned sha,
safetensors unless pickles are allowed), so a run reads the same files wherever it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.errors import ModelNotFoundError
from monitor.executors._protocol import ModelRef

__all__ = ["ResolvedModel", "model_location", "resolve_model"]


def model_location(source: str, repo_id: str, sha: str, *, data_dir: Path, allow_pickle: bool = False) -> Path:
    """A local folder with one pinned revision's files: downloaded or checked out once, then reused."""
    from monitor.hub import checkout_snapshot, download_snapshot

    if source == "hf":
        return download_snapshot(repo_id, sha, cache_dir=data_dir / "hub" / "snapshots", allow_pickle=allow_pickle)
    if source == "git":
        slug = "".join(char if char.isalnum() else "_" for char in repo_id)[-80:]
        return checkout_snapshot(repo_id, sha, data_dir / "checkouts" / slug, allow_pickle=allow_pickle)
    raise ModelNotFoundError(f"{repo_id}: source {source!r} has no revisions to run")


@dataclass(frozen=True)
class ResolvedModel:
    """What ``drift-monitor run --model X --revision R`` refers to.

    ``path`` is the local folder of the pinned files; None when they were not fetched here (a cluster
    task fetches them on its own node, ``ref`` says which).
    """

    repo_id: str
    source: str
    sha: str
    path: Path | None
    allow_pickle: bool = False

    @property
    def ref(self) -> ModelRef:
        """The model as an executor's task resolves it on its node."""
        return ModelRef(self.source, self.repo_id, self.sha, allow_pickle=self.allow_pickle)


def resolve_model(
    model: str, revision: str | None, *, data_dir: Path, allow_pickle: bool = False, fetch: bool = True
) -> ResolvedModel:
    """Turn a CLI ``--model PATH_OR_REPO --revision REV`` into a pinned revision (a local folder if ``fetch``).

    A git repository path is checked out at the revision's sha; any other existing path (a model folder
    or a .gguf file) is used as it is, labelled with ``revision`` (default ``local``); anything else is a
    Hub repository id, resolved to a sha and downloaded (honouring HF_ENDPOINT and HF_TOKEN). Without
    ``fetch`` only the sha is resolved: nothing is checked out or downloaded on this host.
    """
    from monitor.hub import open_source

    path = Path(model).expanduser()
    if path.exists():
        resolved = path.resolve()
        if (resolved / ".git").exists():
            sha = open_source("git", str(resolved)).head(revision or "HEAD")
            if not fetch:
                return ResolvedModel(str(resolved), "git", sha, None, allow_pickle)
            checkout = model_location("git", str(resolved), sha, data_dir=data_dir, allow_pickle=allow_pickle)
            return ResolvedModel(str(resolved), "git", sha, checkout, allow_pickle)
        if resolved.is_dir() and not (resolved / "config.json").is_file() and not any(resolved.glob("*.gguf")):
            raise ModelNotFoundError(f"{model} is not a model: it has no config.json (nor a .gguf file)")
        return ResolvedModel(str(resolved), "local", revision or "local", resolved, allow_pickle)
    if model.count("/") != 1 or model.startswith((".", "/")):
        raise ModelNotFoundError(f"{model} is neither an existing path nor a Hub repository id (org/name)")
    source = open_source("hf", model, cache_dir=data_dir / "hub")
    sha = source.head(revision or "main")
    if not fetch:
        return ResolvedModel(model, "hf", sha, None, allow_pickle)
    snapshot = model_location("hf", model, sha, data_dir=data_dir, allow_pickle=allow_pickle)
    return ResolvedModel(model, "hf", sha, snapshot, allow_pickle)
