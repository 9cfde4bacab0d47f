"""Faults survived by the running service (in-process, real scheduler): the Hub failing, SMTP down."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import sqlalchemy as sa

from monitor.alerts import AppriseChannel
from monitor.config import MonitorConfig
from monitor.db import Alert, AlertDelivery, ChangeEvent, Database, Poll, Revision, WatchedModel
from monitor.hub import HfSource
from monitor.service import Service, ServiceOptions
from tests.alerts._loopback import SmtpReceiver
from tests.hub._hub_server import LFS, HubServer
from tests.hub._scenarios import base_files
from tests.service._proc import wait_for

REPO = "deepseek-ai/Tiny-R1-Distill"


def _config(threshold: int = 3) -> MonitorConfig:
    return MonitorConfig.model_validate(
        {
            "models": [
                {
                    "repo": REPO,
                    "source": "hf",
                    "suites": [],
                    "schedule": {"interval_minutes": 0.01, "jitter_seconds": 0},
                }
            ],
            "alerts": {"poll_failure_threshold": threshold, "backoff_base_s": 0.2, "backoff_max_s": 1.0},
        }
    )


def _count(db: Database, query: sa.Select[tuple[int]]) -> int:
    with db.session() as session:
        return int(session.scalar(query) or 0)


def test_hub_500_for_a_while_then_smtp_down_then_up(database: Database, hub: HubServer, tmp_path: Path) -> None:
    db = database
    repo = hub.repo(REPO)
    repo.commit("initial upload", base_files())
    hub.fail(r"Tiny-R1-Distill", 500, times=None)
    smtp = SmtpReceiver()  # not started: the mail server is down too
    channels = [AppriseChannel("mail", smtp.url, min_interval_s=0)]
    service = Service(
        db,
        _config(),
        channels,
        data_dir=tmp_path / "data",
        options=ServiceOptions(port=None, process_interval_s=3600, delivery_interval_s=0.3),
        source_factory=lambda model: HfSource(model.repo_id, endpoint=hub.url, attempts=2, retry_wait_s=0.01),
    )
    thread = threading.Thread(target=service.serve, name="service")
    thread.start()
    try:
        failed = sa.select(sa.func.count()).select_from(Poll).where(Poll.ok.is_(False))
        wait_for(lambda: _count(db, failed) >= 6, timeout=60, what="six failed polls")
        # No false alert: failed polls recorded, no revision, no change, and one poll.failed for the streak.
        assert _count(db, sa.select(sa.func.count()).select_from(Revision)) == 0
        assert _count(db, sa.select(sa.func.count()).select_from(ChangeEvent)) == 0
        with db.session() as session:
            assert list(session.scalars(sa.select(Alert.kind))) == ["poll.failed"]
            model = session.scalars(sa.select(WatchedModel)).one()
            assert model.consecutive_poll_failures >= 6 and "500" in (model.last_poll_error or "")

        # The Hub recovers: the first good poll is a first sighting (no alert); a silent weights update alerts.
        hub.faults.clear()
        wait_for(lambda: _count(db, sa.select(sa.func.count()).select_from(Revision)) == 1, timeout=30, what="recovery")
        repo.commit("Update model.safetensors", {"model.safetensors": LFS(b"weights-v2" * 50)})
        changed = sa.select(sa.func.count()).select_from(Alert).where(Alert.kind == "hub.weights_changed")
        wait_for(lambda: _count(db, changed) == 1, timeout=30, what="the weights alert")

        # Meanwhile the mail server was down: attempts pile up with backoff; then it comes back.
        tried = sa.select(sa.func.max(AlertDelivery.attempts))
        wait_for(lambda: _count(db, tried) >= 3, timeout=30, what="three failed delivery attempts")
        smtp.start()
        delivered = sa.select(sa.func.count()).select_from(Alert).where(Alert.status == "delivered")
        wait_for(lambda: _count(db, delivered) == 2, timeout=60, what="delivery after SMTP recovery")
    finally:
        service.request_stop("test over")
        thread.join(timeout=60)
        smtp.stop()
    assert not thread.is_alive()
    subjects = sorted(smtp.subjects())
    assert len(subjects) == 2 and len(set(subjects)) == 2  # each alert once
    assert "poll.failed" in subjects[0] or "poll.failed" in subjects[1]
    with db.session() as session:
        kinds = sorted(session.scalars(sa.select(Alert.kind)))
        assert kinds == ["hub.weights_changed", "poll.failed"]  # still exactly one poll.failed
        rows = {row.alert.kind: row for row in session.scalars(sa.select(AlertDelivery))}
        assert rows["poll.failed"].attempts >= 4 and rows["poll.failed"].status == "delivered"
        assert rows["poll.failed"].last_error is None
        poll_alert = session.scalars(sa.select(Alert).where(Alert.kind == "poll.failed")).one()
        assert poll_alert.attempts == rows["poll.failed"].attempts
        assert json.dumps(poll_alert.payload)  # evidence is stored as JSON
        assert poll_alert.payload["threshold"] == 3
