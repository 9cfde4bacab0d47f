"""Which runs a watched model owes, and running one of them: the rules behind the run and rerun steps.

A revision is run when its change can alter behaviour, when it is the first one seen (the baseline),
or when it is the pinned baseline. Its first run uses seed 0; a scheduled re-run draws a seed no run
of that revision and suite used yet and is kept as its own run, so the comparison sees two samples of
one revision and measures the noise floor. Whatever a run raises for its model is written to its run
row (a failed run, retried after ``FAILED_RUN_RETRY_AFTER`` and alerted by the sweep).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor._logging import log_event
from monitor.config import MonitorConfig, WatchedModelConfig
from monitor.db import ChangeEvent, Database, Revision, Run, RunStatus, WatchedModel, utcnow
from monitor.engines import EngineSpec
from monitor.errors import ServiceError
from monitor.hub import BEHAVIOUR_KINDS
from monitor.pipeline._context import CycleContext
from monitor.pipeline._endpoint import endpoint_spec
from monitor.pipeline._faults import fault_text
from monitor.pipeline._resolve import model_location
from monitor.pipeline._run import (
    RunOutcome,
    RunPlan,
    engine_spec,
    ensure_suite,
    find_run,
    plan_run,
    record_unstarted,
    run_suite,
)
from monitor.pipeline._watched import model_config_for
from monitor.probes import Suite, load_suite

__all__ = [
    "FAILED_RUN_RETRY_AFTER",
    "PendingRun",
    "fresh_seed",
    "pending_runs",
    "run_pending",
]

logger = logging.getLogger("monitor.cycle")

# A revision is run when its change can alter behaviour, or when it is the first one seen (the baseline).
_RUN_KINDS = frozenset(
    BEHAVIOUR_KINDS | {"first_seen", "history_rewritten", "endpoint_changed", "fingerprint_rebaselined"}
)
#: A failed run is retried (resumed) by a later pass, but not before this long after it failed.
FAILED_RUN_RETRY_AFTER = dt.timedelta(hours=1)
_FIRST_SEED = 0
_INTERRUPTED: RunStatus = "interrupted"
_STOPPED = "service stopped; the run resumes on the next start"


@dataclass(frozen=True)
class PendingRun:
    """A (revision, suite) to run: a first run (seed 0) that is missing, or a re-run with its fresh seed."""

    model_id: int
    repo_id: str
    revision_id: int
    revision_sha: str
    suite: str
    seed: int = _FIRST_SEED
    new: bool = False


def _plan(model_config: WatchedModelConfig, suite: Suite, seed: int) -> RunPlan:
    return plan_run(
        suite, samples=model_config.samples, limit=model_config.limit, max_tokens=model_config.max_tokens, seed=seed
    )


def _key_spec(model: WatchedModel, model_config: WatchedModelConfig, sha: str) -> EngineSpec:
    """The engine spec as far as a run's key needs it (kind and options; no download)."""
    if model.source == "endpoint":
        return endpoint_spec(model_config)
    engine = model_config.engine
    return engine_spec(engine.kind, model.repo_id, sha, options=engine.options, batch_size=engine.batch_size)


def _revisions_to_run(session: Session, model: WatchedModel, model_config: WatchedModelConfig) -> list[Revision]:
    """Revisions whose change can alter behaviour, the first one seen, and the pinned baseline."""
    events = session.execute(
        sa.select(ChangeEvent.to_sha, ChangeEvent.kinds).where(ChangeEvent.model_id == model.id)
    ).all()
    wanted = {sha for sha, kinds in events if _RUN_KINDS & set(kinds or [])}
    revisions = list(
        session.scalars(sa.select(Revision).where(Revision.model_id == model.id).order_by(Revision.seq, Revision.id))
    )
    if model_config.baseline.policy == "pinned" and model_config.baseline.ref:
        from monitor.pipeline._compare import pinned_revision  # the drift statistics: not on the poll path

        pinned = pinned_revision(revisions, model_config.baseline.ref)
        if pinned is not None:
            wanted.add(pinned.sha)
    if model.head_sha is not None and not wanted:
        wanted.add(model.head_sha)
    return [revision for revision in revisions if revision.sha in wanted]


def pending_runs(
    db: Database, model_id: int, config: MonitorConfig, *, now: dt.datetime | None = None
) -> list[PendingRun]:
    """(revision, suite) pairs of one model whose first run is not completed, oldest revision first.

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
        suites = [load_suite(name) for name in model_config.suites]
        for revision in _revisions_to_run(session, model, model_config):
            for suite in suites:
                run = find_run(
                    session,
                    model_id=model.id,
                    revision_sha=revision.sha,
                    suite_id=ensure_suite(session, suite).id,
                    engine=_key_spec(model, model_config, revision.sha),
                    plan=_plan(model_config, suite, _FIRST_SEED),
                    seed=_FIRST_SEED,
                )
                if run is not None and run.status == "completed":
                    continue
                if run is not None and run.status == "failed" and now - (run.finished_at or run.created_at) < (
                    FAILED_RUN_RETRY_AFTER
                ):
                    continue
                pending.append(PendingRun(model.id, model.repo_id, revision.id, revision.sha, suite.name))
    return pending


def fresh_seed(db: Database, model_id: int, revision_sha: str, *, rng: random.Random | None = None) -> int:
    """A seed no run of this revision used yet: a re-run with it draws new samples (new evidence)."""
    with db.session() as session:
        query = sa.select(Run.seed).where(Run.model_id == model_id, Run.revision_sha == revision_sha)
        used = set(session.scalars(query))
    draw = rng or random.SystemRandom()
    while True:
        seed = draw.randrange(1, 2**31 - 1)
        if seed not in used:
            return seed


def run_pending(ctx: CycleContext, pending: PendingRun) -> RunOutcome | None:
    """Run (or resume) one pending run in the worker process; None when a stop came before it started.

    With a stop request the batch in flight is finished and stored, then the worker is stopped and the
    run is marked ``interrupted`` (the next pass resumes it). Whatever fails before the worker starts
    (the snapshot download, the engine spec) is recorded as a failed run of this key; whatever fails
    after, as the failure of the started run.
    """
    if ctx.stop.is_set():
        return None
    with ctx.db.session() as session:
        model = session.get(WatchedModel, pending.model_id)
        if model is None:
            raise ServiceError(f"watched model {pending.repo_id} disappeared from the database")
        session.expunge(model)
    attempt = _Attempt(ctx, pending, model)
    try:
        engine = _engine(ctx, model, attempt.model_config, pending.revision_sha)
    except Exception as exc:
        error = fault_text(exc, logger, f"run of {pending.repo_id} {pending.suite}")
        log_event(
            logger, "run.not_started", level=logging.WARNING, model=pending.repo_id, suite=pending.suite, error=error
        )
        outcome = attempt.unstarted(_key_spec(model, attempt.model_config, pending.revision_sha), error)
    else:
        outcome = attempt.generate(engine)
    return attempt.finished(outcome)


class _Attempt:
    """One attempt at a pending run: its plan, the worker's callbacks, and how it ends."""

    def __init__(self, ctx: CycleContext, pending: PendingRun, model: WatchedModel) -> None:
        self.ctx, self.pending = ctx, pending
        self.model_config = model_config_for(model, ctx.config)
        self.plan = _plan(self.model_config, load_suite(pending.suite), pending.seed)
        self.run_id: int | None = None

    def unstarted(self, spec: EngineSpec, error: str) -> RunOutcome:
        pending = self.pending
        return record_unstarted(
            self.ctx.db,
            model_id=pending.model_id,
            revision_sha=pending.revision_sha,
            revision_id=pending.revision_id,
            plan=self.plan,
            engine=spec,
            seed=pending.seed,
            error=error,
            new=pending.new,
        )

    def generate(self, engine: EngineSpec) -> RunOutcome:
        pending, ctx = self.pending, self.ctx
        try:
            return run_suite(
                ctx.db,
                model_id=pending.model_id,
                revision_sha=pending.revision_sha,
                revision_id=pending.revision_id,
                plan=self.plan,
                engine=engine,
                seed=pending.seed,
                new=pending.new,
                timeout_s=self.model_config.engine.timeout_s,
                on_start=self._on_start,
                on_progress=self._on_progress,
            )
        except ServiceError:
            if not ctx.stop.is_set() or self.run_id is None:
                raise
            return _mark(ctx.db, self.run_id, _INTERRUPTED, _STOPPED)
        except Exception as exc:
            error = fault_text(exc, logger, f"run of {pending.repo_id} {pending.suite}")
            return self.unstarted(engine, error) if self.run_id is None else _mark(ctx.db, self.run_id, "failed", error)

    def finished(self, outcome: RunOutcome) -> RunOutcome:
        pending, ctx = self.pending, self.ctx
        if outcome.status == "failed" and ctx.stop.is_set() and self.run_id is not None:
            # A stop signal that reached the worker too (Ctrl-C goes to the whole process group) is no failure.
            outcome = _mark(ctx.db, outcome.run_id, _INTERRUPTED, _STOPPED)
        ctx.observer.run_finished(pending.repo_id, pending.suite, outcome)
        log_event(
            logger,
            f"run.{outcome.status}",
            level=logging.WARNING if outcome.status == "failed" else logging.INFO,
            model=pending.repo_id,
            revision=pending.revision_sha[:12],
            suite=pending.suite,
            run=outcome.run_id,
            generated=outcome.generated,
            expected=outcome.expected,
            seconds=round(outcome.elapsed_s, 1),
            error=outcome.error,
        )
        return outcome

    def _on_start(self, run_id: int, missing: int, expected: int) -> None:
        self.run_id = run_id
        pending = self.pending
        log_event(
            logger,
            "run.started",
            model=pending.repo_id,
            revision=pending.revision_sha[:12],
            suite=pending.suite,
            run=run_id,
            seed=pending.seed,
            missing=missing,
            expected=expected,
        )

    def _on_progress(self, count: int) -> None:
        self.ctx.observer.responses_stored(self.pending.repo_id, count)
        if self.ctx.stop.is_set():
            raise ServiceError("stop requested")  # the batch just reported is stored; stop before the next


def _engine(ctx: CycleContext, model: WatchedModel, model_config: WatchedModelConfig, sha: str) -> EngineSpec:
    """The engine spec of a run: an endpoint is what it serves; a Hub or git revision is fetched first."""
    if model.source == "endpoint":
        return endpoint_spec(model_config)
    engine = model_config.engine
    location = model_location(
        model.source,
        model.repo_id,
        sha,
        data_dir=ctx.data_dir,
        allow_pickle=bool(engine.options.get("allow_pickle", False)),
    )
    return engine_spec(engine.kind, str(location), sha, options=engine.options, batch_size=engine.batch_size)


def _mark(db: Database, run_id: int, status: RunStatus, error: str) -> RunOutcome:
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise ServiceError(f"run {run_id} disappeared from the database")
        run.status, run.error, run.finished_at = status, error, utcnow()
        stored = run.expected_responses
        return RunOutcome(run_id, status, error, 0, stored, 0.0, resumed=True)
