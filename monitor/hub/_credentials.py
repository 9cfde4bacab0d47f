"""Where the credential of a git URL lives: git's own credential store, never the database.

``watch add https://user:TOKEN@host/r.git`` (or a config entry with such a ``repo``) watches
``https://host/r.git``: that is the repository's id in the database, the logs, the metrics and the
alerts. ``user:TOKEN`` goes to a file in git's ``credential-store`` format (``DRIFT_MONITOR_GIT_CREDENTIALS``,
by default ``<data dir>/git-credentials``, readable by its owner only), and every git command the git
source runs reads it through ``credential.helper`` with ``credential.useHttpPath`` (so two repositories
on one host can have different tokens). The token is then never on a git command line (``ps``) nor in
a mirror's ``config``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from monitor._redact import split_credentials
from monitor.errors import ConfigError

__all__ = ["credential_store", "public_location", "store_credentials"]


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

    A credential already stored for the same repository is replaced (a rotated token).
    """
    public, userinfo = split_credentials(location)
    if userinfo is None:
        return location
    path = store or credential_store()
    parts = urlsplit(public)
    line = f"{parts.scheme}://{userinfo}@{parts.netloc}{parts.path}"
    kept = []
    if path.exists():
        for existing in path.read_text(encoding="utf-8").splitlines():
            if existing.strip() and split_credentials(existing)[0] != f"{parts.scheme}://{parts.netloc}{parts.path}":
                kept.append(existing)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("\n".join([*kept, line]) + "\n")
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write the git credential store {path}: {exc.strerror or exc}") from None
    return public
