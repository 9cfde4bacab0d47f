"""The Ray executor: every shard of every run is a Ray task, as many in flight as the cluster can hold.

The service stays the one place that decides what to run; Ray only places tasks on nodes with the
resources their engine needs (``task_resources``) and retries a task whose worker or node was lost
(``max_retries``). The database is where the two meet: each shard's claim and heartbeat
(``_claims``), and the responses the tasks write themselves. A shard another service's task still
holds alive is watched, not resubmitted; one whose heartbeat went stale is claimed again.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor._logging import log_event
from monitor._redact import redact
from monitor.config import ExecutorConfig
from monitor.db import Database, utcnow
from monitor.errors import ExecutorError, MonitorError
from monitor.executors._claims import claim_shard, ensure_shards, mark_shard, read_shards, renew_queued, shard_ranges
from monitor.executors._database import task_url
from monitor.executors._protocol import JobOutcome, ProgressCallback, RunJob
from monitor.executors._resources import task_resources
from monitor.executors._task import ShardResult, generate_shard

__all__ = ["RayExecutor", "require_postgresql"]

logger = logging.getLogger("monitor.executor")

_INTERRUPTED = "interrupted: the service stopped; the run resumes on the next start"


def require_postgresql(url: str) -> None:
    """Refuse a store Ray tasks cannot share: they write from other hosts, a SQLite file is on this one."""
    if not url.startswith("postgresql"):
        raise ExecutorError(
            "executor kind 'ray' needs a PostgreSQL DRIFT_MONITOR_DATABASE_URL: its tasks write responses from "
            "other hosts, and SQLite is a file only this host can write"
        )


@dataclass
class _Shard:
    job: RunJob
    first: int
    last: int
    token: str | None = None
    ref: Any = None
    seen_generated: int = 0
    submitted: float = 0.0
    timed_out: str | None = None


@dataclass
class _Run:
    job: RunJob
    open_shards: set[int] = field(default_factory=set)
    generated: int = 0
    error: str | None = None


class RayExecutor:
    """Shards of runs as Ray tasks on the cluster at ``config.address``, claimed once each in the database."""

    kind = "ray"

    def __init__(
        self,
        config: ExecutorConfig,
        *,
        db: Database,
        data_dir: Path,
        owner: str | None = None,
        poll_s: float = 0.5,
    ) -> None:
        require_postgresql(db.engine.url.drivername)
        try:
            import ray
        except ImportError:
            raise ExecutorError("executor kind 'ray' needs Ray: pip install 'drift-monitor[ray]'") from None
        self._ray = ray
        self._config = config
        self._db = db
        self._db_url = task_url(db.engine.url)  # no password: each node supplies it (``_database``)
        # Absolute: a Ray worker's working directory is not the service's.
        self._data_dir = str(Path(config.worker_data_dir or data_dir).expanduser().absolute())
        self._owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"
        self._poll_s = poll_s
        self._connected_here = False
        if not ray.is_initialized():
            try:
                ray.init(
                    address=config.address, namespace="drift-monitor", log_to_driver=False, configure_logging=False
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ExecutorError(
                    f"cannot reach the Ray cluster at {config.address!r} ({first}); start it with "
                    "'ray start --head' or fix [executor] address"
                ) from None
            self._connected_here = True
        self._remote = ray.remote(generate_shard)

    def close(self) -> None:
        """Disconnect from the cluster if this executor connected (tasks of a finished ``execute`` are done)."""
        if self._connected_here and self._ray.is_initialized():
            self._ray.shutdown()
        self._connected_here = False

    def execute(
        self,
        jobs: Sequence[RunJob],
        *,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[JobOutcome]:
        """Submit every shard of every job (up to ``max_in_flight`` at once); yield each run as it finishes."""
        stop = stop or threading.Event()
        shards: dict[int, _Shard] = {}
        runs: dict[int, _Run] = {}
        for job in jobs:
            ids = ensure_shards(
                self._db, job.run_id, shard_ranges(job.items, self._config.shard_size), executor=self.kind
            )
            runs[job.run_id] = _Run(job, set(ids))
            for task_id, (first, last) in zip(ids, _stored_ranges(self._db, ids, len(job.items)), strict=True):
                shards[task_id] = _Shard(job, first, last)
        queue: deque[int] = deque(shards)
        in_flight: dict[Any, int] = {}
        watching: set[int] = set()
        for run in list(runs.values()):
            if not run.open_shards:  # a run with nothing to generate
                del runs[run.job.run_id]
                yield JobOutcome(run.job.run_id, 0, None)

        def settle(task_id: int, error: str | None) -> Iterator[JobOutcome]:
            shard = shards[task_id]
            run = runs[shard.job.run_id]
            run.open_shards.discard(task_id)
            run.error = run.error or error
            if not run.open_shards:
                del runs[shard.job.run_id]
                yield JobOutcome(shard.job.run_id, run.generated, run.error)

        while runs:
            if stop.is_set():
                yield from self._interrupt(shards, runs, in_flight)
                return
            while queue and len(in_flight) < self._config.max_in_flight:
                task_id = queue.popleft()
                outcome = self._submit(task_id, shards[task_id])
                if outcome == "submitted":
                    in_flight[shards[task_id].ref] = task_id
                elif outcome == "live":
                    watching.add(task_id)
                else:
                    yield from settle(task_id, None)
            ready = self._wait(list(in_flight))
            finished = {ref: in_flight.pop(ref) for ref in ready}
            self._count([*finished.values(), *in_flight.values()], shards, runs, on_progress)
            for ref, task_id in finished.items():
                error, taken_over = self._result(ref, task_id, shards[task_id])
                if taken_over:
                    watching.add(task_id)
                else:
                    yield from settle(task_id, error)
            renew_queued(self._db, [shards[t].token or "" for t in in_flight.values()])
            self._timeouts(shards, in_flight)
            yield from self._watch(watching, shards, runs, queue, on_progress, settle)

    def _submit(self, task_id: int, shard: _Shard) -> str:
        resources = shard.job.resources or task_resources(shard.job.spec, cpus_per_task=self._config.cpus_per_task)
        claim = claim_shard(
            self._db, task_id, owner=self._owner, stale_after_s=self._config.stale_after_s, resources=resources
        )
        if claim.outcome != "claimed" or claim.token is None:
            return claim.outcome
        shard.token, shard.submitted, shard.seen_generated = claim.token, time.monotonic(), claim.generated
        shard.timed_out = None
        shard.ref = self._remote.options(max_retries=self._config.max_retries, **resources).remote(
            self._db_url,
            task_id,
            claim.token,
            shard.job.model,
            shard.job.spec,
            list(shard.job.items[shard.first : shard.last]),
            self._data_dir,
            self._config.heartbeat_s,
        )
        log_event(
            logger, "task.submitted", run=shard.job.run_id, task=task_id, model=shard.job.repo_id, **resources
        )
        return "submitted"

    def _wait(self, refs: list[Any]) -> list[Any]:
        if not refs:
            time.sleep(self._poll_s)
            return []
        ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=self._poll_s)
        return list(ready)

    def _result(self, ref: Any, task_id: int, shard: _Shard) -> tuple[str | None, bool]:
        """A finished task's error (None when it stored its shard) and whether it found itself taken over."""
        try:
            result: ShardResult = self._ray.get(ref)
        except self._ray.exceptions.RayError as exc:
            # A task this executor cancelled for its timeout ends as a lost worker (force=True): say why.
            error = shard.timed_out or _task_failure(exc, self._config.max_retries)
            if shard.token:
                mark_shard(self._db, task_id, shard.token, "failed", error)
            log_event(logger, "task.failed", level=logging.WARNING, run=shard.job.run_id, task=task_id, error=error)
            return error, False
        log_event(
            logger,
            "task.finished",
            run=shard.job.run_id,
            task=task_id,
            node=result.node,
            generated=result.generated,
            error=result.error,
        )
        return result.error, result.taken_over

    def _count(
        self,
        task_ids: list[int],
        shards: dict[int, _Shard],
        runs: dict[int, _Run],
        on_progress: ProgressCallback | None,
    ) -> None:
        """Report what shards stored since last asked (each task counts in its row, batch by batch)."""
        if not task_ids:
            return
        for task_id, state in read_shards(self._db, task_ids).items():
            shard = shards[task_id]
            delta = state.generated - shard.seen_generated
            if state.token != shard.token or delta <= 0:
                continue
            shard.seen_generated = state.generated
            if shard.job.run_id in runs:
                runs[shard.job.run_id].generated += delta
            if on_progress:
                on_progress(shard.job, delta)

    def _timeouts(self, shards: dict[int, _Shard], in_flight: dict[Any, int]) -> None:
        """Cancel a task running longer than its run's ``timeout_s`` (counted from its start, not its queueing)."""
        states = read_shards(self._db, list(in_flight.values()))
        now = utcnow()
        for ref, task_id in list(in_flight.items()):
            shard, state = shards[task_id], states.get(task_id)
            limit = shard.job.timeout_s
            if limit is None or state is None or state.started_at is None or state.status != "running":
                continue
            if shard.timed_out is None and (now - state.started_at) > dt.timedelta(seconds=limit):
                shard.timed_out = _timeout_error(limit, len(shard.job.items[shard.first : shard.last]))
                self._ray.cancel(ref, force=True)
                log_event(
                    logger, "task.timed_out", level=logging.WARNING, run=shard.job.run_id, task=task_id, limit=limit
                )

    def _watch(
        self,
        watching: set[int],
        shards: dict[int, _Shard],
        runs: dict[int, _Run],
        queue: deque[int],
        on_progress: ProgressCallback | None,
        settle: Any,
    ) -> Iterator[JobOutcome]:
        """Shards another submission holds: finished ones settle, dead ones go back to be claimed again."""
        if not watching:
            return
        self._count(list(watching), shards, runs, on_progress)
        now = utcnow()
        for task_id, state in read_shards(self._db, list(watching)).items():
            if state.status == "done" or state.status == "failed":
                watching.discard(task_id)
                yield from settle(task_id, state.error if state.status == "failed" else None)
            elif state.stale(now, self._config.stale_after_s) or state.status not in ("queued", "running"):
                watching.discard(task_id)
                queue.append(task_id)

    def _interrupt(
        self, shards: dict[int, _Shard], runs: dict[int, _Run], in_flight: dict[Any, int]
    ) -> Iterator[JobOutcome]:
        """Stop: cancel this service's tasks (their last whole batch is stored) and leave their shards claimable."""
        for ref, task_id in in_flight.items():
            self._ray.cancel(ref, force=True)
            token = shards[task_id].token
            if token:
                mark_shard(self._db, task_id, token, "interrupted", _INTERRUPTED)
        for run in runs.values():
            yield JobOutcome(run.job.run_id, run.generated, _INTERRUPTED)
        runs.clear()


def _stored_ranges(db: Database, ids: Sequence[int], count: int) -> list[tuple[int, int]]:
    """Each shard's item range as stored with it (a resumed run keeps the shards it was made with)."""
    import sqlalchemy as sa

    from monitor.db import RunTask

    with db.session() as session:
        rows = {
            task_id: (first, last)
            for task_id, first, last in session.execute(
                sa.select(RunTask.id, RunTask.first_item, RunTask.last_item).where(RunTask.id.in_(list(ids)))
            )
        }
    return [(min(rows[i][0], count), min(rows[i][1], count)) for i in ids]


def _timeout_error(limit: float, items: int) -> str:
    """The run's error for a task cancelled at its timeout: what happened and the two ways out."""
    return (
        f"timed out: a task generating {items} responses ran longer than {limit:g} s and was cancelled; "
        "raise the model's engine.timeout_s (drift-monitor run: --timeout) or split the run into smaller "
        "tasks with [executor] shard_size"
    )


def _task_failure(exc: BaseException, retries: int) -> str:
    """One line for a task Ray gave up on: lost workers (after its retries) or an unexpected exception.

    A ``MonitorError`` the task raised (its node cannot reach the database) is already that line: it is
    given whole, without Ray's wrapping, which would push its advice past the cut below.
    """
    cause = getattr(exc, "cause", None)
    if isinstance(cause, MonitorError):
        return redact(str(cause))
    name = type(exc).__name__
    text = redact(str(exc)).strip().splitlines()
    detail = next((line for line in reversed(text) if line.strip()), name)[:300]
    if "WorkerCrashed" in name or "NodeDied" in name or "ActorDied" in name or "OutOfMemory" in name:
        return f"the task's worker was lost {retries + 1} times ({name}); the run resumes on its next retry"
    if "Cancelled" in name:
        return "the task was cancelled"
    return f"{name} in the task: {detail}"
