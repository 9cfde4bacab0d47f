"""Generation in a spawned worker process that writes responses to the database batch by batch.

Why a process: vLLM (and CUDA generally) does not give GPU memory back in-process, a wedged model must be
killable, and a crash must not take the service with it. The parent only supervises: it relays progress,
enforces the timeout and reports how the worker ended. Responses are inserted with ON CONFLICT DO
NOTHING on (run, probe, sample), so a worker killed mid-batch loses at most that batch and a rerun
fills exactly the gap.

The worker is a process group of its own (``os.setsid`` first thing), so ending it ends what it
started too: vLLM's EngineCore is a non-daemon child that would otherwise keep the GPU after a timeout.
Every way the parent stops it (timeout, stop request, a worker stuck after reporting ``done``) kills
the whole group. And it dies with its parent: ``PR_SET_PDEATHSIG`` where Linux offers it, plus a
thread that watches the parent's pid everywhere, both end the group within a second or so of the
parent's death, so a SIGKILLed service leaves no worker generating behind it. Requests the engine
cannot honour are refused before the process is even started (``sampling_problem``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.engines._protocol import EngineSpec, Generation, GenerationRequest

__all__ = ["WorkItem", "WorkerOutcome", "response_rows", "run_worker", "store_every"]

_POLL_S = 0.2
_EXIT_GRACE_S = 10.0  # how long a worker that reported ``done`` may take to exit before it is killed
_PARENT_CHECK_S = 0.5
_STORE_EVERY = 8


@dataclass(frozen=True)
class WorkItem:
    """A request plus what the stored response row needs besides the generation itself."""

    request: GenerationRequest
    category: str
    suite: str = ""


@dataclass(frozen=True)
class WorkerOutcome:
    """How the worker ended: ``ok`` only when it generated and stored every item."""

    ok: bool
    generated: int
    error: str | None
    engine_version: str | None
    device: str | None


def run_worker(
    *,
    db_url: str,
    run_id: int,
    spec: EngineSpec,
    items: Sequence[WorkItem],
    timeout_s: float | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_engine: Callable[[str, str], None] | None = None,
) -> WorkerOutcome:
    """Generate ``items`` in a fresh spawned process; returns when it exits, fails or times out.

    A worker that reported ``done`` (every item stored) but does not exit within ``_EXIT_GRACE_S`` is
    killed and the outcome is still ``ok``: the responses are what the run is for.
    """
    problem = _limits_problem(spec, items)
    if problem:
        return WorkerOutcome(ok=False, generated=0, error=problem, engine_version=None, device=None)
    context = multiprocessing.get_context("spawn")
    messages: Any = context.Queue()
    process = context.Process(
        target=_worker_main,
        args=(db_url, run_id, spec, list(items), messages, os.getpid()),
        name=f"drift-monitor-run-{run_id}",
    )
    process.start()
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    generated, error, version, device = 0, None, None, None
    finished_at: float | None = None
    try:
        while True:
            try:
                kind, *payload = messages.get(timeout=_POLL_S)
            except queue.Empty:
                if not process.is_alive():
                    break
                if finished_at is not None:
                    if time.monotonic() - finished_at > _EXIT_GRACE_S:
                        break  # stored everything, then hung on the way out: end it, keep the run
                elif deadline is not None and time.monotonic() > deadline:
                    error = f"timed out after {timeout_s:.0f} s; the responses stored so far are kept"
                    break
                continue
            if kind == "engine":
                version, device = payload
                if on_engine:
                    on_engine(version, device)
            elif kind == "progress":
                generated += payload[0]
                if on_progress:
                    on_progress(payload[0])
            elif kind == "error":
                error = payload[0]
            elif kind == "done":
                finished_at = time.monotonic()
    finally:
        # Whatever ended the loop (exit, timeout, a stop raised by on_progress), nothing of the group stays.
        _end_group(process)
    if error is None and finished_at is None:
        error = _describe_exit(process.exitcode)
    return WorkerOutcome(ok=error is None, generated=generated, error=error, engine_version=version, device=device)


def _limits_problem(spec: EngineSpec, items: Sequence[WorkItem]) -> str | None:
    """What the engine would refuse about these requests, naming the suite; checked before starting a worker."""
    if spec.kind != "vllm" or not items:
        return None
    from monitor.engines._vllm import sampling_problem

    max_model_len = spec.options.get("max_model_len")
    for suite in dict.fromkeys(item.suite for item in items):
        requests = [item.request for item in items if item.suite == suite]
        problem = sampling_problem(requests, max_model_len=max_model_len if isinstance(max_model_len, int) else None)
        if problem:
            return f"suite {suite!r}, {problem}" if suite else problem
    return None


def _end_group(process: Any) -> None:
    """SIGKILL the worker's process group (the worker and every child it started), then reap the worker."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # ESRCH when the group is gone (or the worker never made it)
    if process.is_alive():
        process.kill()
    process.join()


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"worker process was killed by signal {-code}; run again to resume"
    return f"worker process exited with code {code}; run again to resume"


def _worker_main(
    db_url: str, run_id: int, spec: EngineSpec, items: list[WorkItem], messages: Any, parent_pid: int
) -> None:
    """Child entry point: become a group that dies with the parent, load the engine, generate, store, report."""
    _bind_to_parent(parent_pid)

    from monitor.engines._factory import build_engine
    from monitor.errors import MonitorError

    try:
        engine = build_engine(spec)
        messages.put(("engine", engine.version, engine.device))
        db = _open(db_url)
        by_key = {(item.request.probe_id, item.request.sample_index): item for item in items}
        batch: list[Generation] = []
        for generation in engine.generate([item.request for item in items]):
            batch.append(generation)
            if len(batch) >= store_every(spec):
                _store(db, run_id, batch, by_key)
                messages.put(("progress", len(batch)))
                batch = []
        if batch:
            _store(db, run_id, batch, by_key)
            messages.put(("progress", len(batch)))
        engine.close()
        db.dispose()
        messages.put(("done",))
    except MonitorError as exc:
        messages.put(("error", str(exc)))
        sys.exit(1)
    except Exception as exc:
        detail = traceback.format_exc(limit=3).strip().splitlines()[-1]
        messages.put(("error", f"{type(exc).__name__} in the worker: {exc} ({detail})"))
        sys.exit(1)
    finally:
        messages.close()
        messages.join_thread()
    # Everything is stored and reported: skip the interpreter's teardown (freeing a loaded model and
    # unloading torch takes seconds on a small CPU) that the parent would otherwise wait for.
    os._exit(0)


def _bind_to_parent(parent_pid: int) -> None:
    """Own session and process group; end the whole group when the parent dies (however it died)."""
    import threading

    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides (finish the batch, or kill us)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: _kill_own_group())
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_CHECK_S)
        _kill_own_group()

    if os.getppid() != parent_pid:  # died before the death signal was armed
        _kill_own_group()
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _kill_own_group() -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)


def store_every(spec: EngineSpec) -> int:
    """How many generations are stored per database write: the batch size, or 8 when the engine picks it."""
    return int(spec.options.get("batch_size") or _STORE_EVERY)


def _open(db_url: str) -> Any:
    from monitor.db import open_database

    return open_database(db_url, migrate=False)


def _store(db: Any, run_id: int, batch: list[Generation], by_key: dict[tuple[str, int], WorkItem]) -> None:
    from monitor.db import Response, Run, insert_ignoring_duplicates, utcnow

    with db.session() as session:
        insert_ignoring_duplicates(
            session, Response, response_rows(run_id, batch, by_key), ["run_id", "probe_id", "sample_index"]
        )
        run = session.get(Run, run_id)
        if run is not None:
            run.heartbeat_at = utcnow()


def response_rows(
    run_id: int, batch: Sequence[Generation], by_key: dict[tuple[str, int], WorkItem]
) -> list[dict[str, Any]]:
    """The ``responses`` rows of a batch: what every executor (local worker, Ray task) stores."""
    from monitor.db import utcnow

    now = utcnow()
    rows = []
    for generation in batch:
        item = by_key[(generation.probe_id, generation.sample_index)]
        rows.append(
            {
                "run_id": run_id,
                "probe_id": generation.probe_id,
                "sample_index": generation.sample_index,
                "category": item.category,
                "prompt": [{"role": m.role, "content": m.content} for m in item.request.messages],
                "raw_text": generation.text,
                "server_reasoning": generation.reasoning,
                "prompt_tokens": generation.prompt_tokens,
                "completion_tokens": generation.completion_tokens,
                "finish_reason": generation.finish_reason,
                "latency_s": generation.latency_s,
                "created_at": now,
            }
        )
    return rows
