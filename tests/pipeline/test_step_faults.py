"""A step's fault for one model stays with that model: recorded, counted, alerted; the pass goes on.

Polls and runs used to catch only ``MonitorError``: a full disk (``OSError``), a library's ``ValueError`` or
huggingface_hub's ``LocalEntryNotFoundError`` escaped the cycle, leaving no row, no failure count and no
alert, and skipping every later step for every model. Here each fault becomes its model's failed row.
"""

from __future__ import annotations

import errno
import json
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from huggingface_hub.errors import LocalEntryNotFoundError

from monitor.alerts import FileChannel
from monitor.config import MonitorConfig
from monitor.db import Alert, Database, Poll, Revision, Run, WatchedModel
from monitor.hub import RevisionSource
from monitor.pipeline import CycleContext, UnusableSource, run_cycle
from tests.hub._scenarios import GitRemote, base_files

FAULTS: dict[str, BaseException] = {
    "acme/full-disk": OSError(errno.ENOSPC, "No space left on device"),
    "acme/bad-answer": ValueError("Invalid repo metadata\nsecond line of detail"),
    "acme/not-cached": LocalEntryNotFoundError("Cannot find the requested files in the local cache"),
}


def _context(database: Database, config: MonitorConfig, tmp_path: Path) -> CycleContext:
    def source(model: WatchedModel) -> RevisionSource | None:
        return UnusableSource(FAULTS[model.repo_id], kind="hf") if model.repo_id in FAULTS else None

    return CycleContext(
        db=database,
        config=config,
        data_dir=tmp_path / "data",
        source_factory=source,
        channels=[FileChannel("file", tmp_path / "alerts.jsonl")],
    )


def test_unexpected_poll_errors_are_failed_polls_of_their_model(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    remote = GitRemote(tmp_path / "repo")
    remote.commit("initial upload", base_files())
    models = [{"repo": repo, "source": "hf", "suites": []} for repo in FAULTS]
    models.append({"repo": remote.repo_id, "source": "git", "suites": []})
    config = MonitorConfig.model_validate({"models": models, "alerts": {"poll_failure_threshold": 1}})

    with caplog.at_level(logging.ERROR):
        report = run_cycle(_context(database, config, tmp_path))

    assert (report.polls, report.poll_failures, report.changes, report.errors) == (4, 3, 1, [])
    with database.session() as session:
        for repo, error in FAULTS.items():
            model = session.scalars(sa.select(WatchedModel).where(WatchedModel.repo_id == repo)).one()
            (poll,) = session.scalars(sa.select(Poll).where(Poll.model_id == model.id)).all()
            assert not poll.ok and poll.error == model.last_poll_error
            assert poll.error is not None and poll.error.startswith(f"{type(error).__name__}: ")
            assert "\n" not in poll.error and "second line" not in poll.error  # one line in the row
            assert model.consecutive_poll_failures == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(Revision)) == 1  # the git model went on
        kinds = sorted(session.scalars(sa.select(Alert.kind)))
    assert kinds == ["poll.failed"] * 3
    delivered = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert sorted(alert["kind"] for alert in delivered) == ["poll.failed"] * 3  # delivery ran too
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert sorted(str(record.exc_info[1]).splitlines()[0] for record in tracebacks if record.exc_info) == sorted(
        str(error).splitlines()[0] for error in FAULTS.values()
    ), "each unexpected exception is logged once, with its traceback"


def test_an_unexpected_error_before_a_run_starts_is_a_failed_run_with_its_alert(
    database: Database, tmp_path: Path
) -> None:
    remote = GitRemote(tmp_path / "repo")
    remote.commit("initial upload", base_files())
    config = MonitorConfig.model_validate(
        {"models": [{"repo": remote.repo_id, "source": "git", "suites": ["identity"], "limit": 1, "samples": 1}]}
    )
    ctx = _context(database, config, tmp_path)
    (ctx.data_dir).mkdir(parents=True)
    (ctx.data_dir / "checkouts").write_text("not a folder")  # the snapshot cannot be written: an OSError

    report = run_cycle(ctx)

    assert (report.polls, report.runs_failed, report.errors) == (1, 1, [])
    with database.session() as session:
        (run,) = session.scalars(sa.select(Run)).all()
        assert run.status == "failed" and run.error is not None
        assert run.error.split(":")[0] in ("FileExistsError", "NotADirectoryError"), run.error
        (alert,) = session.scalars(sa.select(Alert)).all()
        assert alert.kind == "run.failed" and alert.status == "delivered"
    (line,) = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert json.loads(line)["kind"] == "run.failed"

    again = run_cycle(ctx)  # within the back-off the failed run is left alone: no second row, no second alert
    assert (again.runs_failed, again.alerts_raised) == (0, 0)
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Run)) == 1
