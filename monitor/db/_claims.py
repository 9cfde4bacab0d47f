"""Run claims: at most one live process supervises a run's worker, and a dead one's claim is taken over.

A claim is two columns of the run row: ``claimed_by`` (an owner string unique to one process) and
``claim_beat_at`` (the owner's last heartbeat). Taking one is a compare-and-swap on both, so two
processes racing for a run (on SQLite or PostgreSQL) cannot both win; a claim whose heartbeat is
older than ``ttl_s`` belongs to a process that died (a SIGKILLed service: its worker dies with it
within seconds, see monitor/engines/_worker.py) and is taken over. Liveness comes only from the
heartbeat, never from hostname + pid, which containers can share.

Used by the run step around the worker (``monitor.pipeline._run``) and meant for any other executor
that generates a run (a Ray actor): ``with claim_run(db, run_id):`` holds the claim, beats from a
daemon thread every ``beat_every_s`` and releases it on the way out::

    with claim_run(db, run_id) as claim:      # RunClaimedError when a live process holds it
        ...generate...                        # claim.lost is set if someone took it over meanwhile
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from types import TracebackType

import sqlalchemy as sa

from monitor.db._models import Run, utcnow
from monitor.db._session import Database
from monitor.errors import RunClaimedError

__all__ = ["CLAIM_BEAT_EVERY_S", "CLAIM_TTL_S", "RunClaim", "claim_holder", "claim_owner", "claim_run"]

CLAIM_TTL_S = 30.0  # a claim not renewed for this long is stale (its holder is gone)
CLAIM_BEAT_EVERY_S = 5.0
_PROCESS_TOKEN = uuid.uuid4().hex[:12]


def claim_owner() -> str:
    """The owner string of this process: readable (host, pid) and unique (a random token per process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_TOKEN}"


def _stale(beat: dt.datetime | None, now: dt.datetime, ttl_s: float) -> bool:
    return beat is None or now - beat > dt.timedelta(seconds=ttl_s)


def claim_holder(
    db: Database, run_id: int, *, ttl_s: float = CLAIM_TTL_S, now: dt.datetime | None = None
) -> str | None:
    """The owner holding a live claim on the run, or None (unclaimed, released or stale)."""
    now = now or utcnow()
    with db.session() as session:
        row = session.execute(sa.select(Run.claimed_by, Run.claim_beat_at).where(Run.id == run_id)).first()
    if row is None or row.claimed_by is None or _stale(row.claim_beat_at, now, ttl_s):
        return None
    return str(row.claimed_by)


class RunClaim:
    """A held claim: a context manager that beats from a thread while the body runs, then releases."""

    def __init__(self, db: Database, run_id: int, owner: str, *, beat_every_s: float, taken_over: str | None) -> None:
        self.db, self.run_id, self.owner = db, run_id, owner
        self.taken_over = taken_over  # the stale owner this claim replaced, if any
        self.lost = threading.Event()  # set when another process took the claim (this one stopped beating)
        self._beat_every_s = beat_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        """Renew the heartbeat; False (and ``lost`` set) when the claim is no longer this owner's."""
        with self.db.session() as session:
            result = session.execute(
                sa.update(Run)
                .where(Run.id == self.run_id, Run.claimed_by == self.owner)
                .values(claim_beat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            ours = bool(result.rowcount == 1)  # type: ignore[attr-defined]
        if not ours:
            self.lost.set()
        return ours

    def release(self) -> None:
        """Give the claim back (only if still ours), so the next process need not wait for it to go stale."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._beat_every_s + 5)
        with self.db.session() as session:
            session.execute(
                sa.update(Run)
                .where(Run.id == self.run_id, Run.claimed_by == self.owner)
                .values(claimed_by=None, claim_beat_at=None)
                .execution_options(synchronize_session=False)
            )

    def __enter__(self) -> RunClaim:
        def beat_until_stopped() -> None:
            while not self._stop.wait(self._beat_every_s):
                try:
                    if not self.beat():
                        return
                except sa.exc.SQLAlchemyError:
                    continue  # a database hiccup: the claim goes stale only if it lasts ttl_s

        self._thread = threading.Thread(target=beat_until_stopped, name=f"run-{self.run_id}-claim", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def claim_run(
    db: Database,
    run_id: int,
    *,
    owner: str | None = None,
    ttl_s: float = CLAIM_TTL_S,
    beat_every_s: float = CLAIM_BEAT_EVERY_S,
) -> RunClaim:
    """Claim the run for ``owner`` (this process by default); raises ``RunClaimedError`` on a live claim.

    Unclaimed, released, stale and already-own claims are taken; the swap only succeeds if nobody changed
    the claim since it was read, so of two racing processes exactly one gets it.
    """
    owner = owner or claim_owner()
    now = utcnow()
    with db.session() as session:
        row = session.execute(sa.select(Run.claimed_by, Run.claim_beat_at).where(Run.id == run_id)).first()
        if row is None:
            raise RunClaimedError(f"run {run_id} does not exist (deleted meanwhile?)")
        holder, beat = row.claimed_by, row.claim_beat_at
        if holder not in (None, owner) and not _stale(beat, now, ttl_s):
            age = (now - beat).total_seconds() if beat else 0.0
            raise RunClaimedError(
                f"run {run_id} is being generated by {holder} (heartbeat {age:.0f} s ago); it is left to that "
                f"process, or taken over once its heartbeat is {ttl_s:.0f} s old"
            )
        same_claim = [
            Run.claimed_by.is_(None) if holder is None else Run.claimed_by == holder,
            Run.claim_beat_at.is_(None) if beat is None else Run.claim_beat_at == beat,
        ]
        result = session.execute(
            sa.update(Run)
            .where(Run.id == run_id, *same_claim)
            .values(claimed_by=owner, claim_beat_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise RunClaimedError(f"run {run_id} was claimed by another process at the same moment; it is left to it")
    return RunClaim(db, run_id, owner, beat_every_s=beat_every_s, taken_over=holder if holder != owner else None)
