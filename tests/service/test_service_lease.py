from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from monitor.db import Database, ServiceLease, utcnow
from monitor.errors import ServiceError
from monitor.service import LEASE_NAME, acquire_lease, lease_holder, lease_owner, release_lease, renew_lease


def test_second_owner_is_refused_until_the_lease_expires(database: Database) -> None:
    first, second = lease_owner(), lease_owner()
    t0 = utcnow()
    acquire_lease(database, first, ttl_s=60, now=t0)
    acquire_lease(database, first, ttl_s=60, now=t0)  # re-entrant for the holder
    with pytest.raises(ServiceError, match=f"another drift-monitor service \\({first}\\) is running"):
        acquire_lease(database, second, ttl_s=60, now=t0 + dt.timedelta(seconds=30))
    assert renew_lease(database, first, ttl_s=60)
    # The holder stopped renewing (a hung or partitioned host): after expiry the lease is taken over...
    acquire_lease(database, second, ttl_s=60, now=utcnow() + dt.timedelta(seconds=61))
    # ...and the old holder learns it lost it at its next heartbeat.
    assert not renew_lease(database, first, ttl_s=60)
    release_lease(database, first)  # releasing someone else's lease does nothing
    with database.session() as session:
        assert session.get(ServiceLease, LEASE_NAME) is not None
    release_lease(database, second)
    with database.session() as session:
        assert session.get(ServiceLease, LEASE_NAME) is None


def test_liveness_is_the_heartbeat_not_the_host_and_pid(sqlite_url: str) -> None:
    """Two containers sharing a host name (host networking): the other's PID does not exist here, yet it lives."""
    from monitor.db import open_database

    db = open_database(sqlite_url)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = lease_owner().split(":")[0]
    neighbour = f"{host}:{int(gone.stdout)}:cafe"  # this host's name, a PID that is not ours: still alive
    acquire_lease(db, neighbour, ttl_s=3)
    beating = threading.Event()

    def heartbeat() -> None:
        while not beating.wait(0.3):
            renew_lease(db, neighbour, ttl_s=3)

    thread = threading.Thread(target=heartbeat, daemon=True)
    thread.start()
    mine = lease_owner()
    try:
        with pytest.raises(ServiceError, match="cafe"):
            acquire_lease(db, mine, ttl_s=3)
        started = time.monotonic()
        with pytest.raises(ServiceError, match="cafe"):
            acquire_lease(db, mine, ttl_s=3, wait=True)  # waits, sees the heartbeat move, refuses
        assert time.monotonic() - started < 2.5
        with db.session() as session:
            assert session.scalars(sa.select(ServiceLease.owner)).one() == neighbour
    finally:
        beating.set()
        thread.join()
    # The neighbour was killed: its heartbeat stops, and a waiting start takes over once the lease runs out.
    started = time.monotonic()
    acquire_lease(db, mine, ttl_s=60, wait=True)
    assert time.monotonic() - started < 5
    with db.session() as session:
        assert session.scalars(sa.select(ServiceLease.owner)).one() == mine
    assert lease_holder(db) == mine
    release_lease(db, mine)
    assert lease_holder(db) is None
