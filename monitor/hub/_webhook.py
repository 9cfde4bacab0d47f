"""Hub webhooks as a trigger: a small WSGI app that checks the secret and asks for an immediate poll.

The webhook is a trigger; the poll is the truth: nothing in the payload is recorded, it only names
the repository to poll. The app is plain WSGI (no dependency), so ``drift-monitor webhook`` serves it
with the standard library and the service can mount it next to its health and metrics endpoints.

Answers: 202 poll requested; 200 ignored (a discussion event, another repo type, a ref not watched);
401 missing or wrong ``X-Webhook-Secret`` (compared in constant time; nothing else is looked at);
400 a body that is not the Hub's JSON, with the reason (``parse_payload``); 404 a repository that is
not watched; 405 not a POST; 408 a body that did not arrive before the socket timeout. Every connection
has a socket timeout (``timeout_s``), so a client that stops sending holds a thread for that long at
most, not forever.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

import sqlalchemy as sa

from monitor._wsgi import HTTP_TIMEOUT_S, make_http_server
from monitor.db import Database, WatchedModel
from monitor.errors import ConfigError

__all__ = ["HubHook", "WebhookApp", "make_webhook_handler", "make_webhook_server", "parse_payload"]

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
_MAX_BODY = 1024 * 1024
_PATHS = ("", "/", "/webhook", "/webhook/")


class WebhookApp:
    """The WSGI application; ``trigger(repo_id)`` must return quickly (it only schedules the poll)."""

    def __init__(self, db: Database, secret: str, trigger: Callable[[str], None]) -> None:
        if not secret:
            raise ConfigError("the webhook needs a secret: set DRIFT_MONITOR_WEBHOOK_SECRET (the Hub sends it back)")
        self.db = db
        self._secret = secret.encode("utf-8")
        self.trigger = trigger

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request."""
        status, body = self._handle(environ)
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def _handle(self, environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        if method == "GET" and path.rstrip("/").endswith("healthz"):
            return "200 OK", {"status": "ok"}
        if path not in _PATHS:
            return "404 Not Found", {"error": "not found"}
        if method != "POST":
            return "405 Method Not Allowed", {"error": "POST a Hub webhook payload"}
        given = str(environ.get("HTTP_X_WEBHOOK_SECRET", "")).encode("utf-8")
        if not hmac.compare_digest(given, self._secret):
            return "401 Unauthorized", {"error": "missing or wrong X-Webhook-Secret"}
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return "400 Bad Request", {"error": "bad Content-Length"}
        if length > _MAX_BODY:
            return "413 Payload Too Large", {"error": "payload too large"}
        try:
            raw = environ["wsgi.input"].read(length) if length > 0 else b""
        except OSError:  # the client stopped sending (the socket timed out)
            return "408 Request Timeout", {"error": "the request body did not arrive in time"}
        hook = parse_payload(raw)
        if isinstance(hook, str):
            return "400 Bad Request", {"error": hook}
        name, scope, refs = hook.repo, hook.scope, hook.refs
        if scope.startswith("discussion"):
            return "200 OK", {"polled": False, "reason": f"{scope} events do not change revisions"}
        if hook.repo_type != "model":
            return "200 OK", {"polled": False, "reason": "only model repositories are watched"}
        watched = self._watched_ref(name)
        if watched is None:
            return "404 Not Found", {"error": f"{name} is not watched"}
        if refs and not any(_same_ref(ref, watched) for ref in refs):
            return "200 OK", {"polled": False, "reason": f"no update to {watched}"}
        logger.info("webhook: poll of %s requested (refs: %s)", name, ", ".join(refs) or "-")
        self.trigger(name)
        return "202 Accepted", {"polled": True, "repo": name}

    def _watched_ref(self, repo_id: str) -> str | None:
        with self.db.session() as session:
            ref = session.scalar(sa.select(WatchedModel.ref).where(WatchedModel.repo_id == repo_id))
        return str(ref) if ref is not None else None


@dataclass(frozen=True)
class HubHook:
    """The parts of a Hub webhook payload the trigger reads."""

    repo: str
    repo_type: str = "model"
    scope: str = ""
    refs: tuple[str, ...] = ()


def parse_payload(raw: bytes) -> HubHook | str:
    """The payload's repository, event scope and updated refs, or why it is not a Hub webhook payload.

    Shape (https://huggingface.co/docs/hub/webhooks): ``{"event": {"action", "scope"}, "repo": {"type",
    "name", ...}, "updatedRefs": [{"ref", "oldSha", "newSha"}, ...]}``; other keys are ignored.
    """
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "the body is not JSON"
    if not isinstance(payload, dict):
        return "the payload must be a JSON object"
    repo = payload.get("repo")
    if not isinstance(repo, dict) or not isinstance(repo.get("name"), str) or not repo["name"]:
        return "repo.name must be the repository id (a non-empty string)"
    repo_type = repo.get("type", "model")
    if not isinstance(repo_type, str):
        return "repo.type must be a string"
    event = payload.get("event", {})
    if event is None:
        event = {}
    if not isinstance(event, dict):
        return "event must be an object with action and scope"
    scope = event.get("scope", "")
    if not isinstance(scope, str):
        return "event.scope must be a string"
    updated = payload.get("updatedRefs") or []
    if not isinstance(updated, list):
        return "updatedRefs must be a list of {ref, oldSha, newSha}"
    refs = []
    for item in updated:
        if not isinstance(item, dict) or not isinstance(item.get("ref"), str):
            return "every updatedRefs entry must be an object with a string ref"
        refs.append(item["ref"])
    return HubHook(repo=repo["name"], repo_type=repo_type, scope=scope, refs=tuple(refs))


def _same_ref(updated: str, watched: str) -> bool:
    return updated in (watched, f"refs/heads/{watched}", f"refs/tags/{watched}")


def make_webhook_handler(db: Database, secret: str, trigger: Callable[[str], None]) -> WebhookApp:
    """Build the webhook WSGI app (mount it anywhere; it answers on ``/`` and ``/webhook``)."""
    return WebhookApp(db, secret, trigger)


def make_webhook_server(
    app: WebhookApp, host: str = "127.0.0.1", port: int = 0, *, timeout_s: float = HTTP_TIMEOUT_S
) -> WSGIServer:
    """A threaded standard-library HTTP server for ``app`` (``port`` 0 picks a free port).

    ``timeout_s`` is every connection's socket timeout: a slow or stalled client is dropped after it.
    """
    return make_http_server(app, host, port, timeout_s=timeout_s)
