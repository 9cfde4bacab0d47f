"""One place that turns a watched model's ``source`` and ``repo_id`` into a RevisionSource.

Each source is imported when asked for: polling a Hub repository does not import the git source, nor
a git one the Hub client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.hub._protocol import RevisionSource

__all__ = ["open_source"]


def open_source(kind: str, location: str, *, cache_dir: Path | None = None, **options: Any) -> RevisionSource:
    """The source for ``kind`` (``hf``: a Hub repo id; ``git``: a path or URL); options go to its constructor."""
    if kind == "hf":
        from monitor.hub._hf import HfSource

        return HfSource(location, cache_dir=cache_dir / "hf" if cache_dir is not None else None, **options)
    if kind == "git":
        from monitor.hub._git import GitSource

        return GitSource(location, cache_dir=cache_dir, **options)
    raise ConfigError(f"source {kind!r} cannot be polled for revisions (use hf or git)")
