"""Where the files that ship with the package live: the Alembic migrations and the built-in probe suites.

Both folders stay at the top of the repository (``migrations/``, ``probes/``), where a maintainer edits
them. A wheel carries copies inside the package, under ``monitor/_bundled/`` (``setup.py`` copies them at
build time), so an installed drift-monitor migrates databases and finds its suites without the checkout.
A checkout (or an editable install) has no ``_bundled`` folder and reads the top-level ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["BundledFolder", "bundled_dir"]

BundledFolder = Literal["migrations", "probes"]

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(name: BundledFolder) -> Path:
    """The folder ``name``: the copy shipped in the installed package, else the checkout's top-level folder."""
    shipped = _PACKAGE / "_bundled" / name
    if shipped.is_dir():
        return shipped
    return _PACKAGE.parent / name
