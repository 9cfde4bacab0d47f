"""A git repository as a revision source, through the git CLI (a local path, or a URL mirrored locally).

A local path is read in place (the demo's repository). A URL is mirrored once into the cache
(``git clone --mirror``); a quiet poll is one ``git ls-remote``, and the mirror is fetched only when
the head moved. Files stored with Git LFS are recognised by their pointer and fingerprinted by the
sha256 the pointer names; other files by their git blob id. git-lfs itself is not needed to poll; a
checkout (``checkout_snapshot``) smudges LFS files through it, streaming each to disk.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shlex
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

from monitor.errors import HubError, ModelNotFoundError
from monitor.hub._credentials import credential_store, public_location, store_credentials
from monitor.hub._disk import ensure_free_space
from monitor.hub._manifest import Commit, FileEntry, Manifest, parse_lfs_pointer, wanted_in_snapshot

__all__ = ["GitSource", "checkout_snapshot", "is_remote_location"]

logger = logging.getLogger(__name__)

_SHA = re.compile(r"^[0-9a-f]{40}$")
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")
_FIELD, _RECORD = "\x1f", "\x1e"
_LOG_FORMAT = "--format=%H%x1f%P%x1f%cI%x1f%s%x1e"
_GONE = ("repository not found", "does not appear to be a git repository", "not found", "no such file or directory")
_DENIED = ("authentication failed", "permission denied", "403", "401", "could not read username")
_COMPLETE = ".drift-monitor-complete"
# One LFS file may be tens of GB: its download gets hours, not the few minutes of a metadata command.
_SMUDGE_TIMEOUT_S = 6 * 3600.0


def is_remote_location(location: str) -> bool:
    """A git URL (``https://``, ``ssh://``, ``git://``, ``file://``, ``user@host:path``) rather than a path."""
    return "://" in location or bool(_SCP_LIKE.match(location))


class GitSource:
    """Revisions of a git repository; ``location`` is a local path or a git URL."""

    kind = "git"

    def __init__(
        self,
        location: str | Path,
        *,
        cache_dir: Path | None = None,
        timeout_s: float = 300.0,
        credentials: Path | None = None,
    ) -> None:
        """``credentials``: git's credential-store file for a URL (default: the monitor's, see ``hub``)."""
        text = public_location(str(location))
        self.location = text
        self.timeout_s = timeout_s
        self._count = 0
        self.remote = is_remote_location(text)
        self.credentials: Path | None = None
        if self.remote:
            self.credentials = credentials or credential_store()
            if text != str(location):  # credentials in the URL itself: kept in the store, never on this object
                store_credentials(str(location), self.credentials)
            if cache_dir is None:
                raise HubError(f"a cache directory is needed to mirror {text}")
            key = hashlib.sha256(text.encode()).hexdigest()[:16]
            self.git_dir = Path(cache_dir) / "git-mirrors" / f"{key}.git"
        else:
            self.git_dir = Path(text).expanduser().resolve()

    def __repr__(self) -> str:
        return f"GitSource({self.location!r})"

    @property
    def requests(self) -> int:
        """Git commands run so far."""
        return self._count

    # -- the RevisionSource protocol -------------------------------------------------------------

    def head(self, ref: str) -> str:
        """Resolve ``ref``: ``git rev-parse`` in place, or one ``git ls-remote`` for a URL."""
        if self.remote:
            return self._remote_head(ref)
        self._check_local()
        out = self._git_try("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
        sha = out.decode().strip() if out is not None else ""
        if not _SHA.match(sha):
            raise HubError(f"ref {ref!r} not found in {self.location}")
        return sha

    def commit(self, sha: str) -> Commit:
        """One commit from ``git log -1``."""
        self._ensure(sha)
        commits = self._log(["-1", sha])
        if not commits:
            raise HubError(f"commit {sha} not found in {self.location}")
        return commits[0]

    def commits_between(self, old: str | None, new: str) -> list[Commit]:
        """``git log --topo-order --reverse new ^old`` (the whole history when ``old`` is unknown)."""
        self._ensure(new)
        if old is not None and self._has_commit(old):
            return self._log(["--topo-order", "--reverse", new, f"^{old}"])
        return self._log(["--topo-order", "--reverse", new])

    def tags(self) -> Mapping[str, str]:
        """Tags with annotated tags peeled to their commit."""
        if self.remote:
            self._ensure(None)
        else:
            self._check_local()
        out = self._git("for-each-ref", "--format=%(refname:strip=2)%1f%(objectname)%1f%(*objectname)", "refs/tags")
        tags: dict[str, str] = {}
        for line in out.decode().splitlines():
            name, obj, peeled = ([*line.split(_FIELD), "", ""])[:3]
            tags[name] = peeled or obj
        return tags

    def manifest(self, sha: str) -> Manifest:
        """``git ls-tree -r -l``; blobs small enough to be LFS pointers are read in one ``cat-file --batch``."""
        self._ensure(sha)
        out = self._git("ls-tree", "-r", "-l", "-z", "--full-tree", sha)
        rows: list[tuple[str, str, int]] = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            parts = meta.split()
            if len(parts) != 4 or parts[1] != b"blob":
                continue  # submodules and symlinked trees carry no content of their own
            rows.append((raw_path.decode("utf-8", "surrogateescape"), parts[2].decode(), int(parts[3])))
        pointers = self._lfs_pointers([blob for _, blob, size in rows if size <= 1024])
        entries = []
        for path, blob, size in rows:
            lfs = pointers.get(blob)
            entries.append(
                FileEntry(path=path, size=lfs[1] if lfs else size, blob_id=blob, lfs_sha256=lfs[0] if lfs else None)
            )
        return Manifest.of(entries)

    def read_small_file(self, sha: str, path: str) -> bytes | None:
        """``git cat-file blob sha:path`` (None when the revision has no such file)."""
        self._ensure(sha)
        return self._git_try("cat-file", "blob", f"{sha}:{path}")

    # -- internals ---------------------------------------------------------------------------------

    def _check_local(self) -> None:
        if not self.git_dir.exists():
            raise ModelNotFoundError(f"git repository {self.location} not found (moved or deleted?)")
        if not os.access(self.git_dir, os.R_OK | os.X_OK):
            raise HubError(f"git repository {self.location} is not readable") from PermissionError(self.location)

    def _remote_head(self, ref: str) -> str:
        if _SHA.match(ref):
            self._ensure(ref)
            return ref
        out = self._git("ls-remote", "--", self.location, ref, cwd_free=True)
        found: dict[str, str] = {}
        for line in out.decode().splitlines():
            sha, _, name = line.partition("\t")
            found[name.strip()] = sha.strip()
        for name in (f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", ref):
            if name in found:
                return found[name]
        raise HubError(f"ref {ref!r} not found in {self.location}")

    def _ensure(self, sha: str | None) -> None:
        """Have ``sha`` (or the latest refs) in the local mirror; a local repository has everything."""
        if not self.remote:
            self._check_local()
            return
        if not (self.git_dir / "HEAD").exists():
            self.git_dir.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.git_dir.with_name(f"{self.git_dir.name}.{uuid.uuid4().hex[:8]}.tmp")
            self._git("clone", "--mirror", "--quiet", "--", self.location, str(tmp), cwd_free=True)
            try:
                tmp.rename(self.git_dir)
            except OSError:  # another poll finished the clone first
                shutil.rmtree(tmp, ignore_errors=True)
            return
        if sha is None or not self._has_commit(sha):
            self._git("fetch", "--prune", "--force", "--quiet", "origin")

    def _has_commit(self, sha: str) -> bool:
        return self._git_try("cat-file", "-e", f"{sha}^{{commit}}") is not None

    def _log(self, args: Sequence[str]) -> list[Commit]:
        out = self._git("log", _LOG_FORMAT, *args, "--")
        commits = []
        for record in out.decode("utf-8", "replace").split(_RECORD):
            record = record.strip("\n")
            if not record:
                continue
            sha, parents, date, title = ([*record.split(_FIELD, 3), "", "", ""])[:4]
            commits.append(
                Commit(
                    sha=sha,
                    parents=tuple(parents.split()),
                    title=title,
                    date=datetime.fromisoformat(date) if date else None,
                )
            )
        return commits

    def _lfs_pointers(self, blobs: Sequence[str]) -> dict[str, tuple[str, int]]:
        if not blobs:
            return {}
        unique = list(dict.fromkeys(blobs))
        out = self._git("cat-file", "--batch", input_=("\n".join(unique) + "\n").encode())
        pointers: dict[str, tuple[str, int]] = {}
        position = 0
        for blob in unique:
            header_end = out.index(b"\n", position)
            header = out[position:header_end].split()
            size = int(header[2]) if len(header) == 3 else 0
            content = out[header_end + 1 : header_end + 1 + size]
            position = header_end + 1 + size + 1
            parsed = parse_lfs_pointer(content)
            if parsed is not None:
                pointers[blob] = parsed
        return pointers

    def _git(self, *args: str, cwd_free: bool = False, input_: bytes | None = None) -> bytes:
        """Run one git command; failures become HubError (ModelNotFoundError when the repository is gone)."""
        result = self._run(args, cwd_free=cwd_free, input_=input_)
        if result.returncode == 0:
            return result.stdout
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        line = message[-1] if message else f"exit status {result.returncode}"
        lowered = " ".join(message).lower()
        if any(word in lowered for word in _DENIED):
            raise HubError(f"git {args[0]} on {self.location}: access denied ({line})") from PermissionError(line)
        if args[0] in ("ls-remote", "clone", "fetch") and any(word in lowered for word in _GONE):
            raise ModelNotFoundError(f"git repository {self.location} not found ({line})")
        raise HubError(f"git {args[0]} on {self.location} failed: {line}")

    def _git_try(self, *args: str) -> bytes | None:
        """Run one git command whose failure is an answer (no such ref, object or path): None."""
        result = self._run(args)
        return result.stdout if result.returncode == 0 else None

    def _run(
        self,
        args: Sequence[str],
        *,
        cwd_free: bool = False,
        input_: bytes | None = None,
        stdin: IO[bytes] | None = None,
        stdout: IO[bytes] | None = None,
        smudge: bool = False,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run git; ``stdin``/``stdout`` stream from and to files instead of memory.

        ``GIT_LFS_SKIP_SMUDGE=1`` keeps clones and fetches from downloading LFS content a poll never
        needs; ``smudge=True`` (the explicit ``git lfs smudge`` of a checkout) runs without it, since
        with it git-lfs hands the pointer back unchanged.
        """
        command = ["git", *self._credential_options()]
        command += [*args] if cwd_free else [f"--git-dir={self._git_dir_arg()}", *args]
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        if smudge:
            env.pop("GIT_LFS_SKIP_SMUDGE", None)
        else:
            env["GIT_LFS_SKIP_SMUDGE"] = "1"
        self._count += 1
        try:
            return subprocess.run(
                command,
                input=input_ if stdin is None else None,
                stdin=stdin,
                stdout=stdout if stdout is not None else subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=max(self.timeout_s, _SMUDGE_TIMEOUT_S) if smudge else self.timeout_s,
                env=env,
                check=False,
            )
        except FileNotFoundError:
            raise HubError("git is not installed (needed for the git source): install git") from None
        except subprocess.TimeoutExpired:
            raise HubError(f"git {args[0]} on {self.location} timed out after {self.timeout_s:.0f}s") from None

    def _credential_options(self) -> list[str]:
        """``-c`` options that make git read the credential store (none when it does not exist)."""
        if self.credentials is None or not self.credentials.is_file():
            return []
        # Read-only: git asks the helper to "store" what worked and to "erase" what a server refused; the
        # plain store helper would then rewrite the file or drop a token after one transient 401.
        store = shlex.quote(str(self.credentials))
        helper = f'!f() {{ test "$1" = get && git credential-store --file={store} get; }}; f'
        return ["-c", "credential.helper=", "-c", f"credential.helper={helper}", "-c", "credential.useHttpPath=true"]

    def _git_dir_arg(self) -> str:
        """The repository's git directory (``.git`` of a work tree, or the bare/mirror directory)."""
        dot_git = self.git_dir / ".git"
        if dot_git.is_dir():
            return str(dot_git)
        if dot_git.is_file():  # a linked worktree: "gitdir: <path>"
            text = dot_git.read_text().strip()
            if text.startswith("gitdir:"):
                return str((self.git_dir / text.removeprefix("gitdir:").strip()).resolve())
        return str(self.git_dir)


def checkout_snapshot(repo: str | Path, sha: str, dest: Path, *, allow_pickle: bool = False) -> Path:
    """Files of one pinned revision of a git repository in ``dest/<sha>`` (reused when already there).

    The same selection as ``download_snapshot`` (never ``*.py``; pickle weights only with
    ``allow_pickle``), written with ``git archive`` into a temporary folder and renamed into place, so
    a half-written checkout is never mistaken for a complete one.
    """
    if not _SHA.match(sha):
        raise HubError(f"checkouts are pinned to a full commit sha; got {sha!r} (poll the model first)")
    target = Path(dest) / sha
    if (target / _COMPLETE).exists():
        return target
    source = GitSource(repo, cache_dir=Path(dest))
    manifest = source.manifest(sha)
    selected = [entry for entry in manifest.files if wanted_in_snapshot(entry.path, allow_pickle=allow_pickle)]
    # Twice the files: the tar archive (plain files) or git-lfs's object store (LFS files) holds a copy
    # while the checkout is written.
    needed = 2 * sum(entry.size for entry in selected)
    ensure_free_space(needed, Path(dest), what=f"the checkout of {source.location} at {sha[:12]}")
    tmp = Path(dest) / f".{sha}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir(parents=True)
    try:
        if selected:
            archive = tmp / ".archive.tar"
            source._git("archive", "--format=tar", f"--output={archive}", sha, "--", *(e.path for e in selected))
            with tarfile.open(archive) as tar:
                try:
                    tar.extractall(tmp, filter="data")
                except tarfile.FilterError as exc:
                    raise HubError(f"{repo} at {sha[:12]}: refusing to check out an unsafe file: {exc}") from None
            archive.unlink()
        for entry in selected:
            if entry.lfs_sha256 is not None:
                _smudge(source, tmp / entry.path, entry)
        (tmp / _COMPLETE).write_text(sha + "\n")
        try:
            tmp.rename(target)
        except OSError:
            if not (target / _COMPLETE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _smudge(source: GitSource, path: Path, entry: FileEntry) -> None:
    """Replace an LFS pointer by its content through ``git lfs smudge`` (git-lfs must be installed).

    The pointer is git-lfs's stdin and a file beside the target its stdout, so a shard streams from
    the LFS server (or the local LFS store) to disk without passing through this process's memory; its
    sha256 is checked in chunks before it replaces the pointer.
    """
    if shutil.which("git-lfs") is None:
        raise HubError(f"{entry.path} at {source.location} is stored in Git LFS: install git-lfs to check it out")
    partial = path.with_name(f".{path.name}.lfs-partial")
    with path.open("rb") as pointer, partial.open("wb") as content:
        result = source._run(("lfs", "smudge", "--", entry.path), stdin=pointer, stdout=content, smudge=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise HubError(
            f"git lfs smudge of {entry.path} at {source.location} failed: {lines[-1] if lines else result.returncode}"
        )
    digest = hashlib.sha256()
    with partial.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    if digest.hexdigest() != entry.lfs_sha256:
        partial.unlink(missing_ok=True)
        raise HubError(
            f"{entry.path}: git-lfs returned content that does not match its pointer "
            "(is the LFS server reachable, and lfs.url right?)"
        )
    partial.replace(path)
