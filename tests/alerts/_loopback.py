"""Real receivers on 127.0.0.1 for alert delivery tests: an SMTP server (aiosmtpd) and an HTTP endpoint.

Both can be stopped and started again on the same port, to play a channel that is down for a while.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, inbox: list[EmailMessage]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.inbox.append(message)  # type: ignore[arg-type]
        return "250 OK"


@dataclass
class SmtpReceiver:
    """An SMTP server that keeps every message it accepts; ``stop()``/``start()`` simulate an outage."""

    port: int = field(default_factory=free_port)
    inbox: list[EmailMessage] = field(default_factory=list)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        """The apprise URL that sends to this server without TLS."""
        return f"mailto://127.0.0.1:{self.port}?from=monitor@example.com&to=oncall@example.com&mode=insecure"

    def start(self) -> None:
        self._controller = Controller(_Handler(self.inbox), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.inbox]


class HttpReceiver:
    """An HTTP server recording JSON POSTs; ``fail_with`` makes it answer an error status instead."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.posts: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The apprise json:// URL that posts here."""
        return f"json://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.fail_with is not None:
                    self.send_response(receiver.fail_with)
                    self.end_headers()
                    return
                receiver.posts.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
