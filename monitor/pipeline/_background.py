"""Immediate polls for webhooks: a background thread per repository, bursts coalesced."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from monitor.pipeline._poll_types import PollResult

__all__ = ["BackgroundPoller"]

logger = logging.getLogger("monitor.webhook")


class BackgroundPoller:
    """A webhook trigger: polls a repo in a background thread, coalescing bursts per repo.

    ``poll(repo_id)`` is the poll itself (``drift-monitor webhook`` passes the cycle's poll step, so an
    endpoint model is polled like any other). Calling the poller while a poll of the same repo is running
    schedules exactly one more poll after it, so the last push is always seen and a burst of webhooks
    costs at most two polls.
    """

    def __init__(self, poll: Callable[[str], PollResult]) -> None:
        self.poll = poll
        self._lock = threading.Lock()
        self._running: dict[str, bool] = {}  # repo -> another poll requested while running
        self._threads: set[threading.Thread] = set()
        self.results: list[PollResult] = []

    def __call__(self, repo_id: str) -> None:
        """Request a poll of ``repo_id`` now (returns at once)."""
        with self._lock:
            if repo_id in self._running:
                self._running[repo_id] = True
                return
            self._running[repo_id] = False
            thread = threading.Thread(target=self._loop, args=(repo_id,), name=f"poll-{repo_id}", daemon=True)
            self._threads.add(thread)
        thread.start()

    def _loop(self, repo_id: str) -> None:
        try:
            while True:
                try:
                    result = self.poll(repo_id)
                    with self._lock:
                        self.results.append(result)
                except Exception:
                    logger.exception("webhook poll of %s failed", repo_id)
                with self._lock:
                    if not self._running.get(repo_id):
                        del self._running[repo_id]
                        return
                    self._running[repo_id] = False
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until no poll is running (tests and shutdown); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                return True
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            return not self._threads
