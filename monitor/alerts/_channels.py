"""Alert channels: where an alert goes.

Apprise covers Slack, Discord, Teams, email, JSON webhooks and many more from one URL; a JSON-lines file
and the console are local channels for demos and tests.

A channel's ``send`` either returns (delivered) or raises ``AlertError`` with a reason; retries and
backoff belong to the delivery loop, not to channels.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from monitor.alerts._outbox import SEVERITIES, Severity
from monitor.config import ChannelConfig
from monitor.db import Alert
from monitor.errors import AlertError

__all__ = [
    "AlertChannel",
    "AlertMessage",
    "AppriseChannel",
    "ConsoleChannel",
    "FileChannel",
    "build_channel",
    "build_channels",
]

_BODY_LIMIT = 4000
_APPRISE_WIKI = "https://github.com/caronc/apprise/wiki"


@dataclass(frozen=True)
class AlertMessage:
    """What a channel sends: the alert as plain data, independent of the database session."""

    alert_id: int
    kind: str
    severity: Severity
    title: str
    repo_id: str | None
    created_at: dt.datetime
    dedup_key: str
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_alert(cls, alert: Alert, *, repo_id: str | None) -> AlertMessage:
        """Copy an outbox row into a message."""
        return cls(
            alert_id=alert.id,
            kind=alert.kind,
            severity=alert.severity,  # type: ignore[arg-type]
            title=alert.title,
            repo_id=repo_id,
            created_at=alert.created_at,
            dedup_key=alert.dedup_key,
            payload=dict(alert.payload or {}),
        )

    @property
    def subject(self) -> str:
        """One line for a mail subject or a chat title."""
        return f"[drift-monitor] {self.severity.upper()} {self.kind}: {self.title}"

    def body(self) -> str:
        """Plain text with the evidence; model output stays plain text (never rendered as markup)."""
        lines = [
            self.title,
            "",
            f"severity: {self.severity}",
            f"kind:     {self.kind}",
            f"model:    {self.repo_id or '-'}",
            f"raised:   {self.created_at.isoformat(timespec='seconds')}",
            f"alert id: {self.alert_id}",
            "",
            "evidence:",
            json.dumps(self.payload, indent=2, ensure_ascii=False, default=str, sort_keys=True),
            "",
            f"acknowledge: drift-monitor alerts ack {self.alert_id} --by NAME",
        ]
        text = "\n".join(lines)
        return text if len(text) <= _BODY_LIMIT else text[: _BODY_LIMIT - 20] + "\n... (truncated)"

    def to_dict(self) -> dict[str, Any]:
        """The message as JSON-ready data (the file channel's line)."""
        document = asdict(self)
        document["created_at"] = self.created_at.isoformat()
        return document


@runtime_checkable
class AlertChannel(Protocol):
    """Somewhere alerts are sent. ``send`` returns when delivered and raises ``AlertError`` otherwise."""

    name: str
    min_severity: Severity

    def send(self, message: AlertMessage) -> None:
        """Deliver one message (one attempt; the delivery loop retries)."""
        ...


class AppriseChannel:
    """Any apprise URL: ``slack://``, ``discord://``, ``msteams://``, ``mailto://``, ``json://``, ..."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        min_severity: Severity = "low",
        timeout_s: float = 30.0,
        min_interval_s: float | None = None,
    ) -> None:
        """``min_interval_s`` overrides apprise's per-service throttle (seconds between two sends)."""
        import apprise

        self.name = name
        self.min_severity = min_severity
        self._timeout_s = timeout_s
        self._apprise = apprise.Apprise()
        scheme = url.split("://", 1)[0] if "://" in url else url[:20]
        # The URL often holds a secret (a token, a password): only its scheme is ever shown.
        # apprise logs an unparseable URL in full, secret included: keep its logger quiet while parsing.
        apprise_logger = logging.getLogger("apprise")
        level = apprise_logger.level
        apprise_logger.setLevel(logging.CRITICAL + 1)
        try:
            service = apprise.Apprise.instantiate(url)
        finally:
            apprise_logger.setLevel(level)
        if service is None:
            raise AlertError(
                f"channel {name!r}: apprise cannot use the URL {scheme}://... (unknown scheme or missing "
                f"part; see {_APPRISE_WIKI})"
            )
        if min_interval_s is not None:
            service.request_rate_per_sec = min_interval_s
        self._apprise.add(service)
        self._lock = threading.Lock()

    def send(self, message: AlertMessage) -> None:
        """Notify through apprise; a failure carries apprise's own reason (its URLs are privacy-masked)."""
        import apprise

        notify_type = {
            "high": apprise.NotifyType.FAILURE,
            "medium": apprise.NotifyType.WARNING,
            "low": apprise.NotifyType.INFO,
        }[message.severity]
        with self._lock:
            result = self._apprise.notify(
                body=message.body(),
                title=message.subject,
                notify_type=notify_type,
                body_format=apprise.NotifyFormat.TEXT,
                timeout=self._timeout_s,
            )
        if not result:
            reasons = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
            reason = reasons[-1] if reasons else f"apprise reported {result.status.name}"
            raise AlertError(f"channel {self.name!r}: {reason}")


class FileChannel:
    """Appends one JSON object per alert to a file (JSON lines), flushed and fsynced before returning."""

    def __init__(self, name: str, path: Path, *, min_severity: Severity = "low") -> None:
        self.name = name
        self.min_severity = min_severity
        self.path = path
        self._lock = threading.Lock()

    def send(self, message: AlertMessage) -> None:
        """Append the alert as one line."""
        line = json.dumps(message.to_dict(), ensure_ascii=False, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise AlertError(f"channel {self.name!r}: cannot append to {self.path}: {exc.strerror or exc}") from None


class ConsoleChannel:
    """Prints one line per alert (stdout by default): the demo's and a terminal user's channel."""

    def __init__(self, name: str, *, min_severity: Severity = "low", stream: IO[str] | None = None) -> None:
        self.name = name
        self.min_severity = min_severity
        self._stream = stream

    def send(self, message: AlertMessage) -> None:
        """Write the alert's one-line summary."""
        stream = self._stream or sys.stdout
        stream.write(f"ALERT #{message.alert_id} [{message.severity}] {message.kind}: {message.title}\n")
        stream.flush()


def build_channel(config: ChannelConfig, *, base_dir: Path | None = None) -> AlertChannel:
    """Make the channel a config entry describes.

    ``console://`` (or ``console://stderr``) prints; ``file:///abs/path.jsonl`` or ``file:relative.jsonl``
    (relative to ``base_dir``, the config file's directory) appends JSON lines; anything else is an
    apprise URL.
    """
    url = config.url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme == "console":
        target = urlsplit(url).netloc.lower() or "stdout"
        if target not in ("stdout", "stderr"):
            raise AlertError(f"channel {config.name!r}: console channel target must be stdout or stderr, not {target}")
        return ConsoleChannel(
            config.name, min_severity=config.min_severity, stream=sys.stderr if target == "stderr" else None
        )
    if scheme == "file":
        parts = urlsplit(url)
        raw = unquote(parts.netloc + parts.path)
        if not raw:
            raise AlertError(f"channel {config.name!r}: file channel needs a path, e.g. file:///var/log/alerts.jsonl")
        path = Path(raw).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        return FileChannel(config.name, path, min_severity=config.min_severity)
    return AppriseChannel(config.name, url, min_severity=config.min_severity)


def build_channels(configs: list[ChannelConfig], *, base_dir: Path | None = None) -> list[AlertChannel]:
    """All configured channels; a bad URL or a duplicate name is a configuration error, raised at start."""
    names = [config.name for config in configs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AlertError(f"channel name {duplicates[0]!r} is used twice; give every channel its own name")
    for config in configs:
        if config.min_severity not in SEVERITIES:  # guarded by the config model; kept for direct callers
            raise AlertError(f"channel {config.name!r}: min_severity must be one of {', '.join(SEVERITIES)}")
    return [build_channel(config, base_dir=base_dir) for config in configs]
