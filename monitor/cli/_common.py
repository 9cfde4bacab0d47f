"""What every command needs: settings, the config file and the database, opened the same way."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from monitor._redact import redact

if TYPE_CHECKING:
    from monitor.config import MonitorConfig, Settings
    from monitor.db import Database

__all__ = ["config", "database", "note_running_service", "print_json", "settings"]


def settings() -> Settings:
    """Settings from the environment (DRIFT_MONITOR_*)."""
    from monitor.config import load_settings

    return load_settings()


def config(current: Settings | None = None) -> MonitorConfig:
    """The TOML config named by DRIFT_MONITOR_CONFIG (empty when unset)."""
    from monitor.config import load_config

    current = current or settings()
    return load_config(current.config)


def database(current: Settings | None = None) -> Database:
    """The configured database, upgraded to the newest schema (see README: storage)."""
    from monitor.db import open_database

    current = current or settings()
    return open_database(current.database_url)


def print_json(document: Any) -> None:
    """Print one JSON document on stdout (machine-readable output of ``--json``)."""
    sys.stdout.write(redact(json.dumps(document, ensure_ascii=False, default=str)) + "\n")


def note_running_service(db: Database) -> None:
    """Say on stderr that a service holds the lease: this command runs beside it, without the lease.

    Its steps are safe beside the service (polls record under a row lock and skip what another poll
    recorded first; runs resume by key), but the user should know two writers share the database.
    """
    from monitor.service import lease_holder

    holder = lease_holder(db)
    if holder is not None:
        sys.stderr.write(f"note: a drift-monitor service ({holder}) is running on this database; running beside it\n")
