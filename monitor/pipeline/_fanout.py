"""Many runs at once through the configured executor: the run step when ``[executor] kind = "ray"``.

Every owed run is opened (or resumed) first, then all of them go to the executor together, so runs of
several models and revisions are in flight at once, as many as the cluster holds. Each run's status is
then settled here, in the service, from what the database holds: completed only when every response is
stored, failed with the executor's error otherwise (``alert_step`` raises its ``run.failed``), or
interrupted when the service was asked to stop (the next pass resumes it). The model's files are not
touched here: each task resolves them on its own node.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from monitor._logging import log_event
from monitor.db import Response, Run, RunClaim, RunStatus, WatchedModel, claim_run, utcnow
from monitor.errors import RunClaimedError
from monitor.executors import JobOutcome, ModelRef, RunJob
from monitor.pipeline._context import CycleContext
from monitor.pipeline._faults import fault_text
from monitor.pipeline._pending import PendingRun, _key_spec, _plan
from monitor.pipeline._run import RunOutcome, open_run
from monitor.pipeline._watched import model_config_for
from monitor.probes import load_suite

__all__ = ["run_many"]

logger = logging.getLogger("monitor.cycle")

_INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class _Opened:
    pending: PendingRun
    job: RunJob
    expected: int
    resumed: bool
    started: float


def run_many(ctx: CycleContext, owed: Sequence[PendingRun]) -> list[RunOutcome]:
    """Open every owed run, hand them all to the executor at once, and settle each as it finishes."""
    outcomes: list[RunOutcome] = []
    opened: dict[int, _Opened] = {}
    claims: dict[int, RunClaim] = {}
    for pending in owed:
        try:
            result = _open(ctx, pending)
        except Exception as exc:  # an unknown suite, the model row gone: this run's fault, not the pass's
            error = fault_text(exc, logger, f"run of {pending.repo_id} {pending.suite}")
            log_event(logger, "run.not_started", level=logging.WARNING, model=pending.repo_id, error=error)
            continue
        if isinstance(result, RunOutcome):
            outcomes.append(result)
            continue
        claim = _claim(ctx, result)
        if claim is not None:
            claims[result.job.run_id] = claim
            opened[result.job.run_id] = result
    if not opened:
        return outcomes

    def progress(job: RunJob, count: int) -> None:
        ctx.observer.responses_stored(job.repo_id, count)

    executor = ctx.run_executor()
    try:
        for finished in executor.execute([entry.job for entry in opened.values()], stop=ctx.stop, on_progress=progress):
            outcomes.append(_settle(ctx, opened.pop(finished.run_id), finished))
            claims.pop(finished.run_id).release()
    except Exception as exc:  # the cluster went away: every run still open fails with that one line
        error = fault_text(exc, logger, "executor")
        for entry in list(opened.values()):
            outcomes.append(_settle(ctx, entry, JobOutcome(entry.job.run_id, 0, error)))
        opened.clear()
    finally:
        for claim in claims.values():
            claim.release()
    return outcomes


def _claim(ctx: CycleContext, entry: _Opened) -> RunClaim | None:
    """The run's claim, the one the local executor holds around its worker (None: a live process has it).

    This service supervises the run's tasks while it holds the claim; its shards have claims of their
    own (``monitor.executors``), held by the tasks. Heartbeat and staleness follow ``[executor]``.
    """
    settings = ctx.config.executor
    try:
        claim = claim_run(ctx.db, entry.job.run_id, ttl_s=settings.stale_after_s, beat_every_s=settings.heartbeat_s)
    except RunClaimedError as exc:
        log_event(logger, "run.claimed_elsewhere", model=entry.pending.repo_id, run=entry.job.run_id, error=str(exc))
        return None
    return claim.__enter__()


def _open(ctx: CycleContext, pending: PendingRun) -> _Opened | RunOutcome:
    with ctx.db.session() as session:
        model = session.get(WatchedModel, pending.model_id)
        if model is None:
            raise LookupError(f"watched model {pending.repo_id} disappeared from the database")
        model_config = model_config_for(model, ctx.config)
        suite = load_suite(pending.suite)
        plan = _plan(model_config, suite, pending.seed)
        spec = _key_spec(model, model_config, pending.revision_sha)
        run, created = open_run(
            session,
            model_id=pending.model_id,
            revision_sha=pending.revision_sha,
            revision_id=pending.revision_id,
            plan=plan,
            engine=spec,
            seed=pending.seed,
            new=pending.new,
        )
        if run.status == "completed":
            return RunOutcome(run.id, "completed", None, 0, run.expected_responses, 0.0, resumed=True)
        now = utcnow()
        run.status, run.error, run.started_at, run.heartbeat_at, run.finished_at = "running", None, now, now, None
        source = model.source
        allow_pickle = bool(model_config.engine.options.get("allow_pickle", False))
        job = RunJob(
            run_id=run.id,
            repo_id=model.repo_id,
            model=ModelRef(source, model.repo_id, pending.revision_sha, allow_pickle=allow_pickle),
            spec=spec,
            items=plan.items,
            timeout_s=model_config.engine.timeout_s if source != "endpoint" else None,
        )
        log_event(
            logger,
            "run.started",
            model=pending.repo_id,
            revision=pending.revision_sha[:12],
            suite=suite.name,
            run=run.id,
            seed=pending.seed,
            expected=len(plan.items),
            executor=ctx.config.executor.kind,
        )
        return _Opened(pending, job, len(plan.items), not created, time.monotonic())


def _settle(ctx: CycleContext, entry: _Opened, finished: JobOutcome) -> RunOutcome:
    """The run's final status from what is stored, written once, observed and logged."""
    with ctx.db.session() as session:
        stored = session.scalar(
            sa.select(sa.func.count()).select_from(Response).where(Response.run_id == entry.job.run_id)
        )
        run = session.get(Run, entry.job.run_id)
        error = finished.error
        status: RunStatus
        if error is None and (stored or 0) < entry.expected:
            error = f"only {stored} of {entry.expected} responses were stored; the run resumes on its next retry"
        if error is None:
            status = "completed"
        elif error.startswith(_INTERRUPTED) or ctx.stop.is_set():
            status, error = "interrupted", "service stopped; the run resumes on the next start"
        else:
            status = "failed"
        if run is not None:
            run.status, run.error, run.finished_at = status, error, utcnow()
    outcome = RunOutcome(
        entry.job.run_id,
        status,
        error,
        finished.generated,
        entry.expected,
        time.monotonic() - entry.started,
        entry.resumed,
    )
    ctx.observer.run_finished(entry.pending.repo_id, entry.pending.suite, outcome)
    log_event(
        logger,
        f"run.{status}",
        level=logging.WARNING if status == "failed" else logging.INFO,
        model=entry.pending.repo_id,
        revision=entry.pending.revision_sha[:12],
        suite=entry.pending.suite,
        run=entry.job.run_id,
        generated=finished.generated,
        expected=entry.expected,
        seconds=round(outcome.elapsed_s, 1),
        error=error,
    )
    return outcome
