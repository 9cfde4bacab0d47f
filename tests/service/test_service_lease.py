from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
import sqlalchemy as sa

from monitor.db import Database, ServiceLease, utcnow
from monitor.errors import ServiceError
from monitor.service import LEASE_NAME, acquire_lease, lease_owner, release_lease, renew_lease


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


def test_a_lease_held_by_a_dead_local_process_is_taken_over_at_once(sqlite_url: str) -> None:
    from monitor.db import open_database

    db = open_database(sqlite_url)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    host = lease_owner().split(":")[0]
    ghost = f"{host}:{pid}:deadbeef"
    acquire_lease(db, ghost, ttl_s=3600)
    mine = lease_owner()
    acquire_lease(db, mine, ttl_s=60)
    with db.session() as session:
        assert session.scalars(sa.select(ServiceLease.owner)).one() == mine
    # A live holder on another host is never presumed dead.
    release_lease(db, mine)
    acquire_lease(db, f"elsewhere:{pid}:cafe", ttl_s=3600)
    with pytest.raises(ServiceError, match="elsewhere"):
        acquire_lease(db, mine, ttl_s=60)
