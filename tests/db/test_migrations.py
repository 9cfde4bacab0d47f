from __future__ import annotations

import sqlalchemy as sa

from monitor.db import (
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
