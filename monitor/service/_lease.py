"""The service lease: one running service per database, its liveness read from its heartbeat.

The holder renews the lease (``expires_at`` moves forward) from a heartbeat thread every third of its
time to live, at least every 2 seconds. A lease is live while it has not expired; nothing is inferred
from the owner's host name or process id (two containers sharing a host name, or PID namespaces, make
those meaningless).
A starting service that finds a live lease watches it: if the heartbeat moves, the holder is alive
and the start is refused at once, naming it; if it expires unrenewed (the holder was killed or hangs),
the lease is taken over. So a restart after a crash waits at most one time-to-live.

Commands other than ``serve`` (``check``, ``run``, ``webhook``, ``analyse``, ...) never take the lease:
their steps are safe beside a running service (a poll records under a row lock and adds nothing that
another poll recorded first; runs resume by key), and they say on stderr that a service is running.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from monitor._logging import log_event
from monitor.db import Database, ServiceLease, utcnow
from monitor.errors import ServiceError

__all__ = ["LEASE_NAME", "acquire_lease", "lease_holder", "lease_owner", "release_lease", "renew_lease"]

logger = logging.getLogger("monitor.service")

LEASE_NAME = "service"
_WATCH_INTERVAL_S = 0.25


def lease_owner() -> str:
    """``host:pid:nonce``: who holds the lease, readable in the refusal message (never trusted for liveness)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_holder(db: Database, *, now: dt.datetime | None = None) -> str | None:
    """The owner of the live lease (one a service still renews), or None when no service runs."""
    now = now or utcnow()
    with db.session() as session:
        row = session.get(ServiceLease, LEASE_NAME)
        return row.owner if row is not None and row.expires_at > now else None


def _refusal(owner: str, expires: dt.datetime) -> ServiceError:
    return ServiceError(
        f"another drift-monitor service ({owner}) is running on this database (its heartbeat renews the lease; "
        f"valid until {expires.isoformat(timespec='seconds')}); stop it first"
    )


def _take(db: Database, owner: str, *, ttl_s: float, now: dt.datetime) -> tuple[str, dt.datetime] | None:
    """Take the lease if it is free, expired or ours; else return its live (holder, expiry)."""
    expires = now + dt.timedelta(seconds=ttl_s)
    try:
        with db.session() as session:
            row = session.get(ServiceLease, LEASE_NAME, with_for_update=True)
            if row is None:
                session.add(ServiceLease(name=LEASE_NAME, owner=owner, acquired_at=now, expires_at=expires))
                return None
            if row.owner != owner and row.expires_at > now:
                return row.owner, row.expires_at
            taken = session.execute(
                sa.update(ServiceLease)
                .where(ServiceLease.name == LEASE_NAME, ServiceLease.owner == row.owner)
                .values(owner=owner, acquired_at=now, expires_at=expires)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise ServiceError("another drift-monitor service took the lease at the same moment; try again")
            if row.owner != owner:
                log_event(logger, "lease.taken_over", level=logging.WARNING, previous=row.owner)
            return None
    except IntegrityError:
        raise ServiceError("another drift-monitor service started at the same moment on this database") from None


def acquire_lease(
    db: Database, owner: str, *, ttl_s: float, now: dt.datetime | None = None, wait: bool = False
) -> None:
    """Take the service lease, or raise ``ServiceError`` naming the live holder.

    Without ``wait`` a lease that has not expired is refused at once. With ``wait`` (how ``serve``
    starts) the heartbeat decides: a renewal seen while waiting refuses, an expiry takes over.
    """
    held = _take(db, owner, ttl_s=ttl_s, now=now or utcnow())
    if held is None:
        return
    holder, expires = held
    if not wait:
        raise _refusal(holder, expires)
    log_event(logger, "lease.waiting", holder=holder, expires_at=expires.isoformat(timespec="seconds"))
    while True:
        time.sleep(_WATCH_INTERVAL_S)
        held = _take(db, owner, ttl_s=ttl_s, now=utcnow())
        if held is None:
            return
        if held != (holder, expires):  # the holder renewed (or another one took it): it is alive
            raise _refusal(*held)


def renew_lease(db: Database, owner: str, *, ttl_s: float) -> bool:
    """The heartbeat: extend the lease; False when somebody else holds it now (this service must stop)."""
    with db.session() as session:
        result = session.execute(
            sa.update(ServiceLease)
            .where(ServiceLease.name == LEASE_NAME, ServiceLease.owner == owner)
            .values(expires_at=utcnow() + dt.timedelta(seconds=ttl_s))
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


def release_lease(db: Database, owner: str) -> None:
    """Give the lease back (a clean stop), so the next service starts without waiting."""
    with db.session() as session:
        session.execute(sa.delete(ServiceLease).where(ServiceLease.name == LEASE_NAME, ServiceLease.owner == owner))
