"""The run step: turn (model revision, suite, engine) into stored responses, resumably.

A run is keyed by what determines its outputs (model, revision, suite content, engine kind and
options, sampling, seed). Asking for a run that exists resumes it: only the (probe, sample) pairs with no
stored response are generated, so a killed or failed run is finished by running it again, without
duplicates and without losing what was stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.db import Database, ProbeSuite, Response, Run, RunStatus, WatchedModel, claim_run, utcnow
from monitor.engines import EngineSpec, GenerationRequest, request_seed
from monitor.engines._worker import WorkItem, run_worker
from monitor.executors._protocol import ModelRef, RunJob
from monitor.probes import Suite, SuiteSampling

if TYPE_CHECKING:
    from monitor.executors import Executor

__all__ = [
    "RunOutcome",
    "RunPlan",
    "engine_spec",
    "ensure_suite",
    "ensure_watched_model",
    "find_run",
    "open_run",
    "plan_run",
    "record_unstarted",
    "run_options_key",
    "run_suite",
]


@dataclass(frozen=True)
class RunPlan:
    """What a run will generate: the suite as run (overrides applied) and every work item."""

    suite: Suite
    sampling: SuiteSampling
    limit: int | None
    items: tuple[WorkItem, ...]

    @property
    def sampling_hash(self) -> str:
        """Identity of the sampling: runs are compared only when this matches."""
        document = {"sampling": self.sampling.__dict__, "limit": self.limit}
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RunOutcome:
    """The end state of one run request."""

    run_id: int
    status: RunStatus
    error: str | None
    generated: int
    expected: int
    elapsed_s: float
    resumed: bool


def plan_run(
    suite: Suite,
    *,
    samples: int | None = None,
    limit: int | None = None,
    max_tokens: int | None = None,
    seed: int = 0,
) -> RunPlan:
    """Build every (probe, sample) request, with stable per-request seeds."""
    sampling = suite.sampling
    if samples is not None:
        sampling = replace(sampling, samples=samples)
    if max_tokens is not None:
        sampling = replace(sampling, max_tokens=max_tokens)
    probes = suite.probes[:limit] if limit else suite.probes
    items = tuple(
        WorkItem(
            request=GenerationRequest(
                probe_id=probe.id,
                sample_index=index,
                messages=probe.messages,
                sampling=sampling.sampling_for(index),
                seed=request_seed(seed, probe.id, index),
            ),
            category=probe.category,
            suite=suite.name,
        )
        for probe in probes
        for index in sampling.sample_indices()
    )
    return RunPlan(suite=suite, sampling=sampling, limit=limit, items=items)


def ensure_suite(session: Session, suite: Suite) -> ProbeSuite:
    """The stored row for this exact suite content (created on first use)."""
    row = session.scalar(sa.select(ProbeSuite).where(ProbeSuite.content_hash == suite.content_hash))
    if row is None:
        row = ProbeSuite(name=suite.name, content_hash=suite.content_hash, content=suite.content())
        session.add(row)
        session.flush()
    return row


def ensure_watched_model(
    session: Session, repo_id: str, *, source: str = "hf", ref: str = "main", expected_identity: str | None = None
) -> WatchedModel:
    """The row for a model; a model run from the CLI becomes known to the monitor this way."""
    row = session.scalar(sa.select(WatchedModel).where(WatchedModel.repo_id == repo_id))
    if row is None:
        row = WatchedModel(repo_id=repo_id, source=source, ref=ref, expected_identity=expected_identity)
        session.add(row)
        session.flush()
    return row


def run_suite(
    db: Database,
    *,
    model_id: int,
    revision_sha: str,
    plan: RunPlan,
    engine: EngineSpec,
    seed: int = 0,
    revision_id: int | None = None,
    timeout_s: float | None = None,
    new: bool = False,
    on_start: Callable[[int, int, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
    model: ModelRef | None = None,
) -> RunOutcome:
    """Create or resume the run for ``plan`` and generate what is missing in a worker process.

    ``new`` forces a fresh run even when a completed one exists (a re-run, for the noise floor).
    ``on_start(run_id, missing, expected)`` is called before generation; ``on_progress(n)`` per batch.
    With ``executor`` (a cluster's) the missing pairs are its task(s) instead, resolving ``model`` on
    their node; ``timeout_s`` then bounds each task.
    """
    if executor is not None and model is None:
        raise ValueError("run_suite(executor=...) needs model=: the tasks resolve it on their nodes")
    started = time.monotonic()
    with db.session() as session:
        run, created = open_run(
            session, model_id=model_id, revision_sha=revision_sha, revision_id=revision_id, plan=plan,
            engine=engine, seed=seed, new=new,
        )
        resumed = not created
        run_id = run.id
        if run.status == "completed":
            return RunOutcome(run_id, "completed", None, 0, run.expected_responses, 0.0, resumed=True)
    # One live supervisor per run: a restarted service waits for (or takes over a stale) claim.
    with claim_run(db, run_id):
        through = (executor, model) if executor is not None and model is not None else None  # checked above
        return _generate(db, run_id, plan, engine, timeout_s, on_start, on_progress, started, resumed, through)


def _generate(
    db: Database,
    run_id: int,
    plan: RunPlan,
    engine: EngineSpec,
    timeout_s: float | None,
    on_start: Callable[[int, int, int], None] | None,
    on_progress: Callable[[int], None] | None,
    started: float,
    resumed: bool,
    through: tuple[Executor, ModelRef] | None = None,
) -> RunOutcome:
    """Generate the missing responses of a claimed run and record how it ended."""
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        done = set(
            session.execute(sa.select(Response.probe_id, Response.sample_index).where(Response.run_id == run_id))
        )
        missing = [item for item in plan.items if (item.request.probe_id, item.request.sample_index) not in done]
        run.status, run.error, run.started_at, run.heartbeat_at = "running", None, utcnow(), utcnow()
    if on_start:
        on_start(run_id, len(missing), len(plan.items))

    def record_engine(version: str, device: str) -> None:
        with db.session() as session:
            row = session.get(Run, run_id)
            if row is not None:
                row.engine_version, row.device = version, device

    error: str | None = None
    generated = 0
    if missing and through is not None:
        executor, model = through
        job = RunJob(run_id, model.repo_id, model, engine, plan.items, timeout_s=timeout_s)

        def progressed(_job: RunJob, count: int) -> None:
            if on_progress:
                on_progress(count)

        try:
            for finished in executor.execute([job], on_progress=progressed):
                error, generated = finished.error, finished.generated
        except KeyboardInterrupt:
            _finish(db, run_id, "failed", "interrupted; run the same command again to resume")
            raise
    elif missing:
        try:
            outcome = run_worker(
                db_url=db.engine.url.render_as_string(hide_password=False),
                run_id=run_id,
                spec=engine,
                items=missing,
                timeout_s=timeout_s,
                on_progress=on_progress,
                on_engine=record_engine,
            )
        except KeyboardInterrupt:
            _finish(db, run_id, "failed", "interrupted; run the same command again to resume")
            raise
        error, generated = outcome.error, outcome.generated
    with db.session() as session:
        stored = session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.run_id == run_id)) or 0
    if error is None and stored < len(plan.items):
        error = f"only {stored} of {len(plan.items)} responses were stored; run again to resume"
    status: RunStatus = "completed" if error is None else "failed"
    _finish(db, run_id, status, error)
    return RunOutcome(run_id, status, error, generated, len(plan.items), time.monotonic() - started, resumed)


def run_options_key(engine: EngineSpec) -> dict[str, Any]:
    """The engine options that are part of a run's identity (the batch size changes speed, not outputs)."""
    return {k: v for k, v in sorted(engine.options.items()) if k != "batch_size"}


def engine_spec(
    kind: str, model: str, revision: str | None, *, options: Mapping[str, Any], batch_size: int | None
) -> EngineSpec:
    """The one way a run's engine spec is built (``run`` and the cycle): its options plus the batch size.

    ``batch_size`` None leaves the choice to the engine (the transformers engine packs by prompt length
    and free memory; vLLM and OpenAI keep their own defaults).
    """
    sized = {} if batch_size is None else {"batch_size": batch_size}
    return EngineSpec(kind=kind, model=model, revision=revision, options={**options, **sized})


def find_run(
    session: Session,
    *,
    model_id: int,
    revision_sha: str,
    suite_id: int,
    engine: EngineSpec,
    plan: RunPlan,
    seed: int,
) -> Run | None:
    """The newest run with this key (model, revision, suite content, engine kind and options, sampling, seed).

    The one rule for "does this run exist?": ``run_suite`` resumes what it returns, and the cycle's
    pending check asks it too, so a changed engine option or seed is a new run for both.
    """
    options_key = run_options_key(engine)
    candidates = session.scalars(
        sa.select(Run)
        .where(
            Run.model_id == model_id,
            Run.revision_sha == revision_sha,
            Run.suite_id == suite_id,
            Run.engine == engine.kind,
            Run.sampling_hash == plan.sampling_hash,
            Run.seed == seed,
        )
        .order_by(Run.id.desc())
    ).all()
    for run in candidates:
        if run.engine_options == options_key:
            return run
    return None


def open_run(
    session: Session,
    *,
    model_id: int,
    revision_sha: str,
    revision_id: int | None,
    plan: RunPlan,
    engine: EngineSpec,
    seed: int,
    new: bool = False,
) -> tuple[Run, bool]:
    """The run for this key and whether it is new: the existing one (to resume), or a new ``pending`` row."""
    suite_row = ensure_suite(session, plan.suite)
    run = None
    if not new:
        run = find_run(
            session, model_id=model_id, revision_sha=revision_sha, suite_id=suite_row.id, engine=engine, plan=plan,
            seed=seed,
        )
    if run is None:
        run = Run(
            model_id=model_id,
            revision_id=revision_id,
            revision_sha=revision_sha,
            suite_id=suite_row.id,
            engine=engine.kind,
            engine_options=run_options_key(engine),
            sampling=plan.sampling.__dict__ | {"limit": plan.limit},
            sampling_hash=plan.sampling_hash,
            seed=seed,
            samples=plan.sampling.samples,
            probe_limit=plan.limit,
            expected_responses=len(plan.items),
            status="pending",
        )
        session.add(run)
        session.flush()
        return run, True
    return run, False


def record_unstarted(
    db: Database,
    *,
    model_id: int,
    revision_sha: str,
    revision_id: int | None,
    plan: RunPlan,
    engine: EngineSpec,
    seed: int,
    error: str,
    new: bool = False,
) -> RunOutcome:
    """A run that failed before generating (no snapshot, a refused spec): its row says why, like any failure.

    The next attempt resumes this row (same key), after the failed-run back-off; its ``run.failed`` alert
    is raised by the alert sweep.
    """
    with db.session() as session:
        run, _ = open_run(
            session, model_id=model_id, revision_sha=revision_sha, revision_id=revision_id, plan=plan,
            engine=engine, seed=seed, new=new,
        )
        run.status, run.error, run.finished_at = "failed", error, utcnow()
        return RunOutcome(run.id, "failed", error, 0, run.expected_responses, 0.0, resumed=False)


def _finish(db: Database, run_id: int, status: RunStatus, error: str | None) -> None:
    """Record how the run ended; if that write fails, record it as failed so it backs off and alerts.

    A run left ``running`` would be resumed on every pass, reload the model each time and never raise
    ``run.failed``; a failed one waits ``FAILED_RUN_RETRY_AFTER`` and is alerted on.
    """
    try:
        _write_status(db, run_id, status, error)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        _write_status(
            db, run_id, "failed", f"the run's outcome ({status}) could not be recorded: {reason}; it is retried later"
        )


def _write_status(db: Database, run_id: int, status: RunStatus, error: str | None) -> None:
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is not None:
            run.status, run.error, run.finished_at = status, error, utcnow()
