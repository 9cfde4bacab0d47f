"""The long-running service: the pipeline's steps as APScheduler jobs, one lease, one HTTP port, a clean stop.

Jobs (APScheduler 3 ``BlockingScheduler``, all with ``coalesce=True``, ``max_instances=1`` and a misfire
grace time, so a late or slow job runs once, never in a pile); each calls step functions of
``monitor.pipeline`` and nothing else:

- ``poll:<id>`` per watched model, on its interval or cron (with jitter): ``poll_step``; a webhook runs
  it at once;
- ``process``: ``process_pending`` (``run_step``, ``analyse_step``, ``compare_step``, ``alert_step``),
  woken after a poll found something and every few minutes anyway (pending work is derived from the
  database, so it resumes whatever a crash interrupted);
- ``rerun:<id>`` per model with ``rerun_interval_hours``: ``rerun_step`` (a fresh seed, for the noise floor);
- ``deliver``: ``deliver_step``, the alert outbox with per-channel retries and backoff.

Generation jobs (``process`` and re-runs) share one lock: at most one model is loaded at a time. SIGTERM
and SIGINT stop the service gracefully: no new job starts, the batch in flight is finished and stored,
the run is marked interrupted (resumed by the next start), the lease is released and the process exits
0. A second signal stops at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIServer

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import make_wsgi_app

from monitor._logging import log_event
from monitor._wsgi import WSGIApp
from monitor.alerts import AlertChannel, DeliveryPolicy
from monitor.analysis import Embedder
from monitor.config import MonitorConfig
from monitor.db import Database, ServiceLease, WatchedModel, utcnow
from monitor.errors import MonitorError, ServiceError
from monitor.pipeline import (
    CycleContext,
    CycleReport,
    SourceFactory,
    deliver_step,
    model_config_for,
    poll_step,
    process_pending,
    rerun_step,
    run_cycle,
    sync_watched_models,
)
from monitor.service._http import http_app, serve_http
from monitor.service._jobs import JobTracker
from monitor.service._lease import LEASE_NAME, acquire_lease, lease_owner, release_lease, renew_lease
from monitor.service._metrics import ServiceMetrics
from monitor.service._schedule import poll_trigger

__all__ = ["DEFAULT_PORT", "Service", "ServiceOptions"]

logger = logging.getLogger("monitor.service")

DEFAULT_PORT = 8787
HEARTBEAT_MAX_INTERVAL_S = 2.0


@dataclass(frozen=True)
class ServiceOptions:
    """How the service runs (the CLI's options); the defaults suit production."""

    host: str = "127.0.0.1"
    port: int | None = DEFAULT_PORT
    lease_ttl_s: float = 60.0
    process_interval_s: float = 300.0
    delivery_interval_s: float = 30.0
    misfire_grace_s: int = 600


class Service:
    """The scheduler wiring around the pipeline's steps; ``serve()`` blocks until stopped, ``once()`` does one cycle."""

    def __init__(
        self,
        db: Database,
        config: MonitorConfig,
        channels: Sequence[AlertChannel],
        *,
        data_dir: Path,
        options: ServiceOptions | None = None,
        webhook_factory: Callable[[Callable[[str], None]], WSGIApp] | None = None,
        source_factory: SourceFactory | None = None,
    ) -> None:
        """``webhook_factory(trigger)`` builds the webhook app to mount; ``source_factory`` overrides sources."""
        self.db = db
        self.config = config
        self.options = options or ServiceOptions()
        self.owner = lease_owner()
        self.metrics = ServiceMetrics(db)
        self.ctx = CycleContext(
            db=db,
            config=config,
            data_dir=data_dir,
            observer=self.metrics,
            embedder=Embedder(),  # loaded on first use, then kept for the life of the service
            source_factory=source_factory,
            channels=list(channels),
            policy=DeliveryPolicy.from_config(config.alerts),
        )
        self.stop_event = self.ctx.stop
        self._webhook_factory = webhook_factory
        self._generation_lock = threading.Lock()
        self._poll_locks: dict[int, threading.Lock] = {}
        self._scheduler: BlockingScheduler | None = None
        self._http: WSGIServer | None = None
        self._lease_ok = False
        self._last_process: dt.datetime | None = None
        self._signals = 0
        self._jobs = JobTracker(self.stop_event)
        self._failure: MonitorError | None = None
        self._starting = False
        self._last_errors: list[str] = []
        self.port: int | None = None

    # -- entry points

    def once(self) -> CycleReport:
        """One full cycle under the lease (``serve --once``): ``run_cycle``, the scheduled jobs' steps in order."""
        with self._holding_lease():
            log_event(logger, "cycle.started", owner=self.owner)
            report = run_cycle(self.ctx)
            log_event(logger, "cycle.finished", **report.log_fields())
        if self._failure is not None:
            raise self._failure
        return report

    def serve(self) -> None:
        """Run until SIGTERM/SIGINT (or a lost lease, which raises ``ServiceError``)."""
        self._starting = True
        with self._holding_lease():
            try:
                model_ids = sync_watched_models(self.db, self.config)
                self._scheduler = self._build_scheduler(model_ids)
                self._start_http()
                log_event(
                    logger,
                    "service.started",
                    owner=self.owner,
                    models=len(model_ids),
                    port=self.port,
                    channels=len(self.ctx.channels),
                )
                if not self.stop_event.is_set():
                    self._scheduler.start()  # blocks until shutdown
                self._starting = False
                self._jobs.wait_idle()
            finally:
                self._starting = False
                self.stop_event.set()
                if self._scheduler is not None and self._scheduler.running:
                    self._scheduler.shutdown(wait=False)
                self._stop_http()
        log_event(logger, "service.stopped", owner=self.owner)
        if self._failure is not None:
            raise self._failure

    @contextlib.contextmanager
    def _holding_lease(self) -> Any:
        """Hold the lease (waiting out a dead holder's), heartbeat it and handle signals for the block."""
        if self.config.executor.kind != "local":
            from monitor.executors._ray import require_postgresql

            require_postgresql(self.db.engine.url.render_as_string())
        acquire_lease(self.db, self.owner, ttl_s=self.options.lease_ttl_s, wait=True)
        self._lease_ok = True
        heartbeat = self._start_heartbeat()
        previous = self._install_signal_handlers()
        try:
            if self.config.executor.kind != "local":
                self.ctx.run_executor()  # connect to the cluster now, from the main thread, and fail early
            yield
        finally:
            self.stop_event.set()
            self.ctx.close()
            heartbeat.join(timeout=5)
            _restore_signal_handlers(previous)
            if self._lease_ok:
                release_lease(self.db, self.owner)

    def request_stop(self, reason: str = "requested") -> None:
        """Stop gracefully: no new jobs; running ones finish their batch; ``serve`` then returns."""
        if not self.stop_event.is_set():
            log_event(logger, "service.stopping", reason=reason)
        self.stop_event.set()
        # Not from the signal handler itself: shutdown takes the scheduler's locks.
        threading.Thread(target=self._shutdown_scheduler, name="stop", daemon=True).start()

    def _shutdown_scheduler(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            scheduler = self._scheduler
            if scheduler is not None and scheduler.running:
                scheduler.shutdown(wait=False)
                return
            if scheduler is None and not self._starting:
                return
            time.sleep(0.05)

    def trigger_poll(self, repo_id: str) -> None:
        """Poll ``repo_id`` now (the webhook's callback); unknown repos are ignored with a log line."""
        with self.db.session() as session:
            model_id = session.scalar(sa.select(WatchedModel.id).where(WatchedModel.repo_id == repo_id))
        if model_id is None or self._scheduler is None:
            log_event(logger, "webhook.ignored", level=logging.WARNING, repo=repo_id, reason="not watched")
            return
        self._scheduler.add_job(
            self._jobs.wrap("poll", self._poll),
            args=[model_id, "webhook"],
            id=f"webhook:{model_id}",
            replace_existing=True,
            misfire_grace_time=self.options.misfire_grace_s,
        )

    # -- health

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the service is healthy, with the facts behind the answer (``/healthz``)."""
        scheduler = self._scheduler
        running = scheduler is not None and scheduler.running
        try:
            with self.db.session() as session:
                lease = session.get(ServiceLease, LEASE_NAME)
                holder = lease.owner if lease else None
                expires = lease.expires_at if lease else None
            database = "ok"
        except MonitorError as exc:
            holder, expires, database = None, None, str(exc)
        ok = running and database == "ok" and holder == self.owner and not self.stop_event.is_set()
        document = {
            "status": "ok" if ok else "unhealthy",
            "scheduler": "running" if running else "stopped",
            "database": database,
            "lease": {"held": holder == self.owner, "owner": holder, "expires_at": expires},
            "stopping": self.stop_event.is_set(),
            "last_process": self._last_process,
            "jobs": [
                {"id": job.id, "next_run": job.next_run_time} for job in (scheduler.get_jobs() if scheduler else [])
            ],
        }
        return ok, document

    # -- jobs: each calls the pipeline's steps

    def _build_scheduler(self, model_ids: Sequence[int]) -> BlockingScheduler:
        scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max(4, len(model_ids) + 3))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": self.options.misfire_grace_s},
            timezone=dt.UTC,
        )
        now = dt.datetime.now(dt.UTC)
        with self.db.session() as session:
            for model_id in model_ids:
                model = session.get(WatchedModel, model_id)
                assert model is not None
                schedule = model_config_for(model, self.config).schedule
                # First poll at start; then on the model's own schedule.
                scheduler.add_job(
                    self._jobs.wrap("poll", self._poll),
                    poll_trigger(schedule),
                    args=[model.id, "schedule"],
                    id=f"poll:{model.id}",
                    name=f"poll {model.repo_id}",
                    next_run_time=now,
                )
                if schedule.rerun_interval_hours:
                    scheduler.add_job(
                        self._jobs.wrap("rerun", self._rerun),
                        IntervalTrigger(hours=schedule.rerun_interval_hours, timezone=dt.UTC),
                        args=[model.id],
                        id=f"rerun:{model.id}",
                        name=f"rerun {model.repo_id}",
                    )
        for job_id, function, seconds in (
            ("process", self._process, self.options.process_interval_s),
            ("deliver", self._deliver, self.options.delivery_interval_s),
        ):
            scheduler.add_job(
                self._jobs.wrap(job_id, function),
                IntervalTrigger(seconds=seconds),
                id=job_id,
                name=f"{job_id} pending work",
                next_run_time=now,
            )
        return scheduler

    def _wake(self, job_id: str) -> None:
        scheduler = self._scheduler
        if scheduler is None or self.stop_event.is_set():
            return
        with contextlib.suppress(Exception):  # the scheduler is shutting down, or the job is gone
            scheduler.modify_job(job_id, next_run_time=dt.datetime.now(dt.UTC))

    def _poll(self, model_id: int, trigger: str) -> None:
        with self._poll_locks.setdefault(model_id, threading.Lock()):
            report = poll_step(self.ctx, [model_id], trigger=trigger)
        self._log_errors(report)
        if report.changes:
            self._wake("process")
        self._wake("deliver")

    def _process(self) -> None:
        with self._generation_lock:
            report = process_pending(self.ctx)
        self._last_process = utcnow()
        self.metrics.last_cycle.set(time.time())
        # Refused comparisons repeat every pass: report them when they change, not every few minutes.
        new_errors = report.errors != self._last_errors
        self._last_errors = list(report.errors)
        if report.runs_completed or report.runs_failed or report.analysed or report.comparisons or new_errors:
            log_event(logger, "process.finished", **report.log_fields())
        if report.alerts_raised:
            self._wake("deliver")

    def _rerun(self, model_id: int) -> None:
        with self._generation_lock:
            report = rerun_step(self.ctx, [model_id])
        self._log_errors(report)
        if report.runs_completed or report.runs_failed:
            self._wake("process")

    def _deliver(self) -> None:
        self._log_errors(deliver_step(self.ctx))

    def _log_errors(self, report: CycleReport) -> None:
        for error in report.errors:
            log_event(logger, "step.error", level=logging.WARNING, error=error)

    # -- heartbeat, HTTP, signals

    def _start_heartbeat(self) -> threading.Thread:
        # Often, so that a starting service sees this one is alive (a moving heartbeat) within seconds.
        interval = min(max(self.options.lease_ttl_s / 3, 0.5), HEARTBEAT_MAX_INTERVAL_S)

        def beat() -> None:
            while not self.stop_event.wait(interval):
                try:
                    ok = renew_lease(self.db, self.owner, ttl_s=self.options.lease_ttl_s)
                except MonitorError as exc:
                    log_event(logger, "lease.renew_failed", level=logging.WARNING, error=str(exc))
                    continue
                if not ok:
                    self._lease_ok = False
                    self._failure = ServiceError(
                        "this service lost its lease on the database (another service took it over); stopped"
                    )
                    log_event(logger, "lease.lost", level=logging.ERROR, owner=self.owner)
                    self.request_stop("lease lost")
                    return

        thread = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
        thread.start()
        return thread

    def _start_http(self) -> None:
        if self.options.port is None:
            return
        webhook = self._webhook_factory(self.trigger_poll) if self._webhook_factory is not None else None
        app = http_app(health=self.health, metrics=make_wsgi_app(self.metrics.registry), webhook=webhook)
        self._http = serve_http(app, self.options.host, self.options.port)
        self.port = int(self._http.server_address[1])
        log_event(logger, "http.listening", host=self.options.host, port=self.port)

    def _stop_http(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            self.request_stop(name)
            return
        # Second signal: stop now. Worker processes are ours; their unfinished batch is lost, nothing else.
        log_event(logger, "service.killed", level=logging.WARNING, signal=name)
        for child in multiprocessing.active_children():
            child.kill()
        os._exit(130 if signum == signal.SIGINT else 143)


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
