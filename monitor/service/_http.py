"""The service's HTTP port: ``/healthz`` (JSON, 503 when unhealthy), ``/metrics`` and the Hub webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIServer

from monitor._wsgi import WSGIApp, make_http_server
from monitor.errors import ServiceError

__all__ = ["http_app", "serve_http"]


def http_app(
    *, health: Callable[[], tuple[bool, dict[str, Any]]], metrics: WSGIApp, webhook: WSGIApp | None
) -> WSGIApp:
    """One WSGI app: ``/healthz`` (JSON, 503 when unhealthy), ``/metrics``, and the webhook under ``/webhook``."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            ok, document = health()
            body = json.dumps(document, default=str).encode()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if path == "/metrics":
            return metrics(environ, start_response)
        if webhook is not None and (path == "/webhook" or path.startswith("/webhook/")):
            return webhook(environ, start_response)
        body = b'{"error": "not found; try /healthz, /metrics or /webhook"}'
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def serve_http(app: WSGIApp, host: str, port: int) -> WSGIServer:
    """Serve ``app`` on ``host:port`` from a daemon thread; a port in use is one actionable error."""
    try:
        server = make_http_server(app, host, port)
    except OSError as exc:
        raise ServiceError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another port with --port"
        ) from None
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, name="http", daemon=True).start()
    return server
