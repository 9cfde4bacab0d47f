"""The database URL a Ray task is given (no password) and the one it connects with on its node."""

from __future__ import annotations

import sqlalchemy as sa

from monitor.executors._database import node_url, task_url

SERVICE = "postgresql+psycopg://monitor:s3cret-pw@db.internal:5432/monitor?sslmode=require"


def test_a_task_is_given_the_url_without_its_password() -> None:
    given = task_url(sa.engine.make_url(SERVICE))
    assert "s3cret-pw" not in given
    assert given == "postgresql+psycopg://monitor@db.internal:5432/monitor?sslmode=require"
    assert task_url("postgresql://monitor@db.internal/monitor") == "postgresql://monitor@db.internal/monitor"


def test_the_node_lends_its_password_only_for_the_same_database_login() -> None:
    given = task_url(SERVICE)
    # The node's own setting names the same login (another driver spelling, the default port left out).
    same = node_url(given, "postgresql://monitor:node-pw@db.internal/monitor")
    assert sa.engine.make_url(same).password == "node-pw"
    assert same.startswith("postgresql+psycopg://monitor:node-pw@db.internal:5432/monitor")
    for other in (
        "postgresql://monitor:node-pw@db.internal/other",  # another database
        "postgresql://reader:node-pw@db.internal/monitor",  # another user
        "postgresql://monitor:node-pw@db2.internal/monitor",  # another server
        "postgresql://monitor@db.internal/monitor",  # no password to lend
        "sqlite:///drift-monitor.db",  # the settings' default
        None,
    ):
        assert node_url(given, other) == given, other  # libpq's PGPASSWORD / ~/.pgpass decide


def test_a_url_that_carries_a_password_is_used_as_it_is() -> None:
    assert node_url(SERVICE, "postgresql://monitor:node-pw@db.internal/monitor") == SERVICE
