"""The ``drift-monitor`` command line. Each area registers its commands on the one app."""

from __future__ import annotations

from monitor.cli import (
    _analysis,  # noqa: F401  (registers commands)
    _dashboard,  # noqa: F401  (registers commands)
    _db,  # noqa: F401  (registers commands)
    _drift,  # noqa: F401  (registers commands)
    _hub,  # noqa: F401  (registers commands)
    _probes,  # noqa: F401  (registers commands)
    _runs,  # noqa: F401  (registers commands)
    _service,  # noqa: F401  (registers commands)
)
from monitor.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
