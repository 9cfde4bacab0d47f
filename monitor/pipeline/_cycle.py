"""One full cycle of the monitor, as plain functions over the database.

sync the config's models → poll each (change alerts written in the poll's transaction) → run the suites
of revisions that lack a completed run → analyse what is unanalysed → compare each run revision with its
baseline → raise the alerts those rows call for → deliver the outbox.

Every step derives its work from the database ("what is missing?"), so ``serve --once``, the scheduled
service and a restart after a crash all do the same thing and none of them does anything twice. A stop
request (``stop`` event) is honoured between runs and between batches of a run: the batch in flight is
finished and stored, the run is marked ``interrupted``, and the next cycle resumes it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from monitor._logging import log_event
from monitor.alerts import (
    AlertChannel,
    DeliveryPolicy,
    change_alert,
    change_alert_key,
    deliver_pending,
    drift_alerts,
    poll_failure_alert,
    run_failed_alert,
    run_failed_key,
)
from monitor.analysis import Embedder
from monitor.config import MonitorConfig, WatchedModelConfig
from monitor.db import (
    Alert,
    ChangeEvent,
    Comparison,
    Database,
    ProbeSuite,
    Response,
    ResponseAnalysis,
    Revision,
    Run,
    WatchedModel,
    utcnow,
)
from monitor.engines import EngineSpec
from monitor.errors import MonitorError, ServiceError
from monitor.hub import BEHAVIOUR_KINDS, RevisionSource
from monitor.pipeline._analyze import analyze_pending
from monitor.pipeline._compare import compare_new_revisions
from monitor.pipeline._endpoint import check_endpoint, endpoint_spec
from monitor.pipeline._poll import ChangeRecord, PollResult, poll_model
from monitor.pipeline._run import RunOutcome, RunPlan, model_location, plan_run, run_suite
from monitor.probes import Suite, load_suite

__all__ = [
    "CycleObserver",
    "CycleReport",
    "PendingRun",
    "model_config_for",
    "pending_runs",
    "poll_one",
    "process_pending",
    "raise_pending_alerts",
    "run_cycle",
    "run_pending",
    "sync_watched_models",
]

logger = logging.getLogger("monitor.cycle")

# A revision is run when its change can alter behaviour, or when it is the first one seen (the baseline).
_RUN_KINDS = frozenset(
    BEHAVIOUR_KINDS | {"first_seen", "history_rewritten", "endpoint_changed", "fingerprint_rebaselined"}
)
# A failed run is retried (resumed) by a later cycle, but not before this long after it failed.
FAILED_RUN_RETRY_AFTER = dt.timedelta(hours=1)
INTERRUPTED = "interrupted"


@dataclass
class CycleReport:
    """What one cycle (or one step of it) did; the service turns it into metrics and log events."""

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

    def add(self, other: CycleReport) -> None:
        """Fold a step's report into this one."""
        for name, value in vars(other).items():
            if isinstance(value, bool):
                setattr(self, name, getattr(self, name) or value)
            elif isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
            elif isinstance(value, list):
                getattr(self, name).extend(value)
        self.alerts_pending = other.alerts_pending or self.alerts_pending


class CycleObserver:
    """Hooks the service uses for metrics; every method is a no-op here."""

    def polled(self, repo_id: str, result: PollResult) -> None:
        """A poll finished (ok or failed)."""

    def run_finished(self, repo_id: str, suite: str, outcome: RunOutcome) -> None:
        """A run finished: completed, failed or interrupted."""

    def responses_stored(self, repo_id: str, count: int) -> None:
        """A batch of responses was stored by the worker."""


@dataclass(frozen=True)
class PendingRun:
    """A (revision, suite) that has no completed run yet."""

    model_id: int
    repo_id: str
    revision_id: int
    revision_sha: str
    suite: str


def model_config_for(model: WatchedModel, config: MonitorConfig) -> WatchedModelConfig:
    """The config entry of a watched model; models added with ``watch add`` get the defaults."""
    for entry in config.models:
        if entry.repo == model.repo_id:
            return entry
    return WatchedModelConfig(repo=model.repo_id, ref=model.ref, source=model.source, expect=model.expected_identity)  # type: ignore[arg-type]


def sync_watched_models(db: Database, config: MonitorConfig) -> list[int]:
    """Make a ``WatchedModel`` row for every model in the config (updating ref, source, expectation).

    Models added with ``watch add`` and absent from the config stay watched with default settings.
    Returns the ids of the models to watch (status ``active``, ``gone`` and ``gated`` ones included:
    a repository that comes back is noticed by its next poll).
    """
    with db.session() as session:
        for entry in config.models:
            row = session.scalar(sa.select(WatchedModel).where(WatchedModel.repo_id == entry.repo))
            if row is None:
                row = WatchedModel(repo_id=entry.repo)
                session.add(row)
            row.ref, row.source, row.expected_identity = entry.ref, entry.source, entry.expect
            row.settings = entry.model_dump(mode="json")
        session.flush()
        return list(
            session.scalars(
                sa.select(WatchedModel.id).where(WatchedModel.status != "removed").order_by(WatchedModel.id)
            )
        )


def poll_one(
    db: Database,
    model_id: int,
    config: MonitorConfig,
    *,
    cache_dir: Path,
    trigger: str = "schedule",
    source: RevisionSource | None = None,
) -> PollResult:
    """Poll one model; its change alerts and its ``poll.failed`` alert are written in the poll's transaction.

    A model of source ``endpoint`` has no commits: its "poll" is a behavioural fingerprint
    (``check_endpoint``), reported in the same shape.
    """
    threshold = config.alerts.poll_failure_threshold
    with db.session() as session:
        model = session.get(WatchedModel, model_id)
        if model is None:
            raise ServiceError(f"watched model {model_id} disappeared from the database")
        session.expunge(model)

    def on_change(session: Any, row: WatchedModel, event: ChangeEvent) -> None:
        _alert_change(session, row, event)

    def on_failure(session: Any, row: WatchedModel, _poll: Any) -> None:
        _alert_poll_failure(session, row, threshold)

    if model.source == "endpoint":
        check = check_endpoint(
            db,
            model_id,
            endpoint_spec(model_config_for(model, config)),
            trigger=trigger,
            on_change=on_change,
            on_failure=on_failure,
        )
        changes: tuple[ChangeRecord, ...] = ()
        if check.kinds and check.sha is not None:
            silent = check.kinds == ("endpoint_changed",)
            changes = (
                ChangeRecord(
                    check.previous_sha, check.sha, check.kinds, silent, check.title or "", None, check.event_id
                ),
            )
        return PollResult(
            repo_id=model.repo_id,
            ref="endpoint",
            ok=check.ok,
            head=check.sha,
            error=check.error,
            changes=changes,
            requests=check.requests,
        )
    return poll_model(
        db, model, source, trigger=trigger, cache_dir=cache_dir, on_change=on_change, on_failure=on_failure
    )


def _alert_change(session: Any, row: WatchedModel, event: ChangeEvent) -> None:
    alert = change_alert(session, event, repo_id=row.repo_id)
    if alert is not None:
        log_event(logger, "alert.raised", kind=alert.kind, severity=alert.severity, model=row.repo_id, alert=alert.id)


def _alert_poll_failure(session: Any, row: WatchedModel, threshold: int) -> None:
    alert = poll_failure_alert(session, row, threshold=threshold)
    if alert is not None:
        log_event(logger, "alert.raised", kind=alert.kind, severity=alert.severity, model=row.repo_id, alert=alert.id)


# -- runs -------------------------------------------------------------------------------------------


def _suites(model_config: WatchedModelConfig) -> list[Suite]:
    return [load_suite(name) for name in model_config.suites]


def _plan(model_config: WatchedModelConfig, suite: Suite) -> RunPlan:
    return plan_run(suite, samples=model_config.samples, limit=model_config.limit, max_tokens=model_config.max_tokens)


def _revisions_to_run(session: Any, model: WatchedModel, model_config: WatchedModelConfig) -> list[Revision]:
    """Revisions whose change can alter behaviour, the first one seen, and the pinned baseline."""
    events = session.execute(
        sa.select(ChangeEvent.to_sha, ChangeEvent.kinds).where(ChangeEvent.model_id == model.id)
    ).all()
    wanted = {sha for sha, kinds in events if _RUN_KINDS & set(kinds or [])}
    revisions = list(
        session.scalars(sa.select(Revision).where(Revision.model_id == model.id).order_by(Revision.seq, Revision.id))
    )
    pinned = _pinned_revision(revisions, model_config)
    if pinned is not None:
        wanted.add(pinned.sha)
    if model.head_sha is not None and not wanted:
        wanted.add(model.head_sha)
    return [revision for revision in revisions if revision.sha in wanted]


def _pinned_revision(revisions: Sequence[Revision], model_config: WatchedModelConfig) -> Revision | None:
    if model_config.baseline.policy != "pinned" or not model_config.baseline.ref:
        return None
    ref = model_config.baseline.ref
    for revision in revisions:
        if revision.sha == ref or (len(ref) >= 7 and revision.sha.startswith(ref)) or ref in (revision.tags or []):
            return revision
    return None


def _latest_run(session: Any, model_id: int, revision_sha: str, suite: Suite, plan: RunPlan, engine: str) -> Run | None:
    return session.scalar(
        sa.select(Run)
        .join(ProbeSuite, ProbeSuite.id == Run.suite_id)
        .where(
            Run.model_id == model_id,
            Run.revision_sha == revision_sha,
            ProbeSuite.content_hash == suite.content_hash,
            Run.sampling_hash == plan.sampling_hash,
            Run.engine == engine,
        )
        .order_by(Run.id.desc())
        .limit(1)
    )


def pending_runs(
    db: Database, model_id: int, config: MonitorConfig, *, now: dt.datetime | None = None
) -> list[PendingRun]:
    """(revision, suite) pairs of one model with no completed run, oldest revision first.

    A run that failed less than ``FAILED_RUN_RETRY_AFTER`` ago is left alone (its ``run.failed`` alert
    is out); an interrupted or orphaned ``running`` run is pending (it resumes where it stopped).
    """
    now = now or utcnow()
    pending: list[PendingRun] = []
    with db.session() as session:
        model = session.get(WatchedModel, model_id)
        if model is None:
            return []
        model_config = model_config_for(model, config)
        suites = _suites(model_config)
        for revision in _revisions_to_run(session, model, model_config):
            for suite in suites:
                run = _latest_run(
                    session, model.id, revision.sha, suite, _plan(model_config, suite), model_config.engine.kind
                )
                if run is not None and run.status == "completed":
                    continue
                if run is not None and run.status == "failed":
                    finished = run.finished_at or run.created_at
                    if now - finished < FAILED_RUN_RETRY_AFTER:
                        continue
                pending.append(PendingRun(model.id, model.repo_id, revision.id, revision.sha, suite.name))
    return pending


def run_pending(
    db: Database,
    config: MonitorConfig,
    pending: PendingRun,
    *,
    data_dir: Path,
    stop: threading.Event | None = None,
    observer: CycleObserver | None = None,
    new: bool = False,
) -> RunOutcome | None:
    """Run (or resume) one pending run in the worker process; None when a stop came before it started.

    With a stop request the batch in flight is finished and stored, then the worker is stopped and the
    run is marked ``interrupted`` (the next cycle resumes it). ``new`` starts a fresh run of a revision
    that already has one (a scheduled re-run, for the noise floor).
    """
    stop = stop or threading.Event()
    observer = observer or CycleObserver()
    if stop.is_set():
        return None
    with db.session() as session:
        model = session.get(WatchedModel, pending.model_id)
        if model is None:
            raise ServiceError(f"watched model {pending.repo_id} disappeared from the database")
        session.expunge(model)
    model_config = model_config_for(model, config)
    suite = load_suite(pending.suite)
    plan = _plan(model_config, suite)
    options = {**model_config.engine.options, "batch_size": model_config.engine.batch_size}
    started: dict[str, int] = {}

    def on_start(run_id: int, missing: int, expected: int) -> None:
        started["run_id"] = run_id
        log_event(
            logger,
            "run.started",
            model=pending.repo_id,
            revision=pending.revision_sha[:12],
            suite=suite.name,
            run=run_id,
            missing=missing,
            expected=expected,
        )

    def on_progress(count: int) -> None:
        observer.responses_stored(pending.repo_id, count)
        if stop.is_set():
            # The batch just reported is stored; stop before the next one.
            raise ServiceError("stop requested")

    try:
        if model.source == "endpoint":
            # The served model is what it is: the "revision" is its fingerprint, nothing to download.
            engine = endpoint_spec(model_config)
        else:
            location = model_location(
                model.source,
                model.repo_id,
                pending.revision_sha,
                data_dir=data_dir,
                allow_pickle=bool(model_config.engine.options.get("allow_pickle", False)),
            )
            engine = EngineSpec(
                kind=model_config.engine.kind, model=str(location), revision=pending.revision_sha, options=options
            )
        outcome = run_suite(
            db,
            model_id=pending.model_id,
            revision_sha=pending.revision_sha,
            revision_id=pending.revision_id,
            plan=plan,
            engine=engine,
            timeout_s=model_config.engine.timeout_s,
            new=new,
            on_start=on_start,
            on_progress=on_progress,
        )
    except ServiceError:
        if not stop.is_set() or "run_id" not in started:
            raise
        outcome = _interrupted(db, started["run_id"])
    except MonitorError as exc:
        # The snapshot could not be fetched (or the engine spec was refused) before a run row existed.
        log_event(
            logger, "run.not_started", level=logging.WARNING, model=pending.repo_id, suite=suite.name, error=str(exc)
        )
        raise
    if outcome.status == "failed" and stop.is_set():
        # A stop signal that reached the worker too (Ctrl-C goes to the whole process group) is no failure.
        outcome = _interrupted(db, outcome.run_id)
    observer.run_finished(pending.repo_id, suite.name, outcome)
    log_event(
        logger,
        f"run.{outcome.status}",
        level=logging.WARNING if outcome.status == "failed" else logging.INFO,
        model=pending.repo_id,
        revision=pending.revision_sha[:12],
        suite=suite.name,
        run=outcome.run_id,
        generated=outcome.generated,
        expected=outcome.expected,
        seconds=round(outcome.elapsed_s, 1),
        error=outcome.error,
    )
    return outcome


def _interrupted(db: Database, run_id: int) -> RunOutcome:
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        run.status, run.error, run.finished_at = (
            INTERRUPTED,
            "service stopped; the run resumes on the next start",
            utcnow(),
        )
        return RunOutcome(run_id, INTERRUPTED, run.error, 0, run.expected_responses, 0.0, resumed=True)


def process_pending(
    db: Database,
    config: MonitorConfig,
    *,
    data_dir: Path,
    model_ids: Sequence[int] | None = None,
    stop: threading.Event | None = None,
    observer: CycleObserver | None = None,
    embedder: Embedder | None = None,
) -> CycleReport:
    """All pending work of the given models (all by default): runs, then analysis, comparisons, alerts.

    ``embedder`` lets a long-running caller keep the sentence-embedding model loaded between passes.
    """
    stop = stop or threading.Event()
    report = CycleReport()
    if model_ids is None:
        with db.session() as session:
            model_ids = list(session.scalars(sa.select(WatchedModel.id).order_by(WatchedModel.id)))
    for model_id in model_ids:
        for pending in pending_runs(db, model_id, config):
            if stop.is_set():
                report.stopped = True
                break
            try:
                outcome = run_pending(db, config, pending, data_dir=data_dir, stop=stop, observer=observer)
            except MonitorError as exc:
                report.errors.append(f"{pending.repo_id} {pending.suite} {pending.revision_sha[:12]}: {exc}")
                continue
            if outcome is None:
                report.stopped = True
                break
            report.responses += outcome.generated
            if outcome.status == "completed":
                report.runs_completed += 1
            elif outcome.status == INTERRUPTED:
                report.runs_interrupted += 1
                report.stopped = True
            else:
                report.runs_failed += 1
    if not stop.is_set():
        report.add(_analyse_and_compare(db, config, model_ids=model_ids, embedder=embedder))
    report.alerts_raised += raise_pending_alerts(db, config)
    return report


def _analyse_and_compare(
    db: Database, config: MonitorConfig, *, model_ids: Sequence[int], embedder: Embedder | None = None
) -> CycleReport:
    """Analyse unanalysed responses, then make the missing comparisons (each revision with its baseline)."""
    report = CycleReport()
    with db.session() as session:
        unanalysed = session.scalar(
            sa.select(sa.func.count())
            .select_from(Response)
            .where(~sa.exists().where(ResponseAnalysis.response_id == Response.id))
        )
        repos = list(session.scalars(sa.select(WatchedModel.repo_id).where(WatchedModel.id.in_(list(model_ids)))))
    if unanalysed:
        try:
            summary = analyze_pending(db, embedder=embedder)
        except MonitorError as exc:
            report.errors.append(f"analysis: {exc}")
            return report
        report.analysed = summary.analysed
        log_event(logger, "analysis.finished", analysed=summary.analysed, seconds=round(summary.seconds, 1))
    if not repos:
        return report
    outcomes, errors = compare_new_revisions(db, config=config, repo_ids=repos)
    for outcome in outcomes:
        if outcome.created:
            report.comparisons += 1
            log_event(
                logger,
                "comparison.stored",
                model=outcome.repo_id,
                baseline=outcome.baseline_sha[:12],
                candidate=outcome.candidate_sha[:12],
                drift=outcome.report.drift,
                severity=outcome.report.severity,
                comparison=outcome.comparison_id,
            )
    report.errors.extend(errors)
    return report


# -- alerts -----------------------------------------------------------------------------------------


def raise_pending_alerts(db: Database, config: MonitorConfig) -> int:
    """The alerts that recorded rows call for and that do not exist yet; returns how many were raised.

    Polls raise their alerts in their own transaction; this sweep covers the rest (failed runs, drifted
    comparisons) and any event recorded by a command that raised none (``drift-monitor check``). Dedup
    keys make it free to run every cycle.
    """
    raised = 0
    with db.session() as session:
        repos = dict(session.execute(sa.select(WatchedModel.id, WatchedModel.repo_id)).all())
        existing = set(session.scalars(sa.select(Alert.dedup_key)))
        for event in session.scalars(sa.select(ChangeEvent).order_by(ChangeEvent.id)):
            if change_alert_key(event) in existing:
                continue
            raised += _counted(change_alert(session, event, repo_id=repos.get(event.model_id, "?")))
        failed = session.execute(
            sa.select(Run, ProbeSuite.name)
            .join(ProbeSuite, ProbeSuite.id == Run.suite_id)
            .where(Run.status == "failed")
            .order_by(Run.id)
        ).all()
        for run, suite_name in failed:
            if run_failed_key(run) not in existing:
                raised += _counted(
                    run_failed_alert(session, run, repo_id=repos.get(run.model_id, "?"), suite=suite_name)
                )
        for comparison in session.scalars(
            sa.select(Comparison).where(Comparison.drift.is_(True)).order_by(Comparison.id)
        ):
            raised += len(drift_alerts(session, comparison, repo_id=repos.get(comparison.model_id or -1, "?")))
        threshold = config.alerts.poll_failure_threshold
        for model in session.scalars(
            sa.select(WatchedModel).where(WatchedModel.consecutive_poll_failures >= threshold)
        ):
            raised += _counted(poll_failure_alert(session, model, threshold=threshold))
    return raised


def _counted(alert: Alert | None) -> int:
    if alert is None:
        return 0
    log_event(logger, "alert.raised", kind=alert.kind, severity=alert.severity, alert=alert.id)
    return 1


# -- the whole cycle --------------------------------------------------------------------------------


def run_cycle(
    db: Database,
    config: MonitorConfig,
    *,
    data_dir: Path,
    channels: Sequence[AlertChannel],
    policy: DeliveryPolicy | None = None,
    stop: threading.Event | None = None,
    observer: CycleObserver | None = None,
    source_factory: Callable[[WatchedModel], RevisionSource | None] | None = None,
    embedder: Embedder | None = None,
) -> CycleReport:
    """One full cycle (what ``serve --once`` does): sync, poll every model, process, deliver.

    ``source_factory(model)`` may supply a ready source (a mirror with other retry settings, a test
    double); None, or no factory, opens the model's own source.
    """
    stop = stop or threading.Event()
    observer = observer or CycleObserver()
    report = CycleReport()
    alerts_before = _alert_count(db)
    model_ids = sync_watched_models(db, config)
    for model_id in model_ids:
        if stop.is_set():
            break
        with db.session() as session:
            model = session.get(WatchedModel, model_id)
            assert model is not None
            repo_id, source_kind = model.repo_id, model.source
            source = source_factory(model) if source_factory is not None and source_kind != "endpoint" else None
        result = poll_one(db, model_id, config, cache_dir=data_dir / "hub", trigger="once", source=source)
        observer.polled(repo_id, result)
        report.polls += 1
        report.poll_failures += 0 if result.ok else 1
        report.changes += len(result.changes)
    report.add(
        process_pending(
            db, config, data_dir=data_dir, model_ids=model_ids, stop=stop, observer=observer, embedder=embedder
        )
    )
    stats = deliver_pending(db, channels, policy=policy or DeliveryPolicy.from_config(config.alerts))
    report.delivered += stats.sent
    report.delivery_failures += stats.failed
    report.alerts_pending = stats.pending
    report.alerts_raised = _alert_count(db) - alerts_before  # in polls' transactions and in the sweep
    report.stopped = report.stopped or stop.is_set()
    return report


def _alert_count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Alert)) or 0)
