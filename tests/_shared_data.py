"""Where the shared benchmark data (MATH-500, AIME 2024, GSM8K) is read from; it is never copied here.

CI lays ``shared/`` beside the clone; a developer's checkout has it at ``../shared`` too. A clone made
elsewhere (a fresh-clone check in /tmp) can point at it with DRIFT_MONITOR_SHARED_DATA.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SHARED_DATA"]


def _locate() -> Path:
    candidates = []
    if os.environ.get("DRIFT_MONITOR_SHARED_DATA"):
        candidates.append(Path(os.environ["DRIFT_MONITOR_SHARED_DATA"]))
    candidates += [Path(__file__).resolve().parents[2] / "shared" / "data", Path("/work/shared/data")]
    return next((path for path in candidates if path.is_dir()), candidates[0])


SHARED_DATA = _locate()
