"""The steps of the cycle, each ``step(ctx, model_ids) -> CycleReport``, and the cycle as those steps in order.

====================  ==================================================  =============================
step                  reads                                               writes
====================  ==================================================  =============================
``poll_step``         the model's head; its source (Hub, git, endpoint)   Poll, Revision, ChangeEvent,
                                                                          hub.* and poll.failed alerts
``run_step``          revisions owed a first run (``pending_runs``)       Run, Response (worker)
``analyse_step``      responses lacking analysis, label or embedding      ResponseAnalysis, Label,
                                                                          Embedding
``compare_step``      completed runs of each revision and its baseline    Comparison
``alert_step``        failed runs, drifted comparisons, poll streaks      Alert (outbox)
``deliver_step``      the outbox                                          AlertDelivery
``rerun_step``        the head of a model with ``rerun_interval_hours``   Run (fresh seed), Response
====================  ==================================================  =============================

A step never raises for one model's fault: a poll that fails is a failed ``Poll`` row (counted, and
alerted at the threshold), a run that fails is a failed ``Run`` row (alerted by ``alert_step``), and
anything a step cannot attribute to a row is one line in ``report.errors``. The pass goes on with
the other models and the later steps, so alerts are always raised and delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from monitor._logging import log_event
from monitor.db import Revision, WatchedModel
from monitor.pipeline._alerting import alert_callbacks, raise_pending_alerts
from monitor.pipeline._context import CycleContext, CycleReport
from monitor.pipeline._faults import fault_text
from monitor.pipeline._sources import poll_one
from monitor.pipeline._watched import model_config_for, sync_watched_models

if TYPE_CHECKING:
    from monitor.pipeline._pending import PendingRun

__all__ = [
    "PROCESS_STEPS",
    "Step",
    "alert_step",
    "analyse_step",
    "compare_step",
    "deliver_step",
    "poll_step",
    "process_pending",
    "rerun_step",
    "run_cycle",
    "run_step",
]

logger = logging.getLogger("monitor.cycle")

Step = Callable[[CycleContext, Sequence[int] | None], CycleReport]
"""``step(ctx, model_ids)``: one step over the given models (None: every watched model)."""


def _model_ids(ctx: CycleContext, model_ids: Sequence[int] | None) -> list[int]:
    if model_ids is not None:
        return list(model_ids)
    with ctx.db.session() as session:
        return list(session.scalars(sa.select(WatchedModel.id).order_by(WatchedModel.id)))


def poll_step(ctx: CycleContext, model_ids: Sequence[int] | None = None, *, trigger: str = "schedule") -> CycleReport:
    """Poll each model once (Hub, git and endpoint models alike); its alerts are written with the poll."""
    report = CycleReport()

    def counted(raised: int) -> None:
        report.alerts_raised += raised

    callbacks = alert_callbacks(poll_failure_threshold=ctx.config.alerts.poll_failure_threshold, on_raised=counted)
    for model_id in _model_ids(ctx, model_ids):
        if ctx.stop.is_set():
            report.stopped = True
            break
        try:
            result = poll_one(ctx, model_id, trigger=trigger, callbacks=callbacks)
        except Exception as exc:  # the poll could not even record itself (the model vanished, the database)
            report.errors.append(f"poll of model {model_id}: {fault_text(exc, logger, f'poll of model {model_id}')}")
            continue
        ctx.observer.polled(result.repo_id, result)
        report.polled.append(result)
        report.polls += 1
        report.poll_failures += 0 if result.ok else 1
        report.changes += len(result.changes)
    return report


def run_step(ctx: CycleContext, model_ids: Sequence[int] | None = None) -> CycleReport:
    """Run (or resume) every first run the models owe, oldest revision first; stop between runs.

    With a cluster executor (``[executor] kind = "ray"``) every owed run of every model is handed over at
    once and runs side by side; locally they run one after another.
    """
    from monitor.pipeline._pending import pending_runs  # the run machinery (engines, suites): not on the poll path

    report = CycleReport()
    fan_out = ctx.config.executor.kind != "local"
    gathered: list[PendingRun] = []
    for model_id in _model_ids(ctx, model_ids):
        try:
            owed = pending_runs(ctx.db, model_id, ctx.config)
        except Exception as exc:  # an unknown or invalid suite in the model's config, say
            report.errors.append(f"runs of model {model_id}: {fault_text(exc, logger, f'runs of model {model_id}')}")
            continue
        if fan_out:
            gathered.extend(owed)
            continue
        for pending in owed:
            if not _run_one(ctx, pending, report):
                return report
    if gathered:
        _run_together(ctx, gathered, report)
    return report


def _run_together(ctx: CycleContext, owed: Sequence[PendingRun], report: CycleReport) -> bool:
    """Hand ``owed`` to the cluster executor at once and count the outcomes; False after a stop."""
    from monitor.pipeline._fanout import run_many

    if ctx.stop.is_set():
        report.stopped = True
        return False
    for outcome in run_many(ctx, owed):
        report.responses += outcome.generated
        if outcome.status == "completed":
            report.runs_completed += 1
        elif outcome.status == "interrupted":
            report.runs_interrupted += 1
            report.stopped = True
        else:
            report.runs_failed += 1
    return not report.stopped


def _run_one(ctx: CycleContext, pending: PendingRun, report: CycleReport) -> bool:
    """Run one pending run into ``report``; False when the pass must stop (a stop request)."""
    from monitor.pipeline._pending import run_pending

    if ctx.stop.is_set():
        report.stopped = True
        return False
    if ctx.config.executor.kind != "local":
        return _run_together(ctx, [pending], report)
    try:
        outcome = run_pending(ctx, pending)
    except Exception as exc:  # not attributable to a run row (the model row vanished)
        what = f"{pending.repo_id} {pending.suite} {pending.revision_sha[:12]}"
        report.errors.append(f"{what}: {fault_text(exc, logger, what)}")
        return True
    if outcome is None:
        report.stopped = True
        return False
    report.responses += outcome.generated
    if outcome.status == "completed":
        report.runs_completed += 1
    elif outcome.status == "interrupted":
        report.runs_interrupted += 1
        report.stopped = True
        return False
    else:
        report.runs_failed += 1
    return True


def analyse_step(ctx: CycleContext, model_ids: Sequence[int] | None = None) -> CycleReport:
    """Analyse every response that lacks its analysis, label or embedding (skipped once a stop is asked)."""
    from monitor.pipeline._analyse import analyse_pending

    report = CycleReport()
    if ctx.stop.is_set():
        return report
    try:
        summary = analyse_pending(ctx.db, embedder=ctx.embedder)
    except Exception as exc:
        report.errors.append(f"analysis: {fault_text(exc, logger, 'analysis')}")
        return report
    report.analysed = summary.analysed
    if summary.pending:
        log_event(logger, "analysis.finished", analysed=summary.analysed, seconds=round(summary.seconds, 1))
    return report


def compare_step(ctx: CycleContext, model_ids: Sequence[int] | None = None) -> CycleReport:
    """Make the missing comparisons: each run revision with its baseline, by the model's policy."""
    from monitor.pipeline._compare import compare_new_revisions

    report = CycleReport()
    if ctx.stop.is_set():
        return report
    with ctx.db.session() as session:
        ids = _model_ids(ctx, model_ids)
        repos = list(session.scalars(sa.select(WatchedModel.repo_id).where(WatchedModel.id.in_(ids))))
    if not repos:
        return report
    outcomes, errors = compare_new_revisions(ctx.db, config=ctx.config, repo_ids=repos)
    for outcome in outcomes:
        if not outcome.created:
            continue
        report.comparisons += 1
        log_event(
            logger,
            "comparison.stored",
            model=outcome.repo_id,
            baseline=outcome.baseline_sha[:12],
            candidate=outcome.candidate_sha[:12],
            drift=outcome.report.drift,
            severity=outcome.report.severity,
            noise_floor=outcome.report.noise_floor is not None,
            comparison=outcome.comparison_id,
        )
    report.errors.extend(errors)
    return report


def alert_step(ctx: CycleContext, model_ids: Sequence[int] | None = None) -> CycleReport:
    """Raise the alerts recorded rows call for (failed runs, drift, poll streaks, events without one)."""
    report = CycleReport()
    try:
        report.alerts_raised = raise_pending_alerts(
            ctx.db, poll_failure_threshold=ctx.config.alerts.poll_failure_threshold
        )
    except Exception as exc:
        report.errors.append(f"alerts: {fault_text(exc, logger, 'alerts')}")
    return report


def deliver_step(ctx: CycleContext, model_ids: Sequence[int] | None = None) -> CycleReport:
    """Deliver the outbox to every channel, with per-channel retries and back-off."""
    from monitor.alerts import DeliveryPolicy, deliver_pending

    report = CycleReport()
    policy = ctx.policy or DeliveryPolicy.from_config(ctx.config.alerts)
    try:
        stats = deliver_pending(ctx.db, ctx.channels, policy=policy)
    except Exception as exc:
        report.errors.append(f"delivery: {fault_text(exc, logger, 'delivery')}")
        return report
    ctx.observer.delivered(stats)
    report.delivered, report.delivery_failures, report.alerts_pending = stats.sent, stats.failed, stats.pending
    return report


def rerun_step(ctx: CycleContext, model_ids: Sequence[int] | None = None) -> CycleReport:
    """Re-run each model's head with a fresh seed, kept as its own run: the noise floor's second sample.

    A model whose first runs are still owed is skipped (``run_step`` comes first); so is one with no head.
    """
    from monitor.pipeline._pending import PendingRun, fresh_seed, pending_runs

    report = CycleReport()
    for model_id in _model_ids(ctx, model_ids):
        with ctx.db.session() as session:
            model = session.get(WatchedModel, model_id)
            if model is None or model.head_sha is None:
                continue
            revision_id = session.scalar(
                sa.select(Revision.id).where(Revision.model_id == model_id, Revision.sha == model.head_sha)
            )
            suites, repo_id, head = model_config_for(model, ctx.config).suites, model.repo_id, model.head_sha
        if revision_id is None or pending_runs(ctx.db, model_id, ctx.config):
            continue
        for suite in suites:
            seed = fresh_seed(ctx.db, model_id, head)
            if not _run_one(ctx, PendingRun(model_id, repo_id, revision_id, head, suite, seed=seed, new=True), report):
                return report
    return report


#: The service's ``process`` job: everything after a poll that needs no network but the model's.
PROCESS_STEPS: tuple[Step, ...] = (run_step, analyse_step, compare_step, alert_step)


def process_pending(ctx: CycleContext, model_ids: Sequence[int] | None = None) -> CycleReport:
    """The pending work of the given models (all by default): runs, analysis, comparisons, alerts."""
    report = CycleReport()
    for step in PROCESS_STEPS:
        report.add(step(ctx, model_ids))
    return report


def run_cycle(ctx: CycleContext, *, trigger: str = "once") -> CycleReport:
    """One full cycle (``serve --once``, the demo): sync, poll every model, process, deliver."""
    model_ids = sync_watched_models(ctx.db, ctx.config)
    report = poll_step(ctx, model_ids, trigger=trigger)
    report.add(process_pending(ctx, model_ids))
    report.add(deliver_step(ctx, model_ids))
    report.stopped = report.stopped or ctx.stop.is_set()
    return report
