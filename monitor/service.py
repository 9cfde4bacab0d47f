"""The long-running service: the pipeline's steps as APScheduler jobs, one lease, one HTTP port, a clean stop.

Jobs (APScheduler 3 ``BlockingScheduler``, all with ``coalesce=True``, ``max_instances=1`` and a misfire
grace time, so a late or slow job runs once, never in a pile):

- ``poll:<id>`` per watched model, on its interval or cron (with jitter); a webhook runs it at once;
- ``process``: runs, analysis, comparisons and alerts for pending work; woken after a poll found
  something, and every few minutes anyway (pending work is derived from the database, so it resumes
  whatever a crash interrupted);
- ``rerun:<id>`` per model with ``rerun_interval_hours``: a fresh run of the current revision;
- ``deliver``: the alert outbox, with per-channel retries and backoff.

Generation jobs (``process`` and re-runs) share one lock: at most one model is loaded at a time.

A ``ServiceLease`` row makes the service single-instance per database: a second service refuses to
start with a ``ServiceError`` naming the holder. The holder renews the lease from a heartbeat thread; a
lease whose holder stopped renewing is taken over after it expires (at once when the holder was a
process on this host that no longer exists). SIGTERM and SIGINT stop the service gracefully: no new
job starts, the batch in flight is finished and stored, the run is marked interrupted (resumed by the
next start), the lease is released and the process exits 0. A second signal stops at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from sqlalchemy.exc import IntegrityError

from monitor._logging import log_event
from monitor.alerts import AlertChannel, DeliveryPolicy, deliver_pending
from monitor.analysis import Embedder
from monitor.config import MonitorConfig, ScheduleConfig
from monitor.db import Alert, Database, Revision, ServiceLease, WatchedModel, utcnow
from monitor.errors import ConfigError, MonitorError, ServiceError
from monitor.hub import RevisionSource
from monitor.pipeline import (
    CycleObserver,
    CycleReport,
    PendingRun,
    PollResult,
    RunOutcome,
    model_config_for,
    pending_runs,
    poll_one,
    process_pending,
    run_cycle,
    run_pending,
    sync_watched_models,
)

__all__ = [
    "DEFAULT_PORT",
    "LEASE_NAME",
    "Service",
    "ServiceMetrics",
    "acquire_lease",
    "lease_owner",
    "poll_trigger",
    "release_lease",
    "renew_lease",
]

logger = logging.getLogger("monitor.service")

LEASE_NAME = "service"
DEFAULT_PORT = 8787
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# -- the lease ----------------------------------------------------------------------------------------


def lease_owner() -> str:
    """``host:pid:nonce``: who holds the lease, readable in the refusal message."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead(owner: str) -> bool:
    """True when ``owner`` names a process on this host that no longer exists (it was killed)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire_lease(db: Database, owner: str, *, ttl_s: float, now: dt.datetime | None = None) -> None:
    """Take the service lease, or raise ``ServiceError`` naming the live holder."""
    now = now or utcnow()
    expires = now + dt.timedelta(seconds=ttl_s)
    try:
        with db.session() as session:
            row = session.get(ServiceLease, LEASE_NAME, with_for_update=True)
            if row is None:
                session.add(ServiceLease(name=LEASE_NAME, owner=owner, acquired_at=now, expires_at=expires))
                return
            if row.owner != owner and row.expires_at > now and not _holder_is_dead(row.owner):
                raise ServiceError(
                    f"another drift-monitor service ({row.owner}) is running on this database (lease valid until "
                    f"{row.expires_at.isoformat(timespec='seconds')}); stop it first, or wait for its lease to "
                    "expire if it died"
                )
            taken = session.execute(
                sa.update(ServiceLease)
                .where(ServiceLease.name == LEASE_NAME, ServiceLease.owner == row.owner)
                .values(owner=owner, acquired_at=now, expires_at=expires)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise ServiceError("another drift-monitor service took the lease at the same moment; try again")
            if row.owner != owner:
                log_event(logger, "lease.taken_over", level=logging.WARNING, previous=row.owner)
    except IntegrityError:
        raise ServiceError("another drift-monitor service started at the same moment on this database") from None


def renew_lease(db: Database, owner: str, *, ttl_s: float) -> bool:
    """Extend the lease; False when somebody else holds it now (this service must stop)."""
    with db.session() as session:
        result = session.execute(
            sa.update(ServiceLease)
            .where(ServiceLease.name == LEASE_NAME, ServiceLease.owner == owner)
            .values(expires_at=utcnow() + dt.timedelta(seconds=ttl_s))
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


def release_lease(db: Database, owner: str) -> None:
    """Give the lease back (a clean stop), so the next service starts without waiting."""
    with db.session() as session:
        session.execute(sa.delete(ServiceLease).where(ServiceLease.name == LEASE_NAME, ServiceLease.owner == owner))


# -- metrics ------------------------------------------------------------------------------------------


class ServiceMetrics(CycleObserver):
    """Prometheus metrics of one service, in their own registry (served on ``/metrics``)."""

    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter("drift_monitor_polls", "Polls of watched models.", ["model", "outcome"], registry=r)
        self.poll_failures = Counter("drift_monitor_poll_failures", "Failed polls.", ["model"], registry=r)
        self.changes = Counter("drift_monitor_changes", "Changes found by polls.", ["model"], registry=r)
        self.run_duration = Histogram(
            "drift_monitor_run_duration_seconds",
            "Wall time of suite runs.",
            ["model", "suite", "status"],
            buckets=(5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, float("inf")),
            registry=r,
        )
        self.responses = Counter(
            "drift_monitor_responses_generated", "Responses generated and stored.", ["model"], registry=r
        )
        self.alerts_delivered = Counter(
            "drift_monitor_alerts_delivered", "Alert deliveries that succeeded.", ["channel"], registry=r
        )
        self.delivery_failures = Counter(
            "drift_monitor_alert_delivery_failures", "Alert delivery attempts that failed.", registry=r
        )
        self.alerts_pending = Gauge(
            "drift_monitor_alerts_pending", "Alerts not yet delivered to every channel.", registry=r
        )
        self.alerts_pending.set_function(lambda: _count_pending(db))
        self.last_cycle = Gauge(
            "drift_monitor_last_process_timestamp_seconds", "When the process job last finished.", registry=r
        )

    def polled(self, repo_id: str, result: PollResult) -> None:
        """Count a poll and its changes."""
        self.polls.labels(repo_id, "ok" if result.ok else "failed").inc()
        if not result.ok:
            self.poll_failures.labels(repo_id).inc()
        self.changes.labels(repo_id).inc(len(result.changes))

    def run_finished(self, repo_id: str, suite: str, outcome: RunOutcome) -> None:
        """Record a run's duration under its final status."""
        self.run_duration.labels(repo_id, suite, outcome.status).observe(outcome.elapsed_s)

    def responses_stored(self, repo_id: str, count: int) -> None:
        """Count stored responses."""
        self.responses.labels(repo_id).inc(count)


def _count_pending(db: Database) -> float:
    try:
        with db.session() as session:
            count = session.scalar(sa.select(sa.func.count()).select_from(Alert).where(Alert.status == "pending"))
        return float(count or 0)
    except Exception:  # a scrape must never fail because the database is briefly busy
        return float("nan")


# -- HTTP: /healthz, /metrics, the hub webhook --------------------------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log_event(logger, "http.request", level=logging.DEBUG, line=format % args)


def http_app(
    *, health: Callable[[], tuple[bool, dict[str, Any]]], metrics: WSGIApp, webhook: WSGIApp | None
) -> WSGIApp:
    """One WSGI app: ``/healthz`` (JSON, 503 when unhealthy), ``/metrics``, and the webhook under ``/webhook``."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            ok, document = health()
            body = json.dumps(document, default=str).encode()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if path == "/metrics":
            return metrics(environ, start_response)
        if webhook is not None and (path == "/webhook" or path.startswith("/webhook/")):
            return webhook(environ, start_response)
        body = b'{"error": "not found; try /healthz, /metrics or /webhook"}'
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


# -- triggers ------------------------------------------------------------------------------------------

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_weekdays(field: str) -> str:
    """Standard crontab weekdays (0 or 7 = Sunday) as names, since APScheduler 3 counts 0 as Monday."""
    items = []
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*" or not any(char.isdigit() for char in base):
            items.append(item)
            continue
        low, _, high = base.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ConfigError(f"cron weekday {item!r} is not understood; use 0-7 or names like mon-fri")
        start, end = int(low), int(high) if high else int(low)
        if not high and not step:
            items.append(_WEEKDAYS[start % 7])
            continue
        end = end if high else 7
        days = list(range(start, end + 1))[:: int(step) if step else 1]
        items.extend(_WEEKDAYS[day % 7] for day in days)
    return ",".join(dict.fromkeys(items))


def poll_trigger(schedule: ScheduleConfig) -> BaseTrigger:
    """The poll trigger of a schedule: its cron (standard crontab, UTC) or its interval, with jitter."""
    jitter = schedule.jitter_seconds or None
    if schedule.cron:
        minute, hour, day, month, weekday = schedule.cron.split()
        try:
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=_crontab_weekdays(weekday),
                timezone=dt.UTC,
                jitter=jitter,
            )
        except ValueError as exc:
            raise ConfigError(f"schedule.cron = {schedule.cron!r}: {exc}") from None
    return IntervalTrigger(minutes=schedule.interval_minutes or 60, timezone=dt.UTC, jitter=jitter)


# -- the service ---------------------------------------------------------------------------------------


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
    """The scheduler wiring around the pipeline; ``serve()`` blocks until stopped, ``once()`` does one cycle."""

    def __init__(
        self,
        db: Database,
        config: MonitorConfig,
        channels: Sequence[AlertChannel],
        *,
        data_dir: Path,
        options: ServiceOptions | None = None,
        webhook_factory: Callable[[Callable[[str], None]], WSGIApp] | None = None,
        source_factory: Callable[[WatchedModel], RevisionSource | None] | None = None,
    ) -> None:
        """``webhook_factory(trigger)`` builds the webhook app to mount; ``source_factory`` overrides sources."""
        self.db = db
        self.config = config
        self.channels = list(channels)
        self.data_dir = data_dir
        self.options = options or ServiceOptions()
        self.owner = lease_owner()
        self.metrics = ServiceMetrics(db)
        self.policy = DeliveryPolicy.from_config(config.alerts)
        self.stop_event = threading.Event()
        self._webhook_factory = webhook_factory
        self._source_factory = source_factory
        self._generation_lock = threading.Lock()
        self._poll_locks: dict[int, threading.Lock] = {}
        self._scheduler: BlockingScheduler | None = None
        self._http: WSGIServer | None = None
        self._lease_ok = False
        self._last_process: dt.datetime | None = None
        self._signals = 0
        self._running_jobs = 0
        self._jobs_idle = threading.Condition()
        self._failure: MonitorError | None = None
        self._starting = False
        self._last_errors: list[str] = []
        self._embedder = Embedder()  # loaded on first use, then kept for the life of the service
        self.port: int | None = None

    # -- entry points

    def once(self) -> CycleReport:
        """One full cycle under the lease (``serve --once``)."""
        acquire_lease(self.db, self.owner, ttl_s=self.options.lease_ttl_s)
        self._lease_ok = True
        heartbeat = self._start_heartbeat()
        previous = self._install_signal_handlers()
        try:
            log_event(logger, "cycle.started", owner=self.owner)
            report = run_cycle(
                self.db,
                self.config,
                data_dir=self.data_dir,
                channels=self.channels,
                policy=self.policy,
                stop=self.stop_event,
                observer=self.metrics,
                source_factory=self._source_factory,
                embedder=self._embedder,
            )
            log_event(logger, "cycle.finished", **_report_fields(report))
        finally:
            self.stop_event.set()
            heartbeat.join(timeout=5)
            _restore_signal_handlers(previous)
            if self._lease_ok:
                release_lease(self.db, self.owner)
        if self._failure is not None:
            raise self._failure
        return report

    def serve(self) -> None:
        """Run until SIGTERM/SIGINT (or a lost lease, which raises ``ServiceError``)."""
        self._starting = True
        acquire_lease(self.db, self.owner, ttl_s=self.options.lease_ttl_s)
        self._lease_ok = True
        heartbeat = self._start_heartbeat()
        previous = self._install_signal_handlers()
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
                channels=len(self.channels),
            )
            if not self.stop_event.is_set():
                self._scheduler.start()  # blocks until shutdown
            self._starting = False
            self._wait_for_jobs()
        finally:
            self._starting = False
            self.stop_event.set()
            if self._scheduler is not None and self._scheduler.running:
                self._scheduler.shutdown(wait=False)
            self._stop_http()
            heartbeat.join(timeout=5)
            _restore_signal_handlers(previous)
            if self._lease_ok:
                release_lease(self.db, self.owner)
            log_event(logger, "service.stopped", owner=self.owner)
        if self._failure is not None:
            raise self._failure

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
            self._job("poll", self._poll),
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

    # -- jobs

    def _build_scheduler(self, model_ids: Sequence[int]) -> BlockingScheduler:
        scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max(4, len(model_ids) + 3))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": self.options.misfire_grace_s},
            timezone=dt.UTC,
        )
        now = dt.datetime.now(dt.UTC)
        with self.db.session() as session:
            models = [session.get(WatchedModel, model_id) for model_id in model_ids]
            for model in models:
                assert model is not None
                model_config = model_config_for(model, self.config)
                # First poll at start; then on the model's own schedule.
                scheduler.add_job(
                    self._job("poll", self._poll),
                    poll_trigger(model_config.schedule),
                    args=[model.id, "schedule"],
                    id=f"poll:{model.id}",
                    name=f"poll {model.repo_id}",
                    next_run_time=now,
                )
                hours = model_config.schedule.rerun_interval_hours
                if hours:
                    scheduler.add_job(
                        self._job("rerun", self._rerun),
                        IntervalTrigger(hours=hours, timezone=dt.UTC),
                        args=[model.id],
                        id=f"rerun:{model.id}",
                        name=f"rerun {model.repo_id}",
                    )
        scheduler.add_job(
            self._job("process", self._process),
            IntervalTrigger(seconds=self.options.process_interval_s),
            id="process",
            name="process pending work",
            next_run_time=now,
        )
        scheduler.add_job(
            self._job("deliver", self._deliver),
            IntervalTrigger(seconds=self.options.delivery_interval_s),
            id="deliver",
            name="deliver alerts",
            next_run_time=now,
        )
        return scheduler

    def _job(self, name: str, function: Callable[..., None]) -> Callable[..., None]:
        """Wrap a job: skip when stopping, count it for the graceful stop, log its errors as one event."""

        def job(*args: Any) -> None:
            if self.stop_event.is_set():
                return
            with self._jobs_idle:
                self._running_jobs += 1
            try:
                function(*args)
            except MonitorError as exc:
                log_event(logger, "job.failed", level=logging.ERROR, job=name, error=str(exc))
            except Exception:
                logger.exception("job %s crashed", name)
            finally:
                with self._jobs_idle:
                    self._running_jobs -= 1
                    self._jobs_idle.notify_all()

        job.__name__ = f"{name}_job"
        return job

    def _wait_for_jobs(self) -> None:
        with self._jobs_idle:
            while self._running_jobs:
                self._jobs_idle.wait(timeout=1.0)

    def _wake(self, job_id: str) -> None:
        scheduler = self._scheduler
        if scheduler is None or self.stop_event.is_set():
            return
        with contextlib.suppress(Exception):  # the scheduler is shutting down, or the job is gone
            scheduler.modify_job(job_id, next_run_time=dt.datetime.now(dt.UTC))

    def _poll(self, model_id: int, trigger: str) -> None:
        lock = self._poll_locks.setdefault(model_id, threading.Lock())
        source = None
        if self._source_factory is not None:
            with self.db.session() as session:
                model = session.get(WatchedModel, model_id)
                if model is not None and model.source != "endpoint":
                    source = self._source_factory(model)
        with lock:
            result = poll_one(
                self.db, model_id, self.config, cache_dir=self.data_dir / "hub", trigger=trigger, source=source
            )
        self.metrics.polled(result.repo_id, result)
        if result.changes:
            self._wake("process")
        self._wake("deliver")

    def _process(self) -> None:
        with self._generation_lock:
            report = process_pending(
                self.db,
                self.config,
                data_dir=self.data_dir,
                stop=self.stop_event,
                observer=self.metrics,
                embedder=self._embedder,
            )
        self._last_process = utcnow()
        self.metrics.last_cycle.set(time.time())
        # Refused comparisons repeat every pass: report them when they change, not every few minutes.
        new_errors = report.errors != self._last_errors
        self._last_errors = list(report.errors)
        if report.runs_completed or report.runs_failed or report.analysed or report.comparisons or new_errors:
            log_event(logger, "process.finished", **_report_fields(report))
        if report.alerts_raised:
            self._wake("deliver")

    def _rerun(self, model_id: int) -> None:
        with self.db.session() as session:
            model = session.get(WatchedModel, model_id)
            if model is None or model.head_sha is None:
                return
            revision_id = session.scalar(
                sa.select(Revision.id).where(Revision.model_id == model_id, Revision.sha == model.head_sha)
            )
            model_config = model_config_for(model, self.config)
            repo_id, head = model.repo_id, model.head_sha
        if revision_id is None or pending_runs(self.db, model_id, self.config):
            return  # nothing to re-run yet, or first runs still owed: the process job comes first
        with self._generation_lock:
            for suite in model_config.suites:
                if self.stop_event.is_set():
                    return
                run_pending(
                    self.db,
                    self.config,
                    PendingRun(model_id, repo_id, revision_id, head, suite),
                    data_dir=self.data_dir,
                    stop=self.stop_event,
                    observer=self.metrics,
                    new=True,
                )
        self._wake("process")

    def _deliver(self) -> None:
        stats = deliver_pending(self.db, self.channels, policy=self.policy)
        for channel, count in stats.by_channel.items():
            self.metrics.alerts_delivered.labels(channel).inc(count)
        self.metrics.delivery_failures.inc(stats.failed)

    # -- heartbeat, HTTP, signals

    def _start_heartbeat(self) -> threading.Thread:
        interval = max(self.options.lease_ttl_s / 3, 0.5)

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
        try:
            server = make_server(
                self.options.host,
                self.options.port,
                app,
                server_class=_ThreadingWSGIServer,
                handler_class=_QuietHandler,
            )
        except OSError as exc:
            raise ServiceError(
                f"cannot listen on {self.options.host}:{self.options.port} ({exc.strerror or exc}); "
                "choose another port with --port"
            ) from None
        self._http = server
        self.port = int(server.server_address[1])
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, name="http", daemon=True).start()
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


def _report_fields(report: CycleReport) -> dict[str, Any]:
    fields = {name: value for name, value in vars(report).items() if value and name != "errors"}
    if report.errors:
        fields["errors"] = report.errors[:5]
    return fields
