"""A loopback HTTP server speaking the parts of the Hugging Face Hub API that huggingface_hub 2.x calls.

Endpoints (as the real client builds them):

- ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}``: model info; ``blobs=True`` adds
  size, blobId and lfs to siblings; ``expand=...`` restricts the answer to those fields;
- ``GET /api/models/{repo}/commits/{rev}``: commit list, newest first, paged with ``Link: rel="next"``;
- ``GET /api/models/{repo}/refs``: branches, tags, converts;
- ``GET /api/models/{repo}/tree/{rev}[/{path}]``: tree listing (``recursive``), paged with Link;
- ``POST /api/models/{repo}/paths-info/{rev}``: info on the posted ``paths``;
- ``HEAD|GET /{repo}/resolve/{rev}/{path}``: file content with ``X-Repo-Commit``, ``ETag`` (blob id, or
  ``X-Linked-Etag``/``X-Linked-Size`` with the sha256 for LFS files);
- errors carry ``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo).

State is plain Python objects the tests mutate between polls (``FakeRepo.commit``, ``tag``, ``reset``),
and ``fail(...)`` injects faults (429 with Retry-After, 500, malformed JSON) on matching paths.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = ["LFS", "FakeRepo", "Fault", "HubServer", "git_blob_id", "lfs_pointer"]


def git_blob_id(data: bytes) -> str:
    """The git object id of a blob (what the Hub reports as blobId / oid)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(data: bytes) -> bytes:
    """The Git LFS pointer file that stands for ``data`` in the repository."""
    return (
        b"version https://git-lfs.github.com/spec/v1\n"
        + f"oid sha256:{hashlib.sha256(data).hexdigest()}\nsize {len(data)}\n".encode()
    )


@dataclass(frozen=True)
class LFS:
    """File content stored with Git LFS (the repository holds a pointer; the Hub reports the sha256).

    ``listed_size`` is the size the Hub reports instead of the real one (a 50 GB file in a test).
    """

    data: bytes
    listed_size: int | None = None


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    lfs: bool = False
    listed_size: int | None = None

    @property
    def size(self) -> int:
        return self.listed_size if self.listed_size is not None else len(self.data)

    @property
    def blob_id(self) -> str:
        return git_blob_id(lfs_pointer(self.data) if self.lfs else self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def entry(self, path: str) -> dict[str, Any]:
        item: dict[str, Any] = {"type": "file", "oid": self.blob_id, "size": self.size, "path": path}
        if self.lfs:
            item["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": len(lfs_pointer(self.data))}
        return item


@dataclass
class FakeCommit:
    sha: str
    parents: tuple[str, ...]
    title: str
    date: dt.datetime
    files: dict[str, StoredFile]


@dataclass
class FakeRepo:
    """One model repository: commits, branches, tags, and who may see it."""

    repo_id: str
    commits: dict[str, FakeCommit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    access: str = "public"  # public | gone | gated401 | gated403 | files-gated
    _clock: dt.datetime = field(default_factory=lambda: dt.datetime(2025, 1, 20, 12, 0, tzinfo=dt.UTC))

    def commit(
        self,
        title: str,
        files: Mapping[str, bytes | LFS | None],
        *,
        branch: str = "main",
        replace: bool = False,
    ) -> str:
        """Add a commit on ``branch`` changing ``files`` (None deletes); returns its sha."""
        parent = self.branches.get(branch)
        tree = {} if replace or parent is None else dict(self.commits[parent].files)
        for path, content in files.items():
            if content is None:
                tree.pop(path, None)
            elif isinstance(content, LFS):
                tree[path] = StoredFile(content.data, lfs=True, listed_size=content.listed_size)
            else:
                tree[path] = StoredFile(content)
        self._clock += dt.timedelta(hours=1)
        material = json.dumps([parent, title, self._clock.isoformat(), sorted((p, f.blob_id) for p, f in tree.items())])
        sha = hashlib.sha1(material.encode()).hexdigest()
        self.commits[sha] = FakeCommit(sha, (parent,) if parent else (), title, self._clock, tree)
        self.branches[branch] = sha
        return sha

    def tag(self, name: str, sha: str | None = None) -> None:
        """Point tag ``name`` at ``sha`` (the head of main by default)."""
        self.tags[name] = sha or self.branches["main"]

    def reset(self, sha: str, branch: str = "main") -> None:
        """Force-move ``branch`` to ``sha`` (a force-push); commits no longer reachable stay fetchable by sha."""
        self.branches[branch] = sha

    def resolve(self, rev: str) -> str | None:
        if rev in self.branches:
            return self.branches[rev]
        if rev in self.tags:
            return self.tags[rev]
        return rev if rev in self.commits else None

    def history(self, sha: str) -> list[FakeCommit]:
        """First-parent history of ``sha``, newest first."""
        out = []
        current: str | None = sha
        while current is not None:
            commit = self.commits[current]
            out.append(commit)
            current = commit.parents[0] if commit.parents else None
        return out


@dataclass
class Fault:
    """An injected answer for requests whose path matches ``pattern`` (``times`` None: forever)."""

    pattern: str
    status: int
    times: int | None = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    method: str | None = None


class HubServer:
    """The server and its state; ``url`` is what HF_ENDPOINT / HfSource(endpoint=...) should be."""

    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str]] = []
        self.commits_page_size = 50
        self.tree_page_size = 1000
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-hub", daemon=True)

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self) -> None:
        """Forget every repository, fault and logged request (between tests)."""
        with self._lock:
            self.repos.clear()
            self.faults.clear()
            self.log.clear()
            self.commits_page_size = 50
            self.tree_page_size = 1000

    def repo(self, repo_id: str) -> FakeRepo:
        """The repository ``repo_id``, created empty on first use."""
        return self.repos.setdefault(repo_id, FakeRepo(repo_id))

    def fail(
        self,
        pattern: str,
        status: int,
        *,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        method: str | None = None,
    ) -> None:
        """Answer requests whose path matches ``pattern`` with ``status`` (``times`` times; None: always)."""
        with self._lock:
            self.faults.append(Fault(pattern, status, times, dict(headers or {}), body, method))

    def requests(self, pattern: str = "") -> list[tuple[str, str]]:
        """Logged (method, path) pairs whose path matches ``pattern`` (agent-registry lookups excluded)."""
        with self._lock:
            return [item for item in self.log if re.search(pattern, item[1]) and "agent-harnesses" not in item[1]]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method not in (None, method) or not re.search(fault.pattern, path):
                    continue
                if fault.times is None:
                    return fault
                if fault.times > 0:
                    fault.times -= 1
                    return fault
            return None


_API = re.compile(
    r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/(?P<op>revision|commits|refs|tree|paths-info)(?:/(?P<rest>.*))?)?$"
)
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")


class _Answer(Exception):
    def __init__(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _error(status: int, code: str | None, message: str, extra: Mapping[str, str] | None = None) -> _Answer:
    headers = {"X-Error-Message": message, "Content-Type": "application/json", **(extra or {})}
    if code:
        headers["X-Error-Code"] = code
    return _Answer(status, json.dumps({"error": message}).encode(), headers)


def _handler_for(server: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without TCP_NODELAY every answer waits ~40 ms
        # for a delayed ACK, which would make the loopback Hub slower than the real one.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            query = parse_qs(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with server._lock:
                server.log.append((method, path))
            try:
                fault = server.take_fault(method, path)
                if fault is not None:
                    raise _Answer(fault.status, fault.body, {"Content-Type": "application/json", **fault.headers})
                answer = self._route(method, path, query, body)
            except _Answer as exc:
                answer = exc
            self.send_response(answer.status)
            headers = {"Content-Type": "application/json", **answer.headers}
            for key, value in headers.items():
                self.send_header(key, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(answer.body)

        # -- routing ---------------------------------------------------------------------------

        def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> _Answer:
            if path == "/api/agent-harnesses":
                return _Answer(200, json.dumps({"standardEnvVars": [], "harnesses": {}}).encode())
            if (match := _API.match(path)) is not None:
                repo = self._repo(unquote(match["repo"]))
                op, rest = match["op"], unquote(match["rest"] or "")
                if op is None:
                    return self._model_info(repo, "main", query)
                if op == "revision":
                    return self._model_info(repo, rest, query)
                if op == "commits":
                    return self._commits(repo, rest, query)
                if op == "refs":
                    return self._refs(repo)
                if op == "tree":
                    rev, _, sub = rest.partition("/")
                    return self._tree(repo, rev, sub, query)
                if op == "paths-info" and method == "POST":
                    return self._paths_info(repo, rest, body)
            if (match := _RESOLVE.match(path)) is not None:
                repo = self._repo(unquote(match["repo"]))
                if repo.access == "files-gated":  # the Hub's gating: metadata public, files refused
                    raise _error(403, "GatedRepo", f"Access to model {repo.repo_id} is restricted.")
                return self._resolve(repo, unquote(match["rev"]), unquote(match["path"]), method)
            raise _error(404, None, f"no route for {method} {path}")

        def _repo(self, repo_id: str) -> FakeRepo:
            repo = server.repos.get(repo_id)
            if repo is None or repo.access == "gone":
                raise _error(404, "RepoNotFound", "Repository not found")
            if repo.access in ("gated401", "gated403"):
                status = 401 if repo.access == "gated401" else 403
                raise _error(status, "GatedRepo", f"Access to model {repo_id} is restricted.")
            return repo

        def _commit_of(self, repo: FakeRepo, rev: str) -> FakeCommit:
            sha = repo.resolve(rev)
            if sha is None:
                raise _error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
            return repo.commits[sha]

        def _model_info(self, repo: FakeRepo, rev: str, query: dict[str, list[str]]) -> _Answer:
            commit = self._commit_of(repo, rev)
            blobs = query.get("blobs", ["false"])[0].lower() == "true"
            siblings = []
            for name, stored in sorted(commit.files.items()):
                sibling: dict[str, Any] = {"rfilename": name}
                if blobs:
                    sibling["size"] = stored.size
                    sibling["blobId"] = stored.blob_id
                    if stored.lfs:
                        sibling["lfs"] = {
                            "sha256": stored.sha256,
                            "size": stored.size,
                            "pointerSize": len(lfs_pointer(stored.data)),
                        }
                siblings.append(sibling)
            info: dict[str, Any] = {
                "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "author": repo.repo_id.split("/")[0],
                "sha": commit.sha,
                "lastModified": commit.date.isoformat().replace("+00:00", ".000Z"),
                "private": False,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": ["transformers", "safetensors"],
                "library_name": "transformers",
                "siblings": siblings,
                "createdAt": "2025-01-20T00:00:00.000Z",
            }
            expand = query.get("expand") or query.get("expand[]")
            if expand:
                info = {key: value for key, value in info.items() if key in ("_id", "id", *expand)}
            return _Answer(200, json.dumps(info).encode())

        def _commits(self, repo: FakeRepo, rev: str, query: dict[str, list[str]]) -> _Answer:
            commit = self._commit_of(repo, rev)
            history = repo.history(commit.sha)
            page = int(query.get("p", ["0"])[0])
            size = server.commits_page_size
            chunk = history[page * size : (page + 1) * size]
            items = [
                {
                    "id": c.sha,
                    "title": c.title,
                    "message": "",
                    "authors": [{"user": "tester", "avatar": ""}],
                    "date": c.date.isoformat().replace("+00:00", ".000Z"),
                }
                for c in chunk
            ]
            headers = {}
            if (page + 1) * size < len(history):
                base = f"{server.url}/api/models/{repo.repo_id}/commits/{quote(rev, safe='')}"
                headers["Link"] = f'<{base}?p={page + 1}>; rel="next"'
            return _Answer(200, json.dumps(items).encode(), headers)

        def _refs(self, repo: FakeRepo) -> _Answer:
            def ref(kind: str, name: str, sha: str) -> dict[str, str]:
                return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": sha}

            data = {
                "branches": [ref("heads", n, s) for n, s in sorted(repo.branches.items())],
                "tags": [ref("tags", n, s) for n, s in sorted(repo.tags.items())],
                "converts": [],
            }
            return _Answer(200, json.dumps(data).encode())

        def _entries(self, commit: FakeCommit, prefix: str, recursive: bool) -> list[dict[str, Any]]:
            entries: dict[str, dict[str, Any]] = {}
            base = prefix.strip("/")
            for name, stored in sorted(commit.files.items()):
                if base and not name.startswith(base + "/"):
                    continue
                relative = name[len(base) + 1 :] if base else name
                parts = relative.split("/")
                for depth in range(1, len(parts)):
                    folder = "/".join(([base] if base else []) + parts[:depth])
                    if recursive or depth == 1:
                        entries.setdefault(
                            folder,
                            {"type": "directory", "oid": git_blob_id(folder.encode()), "size": 0, "path": folder},
                        )
                    if not recursive:
                        break
                else:
                    entries[name] = stored.entry(name)
            return [entries[key] for key in sorted(entries)]

        def _tree(self, repo: FakeRepo, rev: str, sub: str, query: dict[str, list[str]]) -> _Answer:
            commit = self._commit_of(repo, rev)
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            entries = self._entries(commit, sub, recursive)
            page = int(query.get("cursor", ["0"])[0])
            size = server.tree_page_size
            headers = {}
            if (page + 1) * size < len(entries):
                base = f"{server.url}/api/models/{repo.repo_id}/tree/{quote(rev, safe='')}"
                headers["Link"] = f'<{base}?recursive={str(recursive).lower()}&cursor={page + 1}>; rel="next"'
            return _Answer(200, json.dumps(entries[page * size : (page + 1) * size]).encode(), headers)

        def _paths_info(self, repo: FakeRepo, rev: str, body: bytes) -> _Answer:
            commit = self._commit_of(repo, rev)
            wanted = parse_qs(body.decode()).get("paths", [])
            items = [commit.files[p].entry(p) for p in wanted if p in commit.files]
            return _Answer(200, json.dumps(items).encode())

        def _resolve(self, repo: FakeRepo, rev: str, path: str, method: str) -> _Answer:
            commit = self._commit_of(repo, rev)
            stored = commit.files.get(path)
            if stored is None:
                raise _error(404, "EntryNotFound", f"{path} does not exist", {"X-Repo-Commit": commit.sha})
            headers = {
                "X-Repo-Commit": commit.sha,
                "Content-Type": "application/octet-stream",
                "Content-Length": str(len(stored.data)),
                "Accept-Ranges": "bytes",
            }
            if stored.lfs:
                headers["ETag"] = f'"{stored.sha256}"'
                headers["X-Linked-Etag"] = f'"{stored.sha256}"'
                headers["X-Linked-Size"] = str(stored.size)
            else:
                headers["ETag"] = f'"{stored.blob_id}"'
            return _Answer(200, stored.data if method == "GET" else b"", headers)

    return Handler
