"""The one threaded WSGI server of the project (the service's port and ``drift-monitor webhook``).

The standard library's ``wsgiref`` server with a thread per request (daemon threads, so a hung client
never blocks the exit) and request lines logged at DEBUG instead of printed to stderr.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

__all__ = ["WSGIApp", "make_http_server"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

logger = logging.getLogger("monitor.http")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)


def make_http_server(app: WSGIApp, host: str = "127.0.0.1", port: int = 0) -> WSGIServer:
    """A threaded HTTP server for ``app`` on ``host:port`` (0 picks a free port); raises ``OSError``."""
    return make_server(host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
