from __future__ import annotations

import pytest
import sqlalchemy as sa

from monitor.alerts import acknowledge, dedup_key, list_alerts, raise_alert, severity_at_least
from monitor.db import Alert, ChangeEvent, Database, WatchedModel
from monitor.errors import AlertError


def _model(db: Database, repo: str = "org/model") -> int:
    with db.session() as session:
        model = WatchedModel(repo_id=repo)
        session.add(model)
        session.flush()
        return model.id


def test_duplicate_dedup_key_adds_no_row_and_keeps_the_transaction_usable(database: Database) -> None:
    model_id = _model(database)
    with database.session() as session:
        first = raise_alert(
            session, kind="run.failed", severity="medium", dedup_key="k1", model_id=model_id, title="t", payload={}
        )
        second = raise_alert(
            session, kind="run.failed", severity="high", dedup_key="k1", model_id=model_id, title="t2", payload={}
        )
        # The caller's transaction is still good after the conflict: it goes on writing.
        session.add(ChangeEvent(model_id=model_id, to_sha="abc", kinds=["docs_only"]))
    assert first is not None and first.id > 0
    assert second is None
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(ChangeEvent)) == 1
        assert session.scalars(sa.select(Alert.title)).one() == "t"


def test_alert_is_rolled_back_with_the_event_that_caused_it(database: Database) -> None:
    model_id = _model(database)
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(ChangeEvent(model_id=model_id, to_sha="abc", kinds=["weights_changed"]))
        raise_alert(
            session,
            kind="hub.weights_changed",
            severity="medium",
            dedup_key="k",
            model_id=model_id,
            title="t",
            payload={"a": 1},
        )
        raise RuntimeError("crash before commit")
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(ChangeEvent)) == 0


def test_acknowledge_records_who_and_refuses_a_second_time(sqlite_url: str) -> None:
    from monitor.db import open_database

    db = open_database(sqlite_url)
    model_id = _model(db)
    with db.session() as session:
        alert = raise_alert(
            session, kind="poll.failed", severity="medium", dedup_key="p", model_id=model_id, title="t", payload={}
        )
        assert alert is not None
        alert_id = alert.id
    with db.session() as session:
        acknowledge(session, alert_id, by="alice", comment="known outage")
    with db.session() as session:
        [(row, repo)] = list_alerts(session)
        assert (row.acknowledged_by, row.ack_comment, repo) == ("alice", "known outage", "org/model")
        assert row.acknowledged_at is not None and row.acknowledged_at.tzinfo is not None
        assert list_alerts(session, unacknowledged=True) == []
    with db.session() as session, pytest.raises(AlertError, match="already acknowledged by alice"):
        acknowledge(session, alert_id, by="bob")
    with db.session() as session, pytest.raises(AlertError, match="does not exist"):
        acknowledge(session, 999, by="bob")


def test_severity_order_and_keys() -> None:
    assert severity_at_least("high", "medium")
    assert severity_at_least("medium", "medium")
    assert not severity_at_least("low", "medium")
    assert dedup_key("hub", 3, None, "abc") == "hub:3:-:abc"


def test_unknown_severity_is_refused(sqlite_url: str) -> None:
    from monitor.db import open_database

    db = open_database(sqlite_url)
    with db.session() as session, pytest.raises(AlertError, match="severity"):
        raise_alert(session, kind="x", severity="urgent", dedup_key="x", model_id=None, title="t", payload={})  # type: ignore[arg-type]
