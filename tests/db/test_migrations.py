from __future__ import annotations

import sqlalchemy as sa

from monitor.db import (
    SCHEMA_HEAD,
    ProbeSuite,
    Response,
    Run,
    WatchedModel,
    current_revision,
    head_revision,
    make_engine,
    open_database,
    upgrade,
)


def test_migrates_from_empty_to_head(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(sa.inspect(engine).get_table_names())
    assert {"watched_models", "revisions", "runs", "responses", "labels", "alerts", "comparisons"} <= tables
    engine.dispose()


def test_schema_head_names_the_newest_migration_and_an_old_database_is_upgraded(sqlite_url: str) -> None:
    # open_database trusts SCHEMA_HEAD to skip Alembic on an up-to-date database: it must be the scripts' head.
    assert head_revision() == SCHEMA_HEAD, "a new migration must move monitor.db.SCHEMA_HEAD to its revision id"
    engine = make_engine(sqlite_url)
    upgrade(engine, "0002_dashboard")
    assert current_revision(engine) == "0002_dashboard"
    engine.dispose()
    db = open_database(sqlite_url)
    assert current_revision(db.engine) == SCHEMA_HEAD
    db.dispose()


def test_open_database_upgrades_and_enforces_uniqueness(db_url: str) -> None:
    db = open_database(db_url)
    with db.session() as session:
        model = WatchedModel(repo_id="org/model")
        suite = ProbeSuite(name="identity", content_hash="h" * 64, content={"probes": []})
        session.add_all([model, suite])
        session.flush()
        run = Run(model_id=model.id, revision_sha="abc", suite_id=suite.id, engine="transformers", sampling_hash="s")
        session.add(run)
        session.flush()
        session.add(Response(run_id=run.id, probe_id="p", sample_index=0, category="identity", prompt=[], raw_text="a"))
    try:
        with db.session() as session:
            session.add(
                Response(run_id=run.id, probe_id="p", sample_index=0, category="identity", prompt=[], raw_text="b")
            )
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("duplicate (run, probe, sample) was accepted")
    with db.session() as session:
        stored = session.scalars(sa.select(Response)).all()
        assert [r.raw_text for r in stored] == ["a"]
        assert stored[0].created_at.tzinfo is not None
    db.dispose()


def test_sqlite_uses_wal_and_foreign_keys(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()



def test_0003_rekeys_hub_alerts_so_the_sweep_does_not_raise_them_again(db_url: str) -> None:
    from monitor.db import Alert, ChangeEvent, Database
    from monitor.pipeline._alerting import raise_pending_alerts

    engine = make_engine(db_url)
    upgrade(engine, "0003_i15_run_tasks")  # the revision before 0003_i12; its tables match the models
    db = Database(engine)
    with db.session() as session:
        model = WatchedModel(repo_id="org/m")
        session.add(model)
        session.flush()
        event = ChangeEvent(model_id=model.id, from_sha="a", to_sha="b", kinds=["weights_changed"])
        session.add(event)
        session.flush()
        model_id, event_id = model.id, event.id
        session.add(
            Alert(
                kind="hub.weights_changed",
                severity="medium",
                dedup_key=f"hub:{model_id}:a:b",  # the key before 0003
                model_id=model_id,
                title="t",
                payload={"change_event_id": event_id},
            )
        )
    upgrade(engine)
    with db.session() as session:
        assert session.scalars(sa.select(Alert.dedup_key)).all() == [f"hub.event:{event_id}"]
        session.add(ChangeEvent(model_id=model_id, from_sha="a", to_sha="b", kinds=["weights_changed"]))
    # The old event keeps its one alert; the repeated transition (a row of its own now) gets its own.
    assert raise_pending_alerts(db, poll_failure_threshold=3) == 1
    db.dispose()
