"""The local executor: one run at a time in a spawned worker process beside the service (the default).

This is how the monitor has always generated: the model's files are resolved on this host and the
worker (``monitor.engines._worker``) writes responses batch by batch. Runs queue behind each other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import sqlalchemy as sa

from monitor.db import Database, Response
from monitor.engines._worker import run_worker
from monitor.errors import MonitorError
from monitor.executors._protocol import JobOutcome, ProgressCallback, RunJob
from monitor.executors._task import resolve_on_node

__all__ = ["LocalExecutor"]


class LocalExecutor:
    """Runs jobs one after another, each in a fresh worker process on this host."""

    kind = "local"

    def __init__(self, *, db: Database, data_dir: Path) -> None:
        self._db = db
        self._data_dir = data_dir

    def close(self) -> None:
        """Nothing is held between runs."""

    def execute(
        self,
        jobs: Sequence[RunJob],
        *,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[JobOutcome]:
        """Generate each job's missing items in turn; a stop request ends the queue between runs."""
        for job in jobs:
            if stop is not None and stop.is_set():
                yield JobOutcome(job.run_id, 0, "interrupted: the service stopped; the run resumes on the next start")
                continue
            with self._db.session() as session:
                done = set(
                    session.execute(
                        sa.select(Response.probe_id, Response.sample_index).where(Response.run_id == job.run_id)
                    )
                )
            missing = [item for item in job.items if (item.request.probe_id, item.request.sample_index) not in done]
            if not missing:
                yield JobOutcome(job.run_id, 0, None)
                continue
            try:
                spec = resolve_on_node(job.model, job.spec, self._data_dir)
            except MonitorError as exc:
                yield JobOutcome(job.run_id, 0, str(exc))
                continue

            def progress(count: int, job: RunJob = job) -> None:
                if on_progress:
                    on_progress(job, count)

            outcome = run_worker(
                db_url=self._db.engine.url.render_as_string(hide_password=False),
                run_id=job.run_id,
                spec=spec,
                items=missing,
                timeout_s=job.timeout_s,
                on_progress=progress,
            )
            yield JobOutcome(job.run_id, outcome.generated, outcome.error)
