"""The service's HTTP port: ``/healthz`` (JSON, 503 when unhealthy), ``/metrics`` and the Hub webhook."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from monitor._wsgi import WSGIApp

__all__ = ["http_app"]


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
