"""The service's jobs in flight: skipped once stopping, counted for the graceful stop, their errors logged.

A graceful stop must wait for the job that is finishing its batch, so every scheduler job goes through
``JobTracker.wrap``; an error in one job is one log event, never the scheduler's thread dying.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from monitor._logging import log_event
from monitor.errors import MonitorError

__all__ = ["JobTracker"]

logger = logging.getLogger("monitor.service")


class JobTracker:
    """Counts the jobs that are running; ``wait_idle`` returns when none is."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._running = 0
        self._idle = threading.Condition()

    def wrap(self, name: str, function: Callable[..., None]) -> Callable[..., None]:
        """``function`` as a scheduler job named ``name``."""

        def job(*args: Any) -> None:
            if self._stop.is_set():
                return
            with self._idle:
                self._running += 1
            try:
                function(*args)
            except MonitorError as exc:
                log_event(logger, "job.failed", level=logging.ERROR, job=name, error=str(exc))
            except Exception:
                logger.exception("job %s crashed", name)
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        job.__name__ = f"{name}_job"
        return job

    def wait_idle(self) -> None:
        """Block until no wrapped job is running."""
        with self._idle:
            while self._running:
                self._idle.wait(timeout=1.0)
