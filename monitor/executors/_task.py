"""What one shard's task does on the node that runs it: resolve the model there, generate what is missing.

It runs inside a Ray worker (or any process): it opens the shared database itself, takes its shard
under the token it was submitted with, asks the database which pairs are still missing (a retry after a
lost worker generates only those), loads the revision's files on this node (``model_location``: the
pinned sha, safetensors unless allowed otherwise), and stores each batch in one transaction with a
check that its token still holds the shard. A heartbeat thread keeps the claim alive meanwhile.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from monitor.db import Database, Response, Run, RunTask, insert_ignoring_duplicates, open_database, utcnow
from monitor.engines import EngineSpec, Generation
from monitor.engines._worker import WorkItem, _limits_problem, response_rows, store_every
from monitor.errors import EngineError, ExecutorError, ModelNotFoundError, MonitorError
from monitor.executors._database import node_url
from monitor.executors._protocol import ModelRef

__all__ = ["ShardResult", "generate_shard", "resolve_on_node"]


class _TakenOver(Exception):
    """Another submission holds this shard now: stop without writing."""


@dataclass(frozen=True)
class ShardResult:
    """What a task reports back (small: the responses themselves went to the database)."""

    task_id: int
    generated: int
    error: str | None
    node: str
    taken_over: bool = False


def resolve_on_node(model: ModelRef, spec: EngineSpec, data_dir: Path) -> EngineSpec:
    """The engine spec with ``model`` pointing at this node's copy of the pinned revision."""
    if model.source in ("endpoint", "local"):
        return spec
    from monitor.pipeline._resolve import model_location

    if model.source not in ("hf", "git"):
        raise ModelNotFoundError(f"{model.repo_id}: source {model.source!r} cannot be run by a task")
    location = model_location(
        model.source, model.repo_id, model.sha, data_dir=data_dir, allow_pickle=model.allow_pickle
    )
    return replace(spec, model=str(location))


def generate_shard(
    db_url: str,
    task_id: int,
    token: str,
    model: ModelRef,
    spec: EngineSpec,
    items: list[WorkItem],
    data_dir: str,
    heartbeat_s: float,
) -> ShardResult:
    """Generate and store the missing items of one shard; returns what it did (errors included, not raised).

    ``db_url`` carries no password (``monitor.executors._database``): the node supplies it.

    A ``MonitorError`` (no such revision, an engine that refuses the model) is the run's fault and is
    reported, not raised: Ray's retries are for lost workers and nodes, not for a model that will not load.
    """
    node = f"{socket.gethostname()} ({_node_ip()})"
    db = open_database(node_url(db_url, _node_database_url()), migrate=False)
    try:
        _connect(db, db_url, node)
        return _generate(db, task_id, token, model, spec, items, Path(data_dir), heartbeat_s, node)
    finally:
        db.dispose()


def _connect(db: Database, db_url: str, node: str) -> None:
    """Connect once before anything else, so a refusal (no password on this node?) says where it comes from.

    Connecting with the engine itself: ``Database.session`` would turn the refusal into a general
    ``DatabaseError`` that points at the service's DRIFT_MONITOR_DATABASE_URL, not at this node.
    """
    try:
        with db.engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0]
        raise ExecutorError(
            f"the task on {node} cannot reach the database {db_url} ({first}); a Ray node supplies the "
            "database password itself: PGPASSWORD, ~/.pgpass or its own DRIFT_MONITOR_DATABASE_URL in the "
            "environment of 'ray start' (README: Deploying on a Ray cluster)"
        ) from None


def _node_database_url() -> str | None:
    """The node's own DRIFT_MONITOR_DATABASE_URL, read by the settings (their default names no server)."""
    from monitor.config import load_settings

    try:
        return load_settings().database_url
    except MonitorError:
        return None


def _generate(
    db: Database,
    task_id: int,
    token: str,
    model: ModelRef,
    spec: EngineSpec,
    items: list[WorkItem],
    data_dir: Path,
    heartbeat_s: float,
    node: str,
) -> ShardResult:
    run_id = _start(db, task_id, token, node)
    if run_id is None:
        return ShardResult(task_id, 0, None, node, taken_over=True)
    lost = threading.Event()
    done = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(db, task_id, token, heartbeat_s, done, lost), daemon=True)
    beat.start()
    generated = 0
    try:
        missing = _missing(db, run_id, items)
        problem = _limits_problem(spec, missing)  # what the engine would refuse, before loading it
        if problem:
            raise EngineError(problem)
        if missing:
            engine = build_on_node(model, spec, data_dir)
            try:
                _record_engine(db, run_id, engine.version, f"{engine.device} on {node}")
                by_key = {(item.request.probe_id, item.request.sample_index): item for item in missing}
                batch: list[Generation] = []
                size = store_every(spec)
                for generation in engine.generate([item.request for item in missing]):
                    batch.append(generation)
                    if len(batch) >= size:
                        generated += _store(db, task_id, token, run_id, batch, by_key, lost)
                        batch = []
                if batch:
                    generated += _store(db, task_id, token, run_id, batch, by_key, lost)
            finally:
                engine.close()
        _finish(db, task_id, token, "done", None)
        return ShardResult(task_id, generated, None, node)
    except _TakenOver:
        return ShardResult(task_id, generated, None, node, taken_over=True)
    except MonitorError as exc:
        _finish(db, task_id, token, "failed", str(exc))
        return ShardResult(task_id, generated, str(exc), node)
    finally:
        done.set()
        beat.join(timeout=heartbeat_s + 5)


def build_on_node(model: ModelRef, spec: EngineSpec, data_dir: Path) -> Any:
    """Resolve the model on this node and build its engine."""
    from monitor.engines import build_engine

    return build_engine(resolve_on_node(model, spec, data_dir))


def _node_ip() -> str:
    try:
        import ray

        return str(ray.util.get_node_ip_address())
    except Exception:  # outside a Ray worker (the benchmark's in-process baseline)
        return "local"


def _start(db: Database, task_id: int, token: str, node: str) -> int | None:
    """Take the shard for this attempt (a Ray retry is the next attempt); None when another token holds it."""
    with db.session() as session:
        row = session.get(RunTask, task_id, with_for_update=True)
        if row is None or row.token != token or row.status == "done":
            return None
        now = utcnow()
        row.status, row.node, row.worker_pid = "running", node, os.getpid()
        row.attempts += 1
        row.started_at, row.heartbeat_at = now, now
        return row.run_id


def _missing(db: Database, run_id: int, items: list[WorkItem]) -> list[WorkItem]:
    keys = {(item.request.probe_id, item.request.sample_index) for item in items}
    probes = sorted({probe for probe, _ in keys})
    with db.session() as session:
        done = set(
            session.execute(
                sa.select(Response.probe_id, Response.sample_index).where(
                    Response.run_id == run_id, Response.probe_id.in_(probes)
                )
            )
        )
    return [item for item in items if (item.request.probe_id, item.request.sample_index) not in done]


def _store(
    db: Database,
    task_id: int,
    token: str,
    run_id: int,
    batch: list[Generation],
    by_key: dict[tuple[str, int], WorkItem],
    lost: threading.Event,
) -> int:
    """Insert a batch under the shard's row lock, counting it; raises ``_TakenOver`` without writing."""
    if lost.is_set():
        raise _TakenOver
    with db.session() as session:
        result: Any = session.execute(
            sa.update(RunTask)
            .where(RunTask.id == task_id, RunTask.token == token)
            .values(generated=RunTask.generated + len(batch), heartbeat_at=utcnow())
        )
        if not result.rowcount:
            raise _TakenOver
        insert_ignoring_duplicates(
            session, Response, response_rows(run_id, batch, by_key), ["run_id", "probe_id", "sample_index"]
        )
        session.execute(sa.update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow()))
    return len(batch)


def _heartbeat(
    db: Database, task_id: int, token: str, interval_s: float, done: threading.Event, lost: threading.Event
) -> None:
    while not done.wait(interval_s):
        try:
            with db.session() as session:
                result: Any = session.execute(
                    sa.update(RunTask)
                    .where(RunTask.id == task_id, RunTask.token == token, RunTask.status == "running")
                    .values(heartbeat_at=utcnow())
                )
                if not result.rowcount:
                    lost.set()
                    return
        except Exception:  # the database is briefly away: the next beat tries again; staleness decides
            time.sleep(0)


def _record_engine(db: Database, run_id: int, version: str, device: str) -> None:
    with db.session() as session:
        session.execute(sa.update(Run).where(Run.id == run_id).values(engine_version=version, device=device[:200]))


def _finish(db: Database, task_id: int, token: str, status: str, error: str | None) -> None:
    from monitor.executors._claims import mark_shard

    mark_shard(db, task_id, token, status, error)
