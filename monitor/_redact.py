"""The one rule for secrets: what a credential looks like, and the text shown in its place.

Secrets enter the monitor in URLs (a git remote ``https://user:TOKEN@host/r.git``, an apprise channel
``json://user:PASSWORD@host``, a database ``postgresql://user:PASSWORD@host/db``) and in the environment
(``HF_TOKEN``, the webhook secret). Every place text leaves the process (error messages, log lines,
alert titles and payloads, JSON output, rows written to the database) passes it through ``redact``;
git URLs are stored without their credentials in the first place (``split_credentials``, see
``monitor.hub``). Pure functions; this module imports nothing from the monitor, so ``monitor.errors``
can use it.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["MASK", "SECRET_ENVIRONMENT", "redact", "redact_data", "split_credentials"]

MASK = "***"
# Environment variables whose values are secrets wherever they appear.
SECRET_ENVIRONMENT = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "DRIFT_MONITOR_WEBHOOK_SECRET", "OPENAI_API_KEY")
# scheme://userinfo@ in any text; userinfo stops at the first "/", "@" or white space.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/\s@:]*)(?::(?P<password>[^/\s@]*))?@")
_HF_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")
_USER_IS_SECRET = ("http", "https")  # a token is often the whole userinfo (https://TOKEN@github.com/...)
_MIN_SECRET_LENGTH = 4  # shorter environment values would mask ordinary words


def _mask_userinfo(match: re.Match[str]) -> str:
    scheme, user, password = match.group("scheme"), match.group("user"), match.group("password")
    if scheme[:-3].lower() in _USER_IS_SECRET:
        return f"{scheme}{MASK}@"
    if password is None:
        return match.group(0)  # ssh://git@host: a user name alone is not a secret
    return f"{scheme}{user}:{MASK}@"


def redact(text: str) -> str:
    """``text`` with URL credentials, Hugging Face tokens and the secret environment values masked.

    ``https://user:TOKEN@host/r`` becomes ``https://***@host/r``; for other schemes only the password is
    masked (``postgresql://monitor:***@db/monitor``), as SQLAlchemy shows it.
    """
    if not text:
        return text
    result = _HF_TOKEN.sub(MASK, _USERINFO.sub(_mask_userinfo, text))
    for name in SECRET_ENVIRONMENT:
        value = os.environ.get(name, "")
        if len(value) >= _MIN_SECRET_LENGTH and value in result:
            result = result.replace(value, MASK)
    return result


def redact_data(value: Any) -> Any:
    """``redact`` applied to every string inside JSON-like data (dicts, lists, tuples), keys included."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(key): redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value


def split_credentials(url: str) -> tuple[str, str | None]:
    """``(url without its userinfo, the userinfo)`` for an http(s) URL that carries one; else ``(url, None)``.

    The first part is what the monitor stores and shows; the second is handed to git's credential store.
    """
    if "://" not in url:
        return url, None
    parts = urlsplit(url)
    if parts.scheme.lower() not in _USER_IS_SECRET or "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=host)), userinfo
