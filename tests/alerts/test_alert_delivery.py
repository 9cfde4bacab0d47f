from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.alerts import (
    AlertMessage,
    AppriseChannel,
    ConsoleChannel,
    DeliveryPolicy,
    FileChannel,
    build_channel,
    build_channels,
    deliver_pending,
    raise_alert,
    send_test,
)
from monitor.config import ChannelConfig
from monitor.db import Alert, AlertDelivery, Database, WatchedModel, open_database, utcnow
from monitor.errors import AlertError
from tests.alerts._loopback import HttpReceiver, SmtpReceiver

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
POLICY = DeliveryPolicy(max_attempts=4, backoff_base_s=10, backoff_max_s=25, claim_timeout_s=60)


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


def _alerts(db: Database, *severities: str) -> list[int]:
    ids = []
    with db.session() as session:
        model = session.scalar(sa.select(WatchedModel)) or WatchedModel(repo_id="org/model")
        session.add(model)
        session.flush()
        start = session.scalar(sa.select(sa.func.count()).select_from(Alert)) or 0
        for index, severity in enumerate(severities, start=start):
            alert = raise_alert(
                session,
                kind="hub.weights_changed",
                severity=severity,  # type: ignore[arg-type]
                dedup_key=f"k{index}",
                model_id=model.id,
                title=f"alert {index}",
                payload={"to_sha": "abc", "n": index},
            )
            assert alert is not None
            ids.append(alert.id)
    return ids


def test_email_and_json_webhook_each_get_every_alert_once(
    database: Database, smtp: SmtpReceiver, http: HttpReceiver
) -> None:
    # apprise spaces two e-mails 5.5 s apart by default (provider politeness); not needed on loopback.
    channels = [AppriseChannel("mail", smtp.url, min_interval_s=0), AppriseChannel("hook", http.url)]
    _alerts(database, "low", "high")
    stats = deliver_pending(database, channels, policy=POLICY)
    assert (stats.sent, stats.failed, stats.pending) == (4, 0, 0)
    assert sorted(smtp.subjects()) == [
        "[drift-monitor] HIGH hub.weights_changed: alert 1",
        "[drift-monitor] LOW hub.weights_changed: alert 0",
    ]
    assert sorted(post["title"] for post in http.posts) == sorted(smtp.subjects())
    assert {post["type"] for post in http.posts} == {"info", "failure"}
    assert '"to_sha": "abc"' in http.posts[0]["message"]
    # A second pass (or a restarted service) sends nothing again.
    assert deliver_pending(database, channels, policy=POLICY).sent == 0
    assert len(smtp.inbox) == 2 and len(http.posts) == 2
    with database.session() as session:
        assert set(session.scalars(sa.select(Alert.status))) == {"delivered"}
        rows = session.scalars(sa.select(AlertDelivery)).all()
        assert {(row.status, row.attempts) for row in rows} == {("delivered", 1)}


def test_smtp_down_then_up_is_delivered_after_recovery_with_attempts_recorded(
    sqlite_url: str, smtp: SmtpReceiver
) -> None:
    db = open_database(sqlite_url)
    channels = [AppriseChannel("mail", smtp.url, min_interval_s=0)]
    [alert_id] = _alerts(db, "high")
    smtp.stop()
    first = deliver_pending(db, channels, now=T0, policy=POLICY)
    assert (first.sent, first.failed) == (0, 1)
    assert "127.0.0.1" in first.errors[0]
    # Before the backoff is over nothing is tried; after it, another attempt (still down), with doubled delay.
    assert deliver_pending(db, channels, now=T0 + dt.timedelta(seconds=9), policy=POLICY).failed == 0
    assert deliver_pending(db, channels, now=T0 + dt.timedelta(seconds=10), policy=POLICY).failed == 1
    with db.session() as session:
        row = session.scalars(sa.select(AlertDelivery)).one()
        assert row.attempts == 2 and row.status == "pending"
        assert row.next_attempt_at == T0 + dt.timedelta(seconds=10 + 20)
    smtp.start()
    stats = deliver_pending(db, channels, now=T0 + dt.timedelta(seconds=30), policy=POLICY)
    assert stats.sent == 1
    assert smtp.subjects() == ["[drift-monitor] HIGH hub.weights_changed: alert 0"]
    with db.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        assert (alert.status, alert.attempts, alert.last_error) == ("delivered", 3, None)
        assert alert.delivered_at == T0 + dt.timedelta(seconds=30)


def test_gives_up_after_max_attempts_with_capped_backoff(sqlite_url: str, http: HttpReceiver) -> None:
    db = open_database(sqlite_url)
    http.fail_with = 500
    channels = [AppriseChannel("hook", http.url)]
    _alerts(db, "medium")
    now = T0
    delays = []
    for _ in range(POLICY.max_attempts):
        deliver_pending(db, channels, now=now, policy=POLICY)
        with db.session() as session:
            row = session.scalars(sa.select(AlertDelivery)).one()
        if row.next_attempt_at is not None:
            delays.append((row.next_attempt_at - now).total_seconds())
            now = row.next_attempt_at
    assert delays == [10, 20, 25]
    with db.session() as session:
        alert = session.scalars(sa.select(Alert)).one()
        assert (alert.status, alert.attempts) == ("failed", 4)
        assert alert.last_error is not None and "500" in alert.last_error, alert.last_error
    assert deliver_pending(db, channels, now=now + dt.timedelta(days=1), policy=POLICY).failed == 0


def test_min_severity_filters_per_channel(sqlite_url: str, tmp_path: Path) -> None:
    db = open_database(sqlite_url)
    everything = FileChannel("all", tmp_path / "all.jsonl")
    urgent = FileChannel("urgent", tmp_path / "urgent.jsonl", min_severity="high")
    _alerts(db, "low", "medium", "high")
    deliver_pending(db, [everything, urgent], policy=POLICY)
    lines = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert [line["severity"] for line in lines] == ["low", "medium", "high"]
    assert [json.loads(line)["severity"] for line in (tmp_path / "urgent.jsonl").read_text().splitlines()] == ["high"]
    with db.session() as session:
        assert set(session.scalars(sa.select(Alert.status))) == {"delivered"}
    # Alerts that no channel wants are marked as such, not left pending forever.
    _alerts(db, "low")
    stats = deliver_pending(db, [urgent], policy=POLICY)
    assert (stats.unrouted, stats.pending) == (1, 0)


def test_a_stale_claim_is_resent_but_a_delivered_row_never(sqlite_url: str, tmp_path: Path) -> None:
    """A sender killed between send and mark leaves `sending`: resent after the claim deadline (at-least-once)."""
    db = open_database(sqlite_url)
    channel = FileChannel("file", tmp_path / "alerts.jsonl")
    first, second = _alerts(db, "high", "high")
    deliver_pending(db, [channel], now=T0, policy=POLICY)
    # Play the crash: the second alert's row claimed, then the process died before the mark.
    with db.session() as session:
        row = session.scalars(sa.select(AlertDelivery).where(AlertDelivery.alert_id == second)).one()
        row.status, row.next_attempt_at, row.delivered_at = "sending", T0 + dt.timedelta(seconds=60), None
        alert = session.get(Alert, second)
        assert alert is not None
        alert.status = "pending"
    assert deliver_pending(db, [channel], now=T0 + dt.timedelta(seconds=30), policy=POLICY).sent == 0
    assert deliver_pending(db, [channel], now=T0 + dt.timedelta(seconds=61), policy=POLICY).sent == 1
    ids = [json.loads(line)["alert_id"] for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert ids == [first, second, second]  # the first alert, delivered before the "crash", was not resent


def test_concurrent_passes_never_send_twice(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    _alerts(database, *["medium"] * 12)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            deliver_pending(database, [FileChannel("file", path)], policy=POLICY)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = [json.loads(line)["alert_id"] for line in path.read_text().splitlines()]
    assert len(ids) == 12 and len(set(ids)) == 12


def test_no_channels_leaves_alerts_in_the_outbox(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    _alerts(db, "high")
    assert deliver_pending(db, [], policy=POLICY).pending == 1


def test_channel_urls_and_test_message(tmp_path: Path, http: HttpReceiver, capsys: pytest.CaptureFixture[str]) -> None:
    assert isinstance(build_channel(ChannelConfig(name="c", url="console://")), ConsoleChannel)
    relative = build_channel(ChannelConfig(name="f", url="file:alerts.jsonl"), base_dir=tmp_path)
    assert isinstance(relative, FileChannel) and relative.path == tmp_path / "alerts.jsonl"
    absolute = build_channel(ChannelConfig(name="f", url=f"file://{tmp_path}/x/a.jsonl"))
    assert isinstance(absolute, FileChannel) and absolute.path == tmp_path / "x" / "a.jsonl"
    with pytest.raises(AlertError, match=r"apprise cannot use the URL nosuchscheme://\.\.\."):
        build_channel(ChannelConfig(name="bad", url="nosuchscheme://secret-token@host"))
    with pytest.raises(AlertError, match="used twice"):
        build_channels([ChannelConfig(name="a", url="console://"), ChannelConfig(name="a", url="console://")])
    down = AppriseChannel("down", "json://127.0.0.1:9/hook")
    results = send_test(
        [build_channel(ChannelConfig(name="console", url="console://")), AppriseChannel("hook", http.url), down]
    )
    assert results["console"] is None and results["hook"] is None
    assert results["down"] is not None and "down" in results["down"]
    assert "test message from drift-monitor" in capsys.readouterr().out
    assert http.posts[0]["title"].startswith("[drift-monitor] LOW test")


def test_console_line_and_message_body_stay_plain() -> None:
    stream = io.StringIO()
    message = AlertMessage(
        alert_id=7,
        kind="drift.identity",
        severity="high",
        title="org/m: identity drift",
        repo_id="org/m",
        created_at=utcnow(),
        dedup_key="k",
        payload={"example": "<b>I am ChatGPT</b>\n"},
    )
    ConsoleChannel("c", stream=stream).send(message)
    assert stream.getvalue() == "ALERT #7 [high] drift.identity: org/m: identity drift\n"
    assert "<b>I am ChatGPT</b>" in message.body()
    assert "drift-monitor alerts ack 7 --by NAME" in message.body()


def test_a_removed_channel_does_not_hold_alerts_pending_forever(sqlite_url: str, tmp_path: Path) -> None:
    db = open_database(sqlite_url)
    kept = FileChannel("kept", tmp_path / "kept.jsonl")
    first, second = _alerts(db, "high", "high")
    with db.session() as session:  # the first alert reached "old" but not yet "kept"; the second neither
        for alert_id in (first, second):
            session.add(AlertDelivery(alert_id=alert_id, channel="old", status="pending"))
    deliver_pending(db, [kept], policy=POLICY)  # "old" was removed from the config
    with db.session() as session:
        statuses = dict(session.execute(sa.select(Alert.id, Alert.status)).all())
        dropped = session.scalars(sa.select(AlertDelivery).where(AlertDelivery.channel == "old")).all()
    assert statuses == {first: "delivered", second: "delivered"}
    assert {row.status for row in dropped} == {"dropped"} and "no longer configured" in (dropped[0].last_error or "")
    assert len((tmp_path / "kept.jsonl").read_text().splitlines()) == 2


def test_the_config_sets_how_long_a_claim_waits_for_a_dead_sender() -> None:
    from monitor.config import AlertsConfig

    assert DeliveryPolicy.from_config(AlertsConfig()).claim_timeout_s == 300
    assert DeliveryPolicy.from_config(AlertsConfig(claim_timeout_s=5)).claim_timeout_s == 5
