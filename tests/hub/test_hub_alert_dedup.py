"""No alert lost, none doubled: every distinct hub event raises exactly one alert.

Status events (gone, gated) happen at the head the model already had, and a force-push can revisit a
pair of revisions; each transition is still news. Polls run with the service's alert callbacks, then
the service's catch-up sweep runs, which must find nothing left to raise.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from monitor.db import Alert, Database
from monitor.pipeline import poll_model
from monitor.pipeline._alerting import alert_callbacks, raise_pending_alerts
from tests.hub._hub_server import HubServer
from tests.hub._scenarios import Remote, base_files, watch

MakeRemote = Callable[[str], Remote]


def _poll(db: Database, remote: Remote) -> None:
    on_change, on_failure = alert_callbacks()
    poll_model(db, remote.repo_id, remote.source(), on_change=on_change, on_failure=on_failure)


def _alert_kinds(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(sa.select(Alert.kind).order_by(Alert.id)))


def _no_more_from_the_sweep(db: Database) -> None:
    assert raise_pending_alerts(db, poll_failure_threshold=3) == 0


def test_gone_after_gated_at_the_same_head(database: Database, make_remote: MakeRemote, hub: HubServer) -> None:
    remote = make_remote("hf")
    remote.commit("initial commit", base_files())
    watch(database, remote)
    _poll(database, remote)
    hub.repo(remote.repo_id).access = "gated403"
    _poll(database, remote)
    hub.repo(remote.repo_id).access = "gone"
    _poll(database, remote)
    assert _alert_kinds(database) == ["hub.repo_gated", "hub.repo_gone"]
    _no_more_from_the_sweep(database)


def test_a_second_gone_after_recovery(database: Database, make_remote: MakeRemote, hub: HubServer) -> None:
    remote = make_remote("hf")
    remote.commit("initial commit", base_files())
    watch(database, remote)
    _poll(database, remote)
    for access in ("gone", "gone", "public", "gone"):
        hub.repo(remote.repo_id).access = access
        _poll(database, remote)
    assert _alert_kinds(database) == ["hub.repo_gone", "hub.repo_gone"]  # one per outage, not per poll
    _no_more_from_the_sweep(database)


@pytest.mark.parametrize("kind", ["hf", "git"])
def test_force_push_back_and_forth_raises_every_transition(
    database: Database, make_remote: MakeRemote, kind: str
) -> None:
    remote = make_remote(kind)
    a = remote.commit("initial commit", base_files())
    watch(database, remote)
    _poll(database, remote)
    b = remote.commit("Upload tokenizer", {"tokenizer.json": b'{"model": {"vocab": {"b": 1}}}'})
    _poll(database, remote)  # A -> B
    remote.reset(a)
    _poll(database, remote)  # B -> A (history rewritten)
    remote.reset(b)
    _poll(database, remote)  # A -> B again: a new transition, not the old event
    _poll(database, remote)  # quiet
    assert _alert_kinds(database) == ["hub.tokenizer_changed", "hub.history_rewritten", "hub.tokenizer_changed"]
    _no_more_from_the_sweep(database)
