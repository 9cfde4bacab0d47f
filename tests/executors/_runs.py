"""Runs to hand to an executor: real rows (model, suite, run) and the jobs that generate them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from monitor.db import Database, Response, RunTask
from monitor.engines import EngineSpec
from monitor.executors import ModelRef, RunJob
from monitor.pipeline import ensure_watched_model, plan_run
from monitor.pipeline._run import open_run
from monitor.probes import load_suite


def smollm2_job(
    db: Database,
    model_dir: Path,
    *,
    repo_id: str,
    suite: str,
    limit: int,
    samples: int = 1,
    max_tokens: int = 4,
    batch_size: int = 1,
    device: str = "auto",
) -> RunJob:
    """A new run of SmolLM2 (a local folder, used as is by the task) through the transformers engine."""
    spec = EngineSpec("transformers", str(model_dir), options={"batch_size": batch_size, "device": device})
    return new_job(db, spec, repo_id=repo_id, suite=suite, limit=limit, samples=samples, max_tokens=max_tokens)


def new_job(
    db: Database,
    spec: EngineSpec,
    *,
    repo_id: str,
    suite: str,
    limit: int,
    samples: int = 1,
    max_tokens: int = 4,
    resources: dict[str, float] | None = None,
) -> RunJob:
    """A new run row of ``spec`` (a model ``local`` to every node) and the job that generates it."""
    plan = plan_run(load_suite(suite), samples=samples, limit=limit, max_tokens=max_tokens, seed=0)
    with db.session() as session:
        model_id = ensure_watched_model(session, repo_id, source="local").id
        run, _ = open_run(
            session,
            model_id=model_id,
            revision_sha="local",
            revision_id=None,
            plan=plan,
            engine=spec,
            seed=0,
            new=True,
        )
        run.status = "running"
        run_id = run.id
    return RunJob(run_id, repo_id, ModelRef("local", repo_id, "local"), spec, plan.items, resources=resources)


def stored_pairs(db: Database, run_id: int) -> list[tuple[str, int]]:
    with db.session() as session:
        return [
            (probe, index)
            for probe, index in session.execute(
                sa.select(Response.probe_id, Response.sample_index).where(Response.run_id == run_id)
            )
        ]


def tasks_of(db: Database, run_id: int) -> list[RunTask]:
    with db.session() as session:
        rows = list(session.scalars(sa.select(RunTask).where(RunTask.run_id == run_id).order_by(RunTask.shard)))
        session.expunge_all()
        return rows
