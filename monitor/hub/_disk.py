"""Free disk space, checked against what a download will write before it starts.

A revision's manifest lists every file's size (an LFS file's real size, not its pointer's), so a
snapshot that does not fit is refused up front with one line naming both numbers, instead of filling
the disk half-way through a 50 GB shard (and failing every other write of the host with it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from monitor.errors import HubError

__all__ = ["ensure_free_space", "human_bytes"]

# Room kept free beyond the files themselves (temporary files, the database, logs).
_MARGIN_BYTES = 64 * 1024 * 1024


def human_bytes(count: int) -> str:
    """``52428800000`` -> ``48.8 GiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover - the loop always returns


def ensure_free_space(needed: int, where: Path, *, what: str) -> None:
    """Raise ``HubError`` when ``where``'s file system has less than ``needed`` bytes (plus a margin) free."""
    if needed <= 0:
        return
    existing = Path(where)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if needed + _MARGIN_BYTES > free:
        raise HubError(
            f"{what} needs {needed} bytes ({human_bytes(needed)}) but {existing} has {free} bytes "
            f"({human_bytes(free)}) free: free some space or point DRIFT_MONITOR_DATA_DIR at a larger disk"
        )
