"""Alert outbox benchmark: what exactly-once bookkeeping costs next to plain inserts and plain sends.

Run: ``.venv/bin/python -m tests.benchmarks.bench_alerts [--alerts N] [--postgres URL]``

Rows, each next to a baseline measured in the same process on the same database:

- ``raise_alert`` (INSERT ... ON CONFLICT DO NOTHING RETURNING, one transaction per alert, as an event
  would) against a plain ORM ``session.add(Alert)`` per transaction;
- raising the same alerts again (all duplicates: no rows, no errors) against the same plain insert;
- ``deliver_pending`` to a JSON-lines file channel (route, then claim -> send -> mark per delivery: three
  short transactions) against appending the same messages to a file with fsync (the send alone).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from monitor.alerts import AlertMessage, DeliveryPolicy, FileChannel, deliver_pending, raise_alert
from monitor.db import Alert, Database, WatchedModel, open_database, utcnow


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def measure(db: Database, n: int, workdir: Path, label: str) -> list[tuple[str, float, float]]:
    with db.session() as session:
        model = WatchedModel(repo_id=f"bench/{label}")
        session.add(model)
        session.flush()
        model_id = model.id

    def plain_inserts(prefix: str) -> None:
        for index in range(n):
            with db.session() as session:
                session.add(
                    Alert(
                        kind="hub.weights_changed",
                        severity="medium",
                        dedup_key=f"{prefix}{index}",
                        model_id=model_id,
                        title="t",
                        payload={"n": index},
                    )
                )

    def outbox_inserts() -> None:
        for index in range(n):
            with db.session() as session:
                raise_alert(
                    session,
                    kind="hub.weights_changed",
                    severity="medium",
                    dedup_key=f"outbox{index}",
                    model_id=model_id,
                    title="t",
                    payload={"n": index},
                )

    base_insert = timed(lambda: plain_inserts("plain"))
    outbox = timed(outbox_inserts)
    duplicates = timed(outbox_inserts)
    # Only the outbox alerts are delivered; the plain rows are marked out of the way first.
    with db.session() as session:
        session.query(Alert).filter(Alert.dedup_key.like("plain%")).update({"status": "bench"})
    channel = FileChannel("file", workdir / f"{label}-alerts.jsonl")
    deliver = timed(lambda: deliver_pending(db, [channel], policy=DeliveryPolicy()))
    messages = [
        AlertMessage(index, "hub.weights_changed", "medium", "t", "bench", utcnow(), f"k{index}", {"n": index})
        for index in range(n)
    ]
    plain_file = workdir / f"{label}-plain.jsonl"

    def plain_sends() -> None:
        for message in messages:
            with plain_file.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(message.to_dict(), default=str) + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    base_send = timed(plain_sends)
    delivered = len((workdir / f"{label}-alerts.jsonl").read_text().splitlines())
    assert delivered == n, f"{delivered} of {n} delivered"
    return [
        (f"{label}: raise_alert, one transaction each", outbox, base_insert),
        (f"{label}: raise_alert of duplicates (no-ops)", duplicates, base_insert),
        (f"{label}: deliver_pending to a file channel", deliver, base_send),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--postgres", default=os.environ.get("DRIFT_MONITOR_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = open_database(f"sqlite:///{workdir / 'bench.db'}")
        rows += measure(db, args.alerts, workdir, "sqlite")
        db.dispose()
        if args.postgres:
            import uuid

            import sqlalchemy as sa

            admin_url = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
            admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
            name = f"dm_bench_alerts_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
                db = open_database(url)
                rows += measure(db, args.alerts, workdir, "postgresql")
                db.dispose()
            finally:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"{args.alerts} alerts; baselines: plain ORM insert per transaction / plain fsynced file append")
    print(f"{'measurement':<48} {'ms/alert':>9} {'baseline':>9} {'x baseline':>10}")
    for name, seconds, baseline in rows:
        per, base = 1000 * seconds / args.alerts, 1000 * baseline / args.alerts
        print(f"{name:<48} {per:>9.2f} {base:>9.2f} {seconds / baseline:>10.2f}")


if __name__ == "__main__":
    main()
