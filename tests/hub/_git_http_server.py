"""A loopback git server over smart HTTP: real ``git http-backend`` behind Basic auth, plus a Git LFS API.

``GitHttpServer(root)`` serves every bare repository under ``root`` at ``<url>/<name>.git``. With
``credentials=("user", "token")`` every request must carry them (401 otherwise, as a forge answers), so
a clone that succeeds proves the credential reached git. The LFS batch API
(``<url>/<name>.git/info/lfs/objects/batch``, download only) serves objects from ``lfs_objects``, a
folder of ``<oid>`` files that ``put_lfs_object`` fills. Requests are logged as (method, path, user).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["GitHttpServer"]


class GitHttpServer:
    """The server's state; ``url`` is the base of every repository URL."""

    def __init__(self, root: Path, *, credentials: tuple[str, str] | None = None) -> None:
        self.root = root
        self.credentials = credentials
        self.lfs_objects = root / "lfs-objects"
        self.lfs_objects.mkdir(parents=True, exist_ok=True)
        self.log: list[tuple[str, str, str | None]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="git-http", daemon=True)

    def __enter__(self) -> GitHttpServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def put_lfs_object(self, data: bytes) -> str:
        """Store ``data`` as an LFS object; returns its oid (sha256)."""
        oid = hashlib.sha256(data).hexdigest()
        (self.lfs_objects / oid).write_bytes(data)
        return oid

    def authorised(self, header: str | None) -> tuple[bool, str | None]:
        if self.credentials is None:
            return True, None
        if not header or not header.startswith("Basic "):
            return False, None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return (user, password) == self.credentials, user


def _handler_for(server: GitHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            ok, user = server.authorised(self.headers.get("Authorization"))
            path = urlsplit(self.path).path
            with server._lock:
                server.log.append((method, path, user))
            if not ok:
                self._answer(401, b"authentication required\n", {"WWW-Authenticate": 'Basic realm="git"'})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if path.endswith("/info/lfs/objects/batch") and method == "POST":
                self._lfs_batch(path, body)
            elif path.startswith("/lfs-objects/") and method == "GET":
                target = server.lfs_objects / path.rsplit("/", 1)[-1]
                if target.is_file():  # streamed: the test process must not hold the object either
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(target.stat().st_size))
                    self.end_headers()
                    with target.open("rb") as handle:
                        shutil.copyfileobj(handle, self.wfile, 1024 * 1024)
                else:
                    self._answer(404, b"no such object\n")
            else:
                self._git_backend(method, path, body, user)

        def _lfs_batch(self, path: str, body: bytes) -> None:
            request = json.loads(body or b"{}")
            objects = []
            for item in request.get("objects", []):
                oid, size = str(item.get("oid")), int(item.get("size", 0))
                if (server.lfs_objects / oid).is_file():
                    download: dict[str, Any] = {"href": f"{server.url}/lfs-objects/{oid}"}
                    if self.headers.get("Authorization"):  # as a forge hands out a signed URL
                        download["header"] = {"Authorization": self.headers["Authorization"]}
                    objects.append({"oid": oid, "size": size, "actions": {"download": download}})
                else:
                    objects.append({"oid": oid, "size": size, "error": {"code": 404, "message": "not found"}})
            answer = json.dumps({"transfer": "basic", "objects": objects}).encode()
            self._answer(200, answer, {"Content-Type": "application/vnd.git-lfs+json"})

        def _git_backend(self, method: str, path: str, body: bytes, user: str | None) -> None:
            environment = {
                **os.environ,
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": method,
                "PATH_INFO": path,
                "QUERY_STRING": urlsplit(self.path).query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": "127.0.0.1",
                "REMOTE_USER": user or "",
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            }
            result = subprocess.run(
                ["git", "http-backend"], input=body, capture_output=True, env=environment, check=False
            )
            head, _, payload = result.stdout.partition(b"\r\n\r\n")
            status, headers = 200, {}
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers[name] = value.strip()
            self._answer(status, payload, headers)

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
