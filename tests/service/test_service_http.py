"""The service's HTTP port: served from a thread, and a port already in use is one actionable line."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from monitor.errors import ServiceError
from monitor.service import http_app, serve_http


def _app() -> object:
    def metrics(environ: object, start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"up 1\n"]

    return http_app(health=lambda: (True, {"status": "ok"}), metrics=metrics, webhook=None)


def test_serves_health_and_refuses_a_port_in_use() -> None:
    server = serve_http(_app(), "127.0.0.1", 0)  # type: ignore[arg-type]
    try:
        port = int(server.server_address[1])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ok"}
        with pytest.raises(ServiceError, match=rf"cannot listen on 127.0.0.1:{port} .*choose another port with --port"):
            serve_http(_app(), "127.0.0.1", port)  # type: ignore[arg-type]
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as probe:  # closed: the port is free again (past the client's TIME_WAIT)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
