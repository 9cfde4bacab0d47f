"""The one threaded WSGI server of the project (the service's port and ``drift-monitor webhook``).

The standard library's ``wsgiref`` server with a thread per request (daemon threads, so a hung client
never blocks the exit) and request lines logged at DEBUG instead of printed to stderr. Every accepted
socket has a timeout (``HTTP_TIMEOUT_S`` by default): a client that stops sending (request line,
headers or body) is dropped after it instead of holding a thread of the port forever; the drop is one
DEBUG line, not a traceback on stderr.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

__all__ = ["HTTP_TIMEOUT_S", "WSGIApp", "make_http_server"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

logger = logging.getLogger("monitor.http")
# Seconds a connection may stay silent (request line, headers, body) before it is closed.
HTTP_TIMEOUT_S = 30.0


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went silent (timeout) or away is routine: one debug line, not a traceback."""
        logger.debug("connection from %s dropped", client_address[0] if client_address else "?", exc_info=True)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)


def make_http_server(
    app: WSGIApp, host: str = "127.0.0.1", port: int = 0, *, timeout_s: float = HTTP_TIMEOUT_S
) -> WSGIServer:
    """A threaded HTTP server for ``app`` on ``host:port`` (0 picks a free port); raises ``OSError``.

    ``timeout_s`` is every connection's socket timeout (socketserver applies the handler's ``timeout``).
    """
    handler = type("_TimedHandler", (_QuietHandler,), {"timeout": timeout_s})
    return make_server(host, port, app, server_class=_ThreadingWSGIServer, handler_class=handler)
