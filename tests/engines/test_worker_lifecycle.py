"""The worker process against the stand-in vLLM, whose LLM starts an EngineCore child as vLLM's does.

Real processes throughout: a spawned worker, its EngineCore grandchild, a SQLite database they write to,
and (for the parent-death case) a parent process that is SIGKILLed.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.db import Database, Response, Run, open_database
from monitor.engines import EngineSpec
from monitor.engines import _worker as worker
from monitor.errors import ServiceError
from monitor.pipeline import ensure_watched_model, plan_run, run_suite
from monitor.pipeline._run import RunPlan
from monitor.probes import load_suite
from tests.engines._procs import alive, survivors

FAKE_VLLM = Path(__file__).parent / "fake_vllm"
REPO = Path(__file__).parents[2]


@pytest.fixture
def core_pids(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The stand-in on the worker's path, starting an EngineCore child whose pid it appends to this file.

    Whatever a failing test leaves running (an EngineCore, a worker) is killed afterwards.
    """
    monkeypatch.syspath_prepend(str(FAKE_VLLM))  # a spawned worker gets the parent's sys.path
    monkeypatch.delenv("VLLM_BATCH_INVARIANT", raising=False)
    path = tmp_path / "engine_core.pids"
    monkeypatch.setenv("FAKE_VLLM_ENGINE_CORE_PIDS", str(path))
    yield path
    for pid in _pids(path):
        parent = _parent(pid)
        for leftover in (pid, parent):
            if leftover and alive(leftover) and leftover != os.getpid():
                os.kill(leftover, signal.SIGKILL)


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _db(tmp_path: Path) -> tuple[Database, int]:
    db = open_database(f"sqlite:///{tmp_path / 'runs.db'}")
    with db.session() as session:
        model_id = ensure_watched_model(session, "org/model", source="local").id
    return db, model_id


def _plan(**sampling: Any) -> RunPlan:
    suite = load_suite("identity")
    if sampling:
        suite = dataclasses.replace(suite, sampling=dataclasses.replace(suite.sampling, **sampling))
    return plan_run(suite, samples=1, limit=2, max_tokens=8)


def _spec(**options: object) -> EngineSpec:
    return EngineSpec("vllm", "org/model", revision="a" * 40, options={"batch_size": 1, **options})


def test_a_timeout_ends_the_worker_and_its_engine_core(
    core_pids: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VLLM_CHAT_DELAY_S", "60")
    db, model_id = _db(tmp_path)

    def started() -> bool:
        return bool(_pids(core_pids))

    outcome = run_suite(db, model_id=model_id, revision_sha="a" * 40, plan=_plan(), engine=_spec(), timeout_s=8)
    assert outcome.status == "failed" and "timed out" in (outcome.error or "")
    assert started(), "the stand-in started its EngineCore"
    assert survivors(_pids(core_pids), within=5) == [], "EngineCore outlived the timed-out worker (the GPU stays taken)"


def test_a_stop_request_ends_the_whole_group(core_pids: Path, tmp_path: Path) -> None:
    db, model_id = _db(tmp_path)

    def stop_after_first_batch(_count: int) -> None:
        raise ServiceError("stop requested")

    with pytest.raises(ServiceError):
        run_suite(
            db,
            model_id=model_id,
            revision_sha="a" * 40,
            plan=_plan(),
            engine=_spec(),
            on_progress=stop_after_first_batch,
        )
    assert _pids(core_pids) and survivors(_pids(core_pids), within=5) == []


def test_a_worker_stuck_after_done_does_not_fail_the_complete_run(
    core_pids: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # EngineCore never shuts down, so the worker's exit waits for it forever (multiprocessing joins
    # non-daemon children at exit), after every response was stored and "done" reported.
    monkeypatch.setenv("FAKE_VLLM_HANG_ON_SHUTDOWN", "1")
    monkeypatch.setattr(worker, "_EXIT_GRACE_S", 1.0)
    db, model_id = _db(tmp_path)
    started = time.monotonic()
    outcome = run_suite(db, model_id=model_id, revision_sha="a" * 40, plan=_plan(), engine=_spec(), timeout_s=120)
    assert outcome.status == "completed", outcome.error
    assert outcome.generated == outcome.expected == 4
    assert time.monotonic() - started < 60, "the parent waited for the stuck worker instead of ending it"
    assert survivors(_pids(core_pids), within=5) == []


def test_the_worker_dies_with_its_parent(core_pids: Path, tmp_path: Path) -> None:
    """SIGKILL the process that started the worker: worker and EngineCore are gone within seconds."""
    db, model_id = _db(tmp_path)
    db.dispose()
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(FAKE_VLLM)!r}, {str(REPO)!r}]
        from monitor.db import open_database
        from monitor.engines import EngineSpec
        from monitor.pipeline import plan_run, run_suite
        from monitor.probes import load_suite
        db = open_database({f"sqlite:///{tmp_path / 'runs.db'}"!r})
        plan = plan_run(load_suite("identity"), samples=1, limit=2, max_tokens=8)
        spec = EngineSpec("vllm", "org/model", revision="a" * 40, options={{"batch_size": 1}})
        run_suite(db, model_id={model_id}, revision_sha="a" * 40, plan=plan, engine=spec)
        """
    )
    env = {**os.environ, "FAKE_VLLM_CHAT_DELAY_S": "60"}
    parent = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        while not _pids(core_pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        (core,) = _pids(core_pids)
        worker_pid = _parent(core)
        assert worker_pid and alive(worker_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert survivors([worker_pid, core], within=5) == [], "the worker (or its EngineCore) outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_settings_vllm_cannot_honour_fail_the_run_before_a_worker_starts(core_pids: Path, tmp_path: Path) -> None:
    db, model_id = _db(tmp_path)
    hot = run_suite(
        db,
        model_id=model_id,
        revision_sha="a" * 40,
        plan=_plan(temperature=2.5),
        engine=_spec(max_model_len=4096),
        timeout_s=30,
    )
    assert hot.status == "failed"
    assert hot.error == "suite 'identity', probe 'direct-who-en': temperature 2.5 is above vLLM's limit of 2"
    long = run_suite(
        db,
        model_id=model_id,
        revision_sha="a" * 40,
        plan=plan_run(load_suite("identity"), samples=1, limit=2, max_tokens=8192),
        engine=_spec(max_model_len=8192),
        timeout_s=30,
    )
    assert long.status == "failed"
    assert "max_tokens = 8192 does not fit the vllm engine's max_model_len = 8192" in (long.error or "")
    assert _pids(core_pids) == [], "no engine was loaded for a run vLLM would refuse"
    with db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
        assert {run.status for run in session.scalars(sa.select(Run))} == {"failed"}
