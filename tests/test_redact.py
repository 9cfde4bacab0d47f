"""The one redaction rule (monitor._redact): what counts as a secret and what is shown instead."""

from __future__ import annotations

import pytest

from monitor._redact import redact, redact_data, split_credentials
from monitor.errors import HubError


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("git ls-remote https://user:TOKEN@host/r.git failed", "git ls-remote https://***@host/r.git failed"),
        ("clone https://TOKEN@github.com/o/r", "clone https://***@github.com/o/r"),
        ("postgresql+psycopg://monitor:PW@db:5432/m", "postgresql+psycopg://monitor:***@db:5432/m"),
        ("json://alerts:PW@127.0.0.1:9/hook", "json://alerts:***@127.0.0.1:9/hook"),
        ("ssh://git@host/r.git", "ssh://git@host/r.git"),  # a user name alone is no secret
        ("token hf_abcdefghijklmnopqrstuvwx0123 used", "token *** used"),
        ("https://host/r.git and user@example.com", "https://host/r.git and user@example.com"),
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_secret_environment_values_are_masked_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFT_MONITOR_WEBHOOK_SECRET", "s3cret-value")
    assert redact("the secret s3cret-value was sent") == "the secret *** was sent"
    assert redact_data({"a": ["s3cret-value", 1], "s3cret-value": None}) == {"a": ["***", 1], "***": None}


def test_errors_are_redacted_when_made() -> None:
    assert str(HubError("git fetch on https://u:TOKEN@h/r.git failed")) == "git fetch on https://***@h/r.git failed"


def test_split_credentials() -> None:
    assert split_credentials("https://user:TOKEN@host:8443/r.git") == ("https://host:8443/r.git", "user:TOKEN")
    assert split_credentials("https://host/r.git") == ("https://host/r.git", None)
    assert split_credentials("ssh://git@host/r.git") == ("ssh://git@host/r.git", None)
    assert split_credentials("/srv/repos/r") == ("/srv/repos/r", None)


def test_unexpected_errors_recorded_by_a_step_are_redacted() -> None:
    import logging

    from monitor.pipeline._faults import fault_text

    text = fault_text(OSError("cannot reach https://u:TOKEN@h/r.git"), logging.getLogger("test"), "poll")
    assert text == "OSError: cannot reach https://***@h/r.git"
