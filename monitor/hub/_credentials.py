"""Where the credential of a git URL lives: git's own credential store, never the database.

``watch add https://user:TOKEN@host/r.git`` (or a config entry with such a ``repo``) watches
``https://host/r.git``: that is the repository's id in the database, the logs, the metrics and the
alerts. ``user:TOKEN`` goes to a file in git's ``credential-store`` format (``DRIFT_MONITOR_GIT_CREDENTIALS``,
by default ``<data dir>/git-credentials``, readable by its owner only), and every git command the git
source runs reads it through a read-only ``credential.helper`` (``get`` only: a server's refusal never
erases a token) with ``credential.useHttpPath`` (two repositories on one host can have different
tokens). The token is then never on a git command line (``ps``) nor in a mirror's ``config``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor._redact import redact, redact_data, split_credentials
from monitor.errors import ConfigError

__all__ = [
    "credential_store",
    "forget_credentials",
    "public_location",
    "scrub_stored_credentials",
    "store_credentials",
]


def credential_store() -> Path:
    """The credential file from the settings (``DRIFT_MONITOR_GIT_CREDENTIALS`` or ``<data dir>/git-credentials``)."""
    from monitor.config import load_settings

    settings = load_settings()
    return settings.git_credentials or settings.data_dir / "git-credentials"


def public_location(location: str) -> str:
    """The location as stored and shown: a git URL without its credentials (other locations unchanged)."""
    return split_credentials(location)[0]


def store_credentials(location: str, store: Path | None = None) -> str:
    """Keep the credentials of ``location`` (if any) in the credential store; return the public location.

    A credential already stored for the same repository is replaced (a rotated token); the file is
    rewritten only when it changes, and atomically (git may be reading it).
    """
    public, userinfo = split_credentials(location)
    if userinfo is None:
        return location
    path = store or credential_store()
    parts = urlsplit(public)
    line = f"{parts.scheme}://{userinfo}@{parts.netloc}{parts.path}"
    lines = _lines(path)
    if line not in lines:
        _write(path, [*(existing for existing in lines if split_credentials(existing)[0] != public), line])
    return public


def forget_credentials(location: str, store: Path | None = None) -> None:
    """Drop the stored credential of a repository that is no longer watched."""
    path = store or credential_store()
    public = public_location(location)
    lines = _lines(path)
    kept = [line for line in lines if split_credentials(line)[0] != public]
    if kept != lines:
        _write(path, kept)


def _lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"cannot read the git credential store {path}: {exc.strerror or exc}") from None


def _write(path: Path, lines: list[str]) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{line}\n" for line in lines))
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"cannot write the git credential store {path}: {exc.strerror or exc}") from None


def scrub_stored_credentials(session: Session, store: Path | None = None) -> int:
    """Move credentials out of rows written before they were kept in the credential store.

    A git model once added as ``https://user:TOKEN@host/r.git`` is renamed to its public URL (the
    credential goes to the store, so polls keep working) unless a model of that name already exists;
    poll errors, alert titles and payloads that quote such a URL are redacted. Cheap when there is
    nothing to do (the rows are found by ``LIKE '%://%@%'``), so every config sync runs it.
    """
    from monitor.db import Alert, AlertDelivery, ChangeEvent, Poll, WatchedModel

    changed = 0
    pattern = "%://%@%"
    for row in session.scalars(sa.select(WatchedModel).where(WatchedModel.repo_id.like(pattern))):
        public = public_location(row.repo_id)
        if public == row.repo_id or row.source != "git":
            continue
        taken = session.scalar(sa.select(WatchedModel.id).where(WatchedModel.repo_id == public))
        if taken is None:
            store_credentials(row.repo_id, store)
            row.repo_id = public
            row.settings = {**(row.settings or {}), "repo": public}
            changed += 1
    texts: list[tuple[Any, str]] = [
        (WatchedModel, "last_poll_error"),
        (Poll, "error"),
        (Alert, "title"),
        (Alert, "last_error"),
        (AlertDelivery, "last_error"),
    ]
    for model, column in texts:
        attribute = getattr(model, column)
        for item in session.scalars(sa.select(model).where(attribute.like(pattern))):
            value = getattr(item, column)
            if redact(value) != value:
                setattr(item, column, redact(value))
                changed += 1
    for model, column in ((Alert, "payload"), (ChangeEvent, "details")):
        attribute = getattr(model, column)
        for item in session.scalars(sa.select(model).where(sa.cast(attribute, sa.Text).like(pattern))):
            cleaned = redact_data(getattr(item, column))
            if cleaned != getattr(item, column):
                setattr(item, column, cleaned)
                changed += 1
    return changed
