"""What every step of the cycle shares: the context it reads, the report it returns, the observer it tells.

A step is a plain function ``step(ctx, model_ids) -> CycleReport``. Its work is derived from the
database ("what is missing?"), so the scheduler's jobs, ``serve --once``, the demo, ``check`` and
``webhook`` call the same functions and a restart after a crash resumes whatever was interrupted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.config import MonitorConfig
from monitor.db import Database, WatchedModel
from monitor.hub import RevisionSource
from monitor.pipeline._poll import PollResult

if TYPE_CHECKING:
    from monitor.alerts import AlertChannel, DeliveryPolicy, DeliveryStats
    from monitor.analysis import Embedder
    from monitor.executors import Executor
    from monitor.pipeline._run import RunOutcome

__all__ = ["CycleContext", "CycleObserver", "CycleReport", "SourceFactory"]

SourceFactory = Callable[[WatchedModel], RevisionSource | None]
"""``factory(model)``: a ready source for a model (a mirror, a test double), or None for the model's own."""


class CycleObserver:
    """Hooks the service uses for metrics; every method is a no-op here."""

    def polled(self, repo_id: str, result: PollResult) -> None:
        """A poll finished (ok or failed)."""

    def run_finished(self, repo_id: str, suite: str, outcome: RunOutcome) -> None:
        """A run finished: completed, failed or interrupted."""

    def responses_stored(self, repo_id: str, count: int) -> None:
        """A batch of responses was stored by the worker."""

    def delivered(self, stats: DeliveryStats) -> None:
        """A delivery pass finished."""


@dataclass
class CycleContext:
    """Everything a step needs besides the rows it reads: one per service, per ``--once``, per command.

    ``stop`` is honoured between models, between runs and between batches of a run. ``embedder`` is
    kept by a long-running caller so the sentence-embedding model loads once. ``source_factory`` may
    supply a model's source (None from it, or no factory, opens the model's own). ``channels`` and
    ``policy`` are what the deliver step sends through. ``executor`` generates runs when
    ``config.executor.kind`` is not ``local`` (made from the config on first use when not given).
    """

    db: Database
    config: MonitorConfig
    data_dir: Path
    stop: threading.Event = field(default_factory=threading.Event)
    observer: CycleObserver = field(default_factory=CycleObserver)
    embedder: Embedder | None = None
    source_factory: SourceFactory | None = None
    channels: Sequence[AlertChannel] = ()
    policy: DeliveryPolicy | None = None
    executor: Executor | None = None

    def run_executor(self) -> Executor:
        """The executor of ``config.executor`` (connected on first use, then kept for the context's life)."""
        if self.executor is None:
            from monitor.executors import build_executor

            self.executor = build_executor(self.config.executor, db=self.db, data_dir=self.data_dir)
        return self.executor

    def close(self) -> None:
        """Let go of the executor (a Ray connection this context made)."""
        if self.executor is not None:
            self.executor.close()
            self.executor = None

    @property
    def cache_dir(self) -> Path:
        """Where sources cache what they fetch (small files, git mirrors)."""
        return self.data_dir / "hub"


@dataclass
class CycleReport:
    """What one cycle, or one step of it, did; the service turns it into metrics and log events."""

    polls: int = 0
    poll_failures: int = 0
    changes: int = 0
    runs_completed: int = 0
    runs_failed: int = 0
    runs_interrupted: int = 0
    responses: int = 0
    analysed: int = 0
    comparisons: int = 0
    alerts_raised: int = 0
    delivered: int = 0
    delivery_failures: int = 0
    alerts_pending: int = 0
    stopped: bool = False
    errors: list[str] = field(default_factory=list)
    polled: list[PollResult] = field(default_factory=list)

    def add(self, other: CycleReport) -> CycleReport:
        """Fold a later step's report into this one (counts add up; ``alerts_pending`` is the latest)."""
        for name, value in vars(other).items():
            if name == "alerts_pending":
                continue
            if isinstance(value, bool):
                setattr(self, name, getattr(self, name) or value)
            elif isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
            elif isinstance(value, list):
                getattr(self, name).extend(value)
        self.alerts_pending = other.alerts_pending or self.alerts_pending
        return self

    def log_fields(self) -> dict[str, Any]:
        """The non-empty counts (and the first errors) as fields of one log event."""
        fields: dict[str, Any] = {
            name: value
            for name, value in vars(self).items()
            if value and name not in ("errors", "polled") and not isinstance(value, list)
        }
        if self.errors:
            fields["errors"] = self.errors[:5]
        return fields
