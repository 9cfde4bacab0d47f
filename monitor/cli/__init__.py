"""The ``drift-monitor`` command line. Each area registers its commands on the one app."""

from __future__ import annotations

from monitor.cli import _analysis  # noqa: F401  (registers commands)
from monitor.cli import _db  # noqa: F401  (registers commands)
from monitor.cli import _drift  # noqa: F401  (registers commands)
from monitor.cli import _dashboard  # noqa: F401  (registers commands)
from monitor.cli import _hub  # noqa: F401  (registers commands)
from monitor.cli import _probes  # noqa: F401  (registers commands)
from monitor.cli import _runs  # noqa: F401  (registers commands)
from monitor.cli import _service  # noqa: F401  (registers commands)
from monitor.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
