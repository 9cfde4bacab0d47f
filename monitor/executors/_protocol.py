"""The Executor seam: a run's missing pairs handed to something that generates and stores them.

An executor is given whole runs (``RunJob``: the run row, the model to load, the engine, every item of
the plan) and yields one ``JobOutcome`` per run as each finishes, in any order. What the run's row says
at the end (completed or failed) is decided by the caller from what was stored, never from what the
executor reports, so a lost report cannot lose or invent a response.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from monitor.engines import EngineSpec
from monitor.engines._worker import WorkItem

__all__ = ["Executor", "JobOutcome", "ModelRef", "ProgressCallback", "RunJob"]

ProgressCallback = Callable[["RunJob", int], None]
"""``on_progress(job, count)``: ``count`` more responses of ``job`` were stored."""


@dataclass(frozen=True)
class ModelRef:
    """Which files a run loads, resolved where it runs (the pinned sha; safetensors unless ``allow_pickle``).

    ``source`` is the watched model's: ``hf`` (a Hub snapshot), ``git`` (a checkout), ``endpoint`` (nothing
    to load: the engine calls a server) or ``local`` (a folder that exists on every node, used as is).
    """

    source: str
    repo_id: str
    sha: str
    allow_pickle: bool = False


@dataclass(frozen=True)
class RunJob:
    """One run to generate: its row, its model and engine, and every item of its plan (done ones included).

    The executor skips the items that already have a response, so a job is safe to hand over again.
    ``spec.model`` is replaced by the resolved folder on the node (``endpoint`` and ``local`` keep theirs).
    ``resources`` overrides what a cluster task asks for (by default derived from the engine).
    """

    run_id: int
    repo_id: str
    model: ModelRef
    spec: EngineSpec
    items: tuple[WorkItem, ...]
    timeout_s: float | None = None
    resources: dict[str, float] | None = None


@dataclass(frozen=True)
class JobOutcome:
    """How an executor's work on one run ended: what it generated, and the first error if any."""

    run_id: int
    generated: int
    error: str | None


@runtime_checkable
class Executor(Protocol):
    """Generates runs: ``local`` one at a time beside the service, ``ray`` many at once on a cluster."""

    kind: str

    def execute(
        self,
        jobs: Sequence[RunJob],
        *,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[JobOutcome]:
        """Generate every job's missing items; yields each job's outcome as it finishes."""
        ...

    def close(self) -> None:
        """Let go of what the executor holds (a cluster connection)."""
        ...
