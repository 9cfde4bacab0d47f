"""Structured logs: one line per event, as ``key=value`` text or as one JSON object (``Settings.log_json``).

Code logs an *event* with named fields (``log_event(logger, "poll.done", model=repo, changes=2)``) instead of
a sentence, so a log line can be grepped by event name and parsed by machines. Records from third-party
libraries come out in the same shape with their message as the event. Multi-line values are kept on one
line (escaped), so one event is always one line. Every line is redacted (``monitor._redact``): a library
that logs a URL with its credentials does not put them in the log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import IO, Any

from monitor._redact import redact

__all__ = ["JsonFormatter", "TextFormatter", "configure_logging", "log_event"]

_FIELDS_ATTR = "monitor_fields"
_EVENT_ATTR = "monitor_event"
_HANDLER_NAME = "drift-monitor"


def log_event(logger: logging.Logger, event: str, /, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with named fields; the formatter decides how it is written (text or JSON)."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={_EVENT_ATTR: event, _FIELDS_ATTR: fields}, stacklevel=2)


def _record_fields(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    event = getattr(record, _EVENT_ATTR, None) or record.getMessage()
    fields = dict(getattr(record, _FIELDS_ATTR, None) or {})
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        fields.setdefault("error", f"{type(error).__name__}: {error}")
    return event, fields


def _timestamp(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """``{"ts": ..., "level": ..., "logger": ..., "event": ..., <fields>}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one JSON object."""
        event, fields = _record_fields(record)
        document = {"ts": _timestamp(record), "level": record.levelname.lower(), "logger": record.name, "event": event}
        for key, value in fields.items():
            document.setdefault(key, value)
        return redact(json.dumps(document, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """``<ts> <LEVEL> <logger> <event> key=value ...`` on one line; values with spaces are quoted."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one human-readable line."""
        event, fields = _record_fields(record)
        parts = [_timestamp(record), f"{record.levelname:<7}", record.name, _one_line(event)]
        parts.extend(f"{key}={_text_value(value)}" for key, value in fields.items())
        return redact(" ".join(parts))


def _one_line(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = _one_line(text)
    if not text or any(char in text for char in ' "='):
        return json.dumps(text, ensure_ascii=False)
    return text


def configure_logging(*, json_lines: bool = False, level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Install one handler on the root logger (replacing ours if already there), in text or JSON form."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        from monitor.errors import ConfigError

        raise ConfigError(f"DRIFT_MONITOR_LOG_LEVEL = {level!r}: use DEBUG, INFO, WARNING or ERROR")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root.addHandler(handler)
    root.setLevel(numeric)
    # Libraries that narrate every request at INFO would drown the service's own events.
    for noisy in (
        "apscheduler.executors",
        "apscheduler.scheduler",
        "apprise",
        "httpx",
        "urllib3",
        "filelock",
        "sentence_transformers",
    ):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    scheduler_logger = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(existing, _SkippedRunFilter) for existing in scheduler_logger.filters):
        scheduler_logger.addFilter(_SkippedRunFilter())


class _SkippedRunFilter(logging.Filter):
    """Drop APScheduler's warning that a job is still running when its next turn comes.

    With ``max_instances=1`` that is the intended behaviour (a suite run outlasts the process interval),
    not a problem worth a warning every few minutes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()
