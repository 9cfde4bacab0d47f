"""The run step end to end with the real model in a spawned worker: create, kill mid-run, resume."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.db import Database, Response, Run
from monitor.engines import EngineSpec
from monitor.pipeline import ensure_watched_model, plan_run, run_suite
from monitor.probes import load_suite

pytestmark = pytest.mark.slow


def _plan():  # type: ignore[no-untyped-def]
    return plan_run(load_suite("identity"), samples=2, limit=3, max_tokens=8, seed=5)


def _responses(db: Database, run_id: int) -> dict[tuple[str, int], tuple[int, str]]:
    with db.session() as session:
        rows = session.execute(
            sa.select(Response.probe_id, Response.sample_index, Response.id, Response.raw_text).where(
                Response.run_id == run_id
            )
        )
        return {(probe, index): (row_id, text) for probe, index, row_id, text in rows}


def test_killed_worker_then_rerun_completes_without_duplicates(database: Database, smollm2_dir: Path) -> None:
    spec = EngineSpec("transformers", str(smollm2_dir), options={"batch_size": 3, "device": "cpu"})
    with database.session() as session:
        model_id = ensure_watched_model(session, "local/smollm2", source="local").id
    plan = _plan()
    assert len(plan.items) == 9

    def kill_worker_after_first_batch(_count: int) -> None:
        for child in multiprocessing.active_children():
            if child.name.startswith("drift-monitor-run-") and child.pid:
                os.kill(child.pid, signal.SIGKILL)

    first = run_suite(
        database,
        model_id=model_id,
        revision_sha="local",
        plan=plan,
        engine=spec,
        seed=5,
        on_progress=kill_worker_after_first_batch,
    )
    assert first.status == "failed"
    assert "killed by signal 9" in (first.error or "")
    kept = _responses(database, first.run_id)
    assert 0 < len(kept) < 9
    with database.session() as session:
        assert session.get(Run, first.run_id).status == "failed"  # type: ignore[union-attr]

    second = run_suite(database, model_id=model_id, revision_sha="local", plan=plan, engine=spec, seed=5)
    assert second.run_id == first.run_id and second.resumed
    assert second.status == "completed", second.error
    assert second.generated == 9 - len(kept)
    final = _responses(database, first.run_id)
    assert set(final) == {(i.request.probe_id, i.request.sample_index) for i in plan.items}
    assert all(final[key] == value for key, value in kept.items())  # nothing rewritten, nothing lost

    # The same plan asked again is already complete; a fresh run reproduces the resumed one exactly.
    again = run_suite(database, model_id=model_id, revision_sha="local", plan=plan, engine=spec, seed=5)
    assert again.run_id == first.run_id and again.generated == 0
    fresh = run_suite(database, model_id=model_id, revision_sha="local", plan=plan, engine=spec, seed=5, new=True)
    assert fresh.run_id != first.run_id and fresh.status == "completed"
    assert {k: v[1] for k, v in _responses(database, fresh.run_id).items()} == {k: v[1] for k, v in final.items()}


def test_timeout_marks_the_run_failed_with_its_error(sqlite_url: str, smollm2_dir: Path) -> None:
    from monitor.db import open_database

    db = open_database(sqlite_url)
    with db.session() as session:
        model_id = ensure_watched_model(session, "local/smollm2", source="local").id
    spec = EngineSpec("transformers", str(smollm2_dir), options={"device": "cpu"})
    outcome = run_suite(db, model_id=model_id, revision_sha="local", plan=_plan(), engine=spec, timeout_s=0.5)
    assert outcome.status == "failed"
    assert "timed out" in (outcome.error or "")
    with db.session() as session:
        run = session.get(Run, outcome.run_id)
        assert run is not None and run.status == "failed" and "timed out" in (run.error or "")
