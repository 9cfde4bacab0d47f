"""Pending work is derived from the database: which (revision, suite) pairs still need a run."""

from __future__ import annotations

import datetime as dt

from monitor.config import MonitorConfig
from monitor.db import ChangeEvent, Database, Revision, Run, WatchedModel, open_database, utcnow
from monitor.pipeline import ensure_suite, pending_runs, plan_run, sync_watched_models
from monitor.probes import load_suite

REPO = "org/model"


def _config(**model: object) -> MonitorConfig:
    return MonitorConfig.model_validate(
        {"models": [{"repo": REPO, "suites": ["identity"], "samples": 1, "limit": 2, **model}]}
    )


def _history(db: Database, events: list[tuple[str, list[str]]], tags: dict[str, list[str]] | None = None) -> int:
    with db.session() as session:
        model = session.query(WatchedModel).filter_by(repo_id=REPO).one()
        previous = None
        for seq, (sha, kinds) in enumerate(events, start=1):
            session.add(Revision(model_id=model.id, sha=sha, seq=seq, tags=(tags or {}).get(sha, [])))
            session.add(ChangeEvent(model_id=model.id, from_sha=previous, to_sha=sha, kinds=kinds))
            previous = sha
        model.head_sha = previous
        return model.id


def _run(db: Database, model_id: int, sha: str, status: str, finished_ago: dt.timedelta | None = None) -> None:
    suite = load_suite("identity")
    plan = plan_run(suite, samples=1, limit=2)
    with db.session() as session:
        row = ensure_suite(session, suite)
        session.add(
            Run(
                model_id=model_id,
                revision_sha=sha,
                suite_id=row.id,
                engine="transformers",
                sampling_hash=plan.sampling_hash,
                status=status,
                finished_at=utcnow() - finished_ago if finished_ago else None,
            )
        )


def test_behaviour_changes_and_first_sighting_are_run_docs_and_security_only_are_not(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    config = _config()
    sync_watched_models(db, config)
    model_id = _history(
        db,
        [
            ("a" * 40, ["first_seen"]),
            ("b" * 40, ["docs_only"]),
            ("c" * 40, ["chat_template_changed"]),
            ("d" * 40, ["remote_code_changed"]),
            ("e" * 40, ["weights_changed", "pickle_weights_added"]),
        ],
    )
    assert [p.revision_sha[0] for p in pending_runs(db, model_id, config)] == ["a", "c", "e"]
    _run(db, model_id, "a" * 40, "completed")
    _run(db, model_id, "c" * 40, "failed", finished_ago=dt.timedelta(minutes=5))
    _run(db, model_id, "e" * 40, "interrupted")
    # Completed: done. Failed a moment ago: left alone for now. Interrupted: resumed.
    assert [p.revision_sha[0] for p in pending_runs(db, model_id, config)] == ["e"]
    later = utcnow() + dt.timedelta(hours=2)
    assert [p.revision_sha[0] for p in pending_runs(db, model_id, config, now=later)] == ["c", "e"]
    # Another sampling (here: more probes) is another run.
    assert [p.revision_sha[0] for p in pending_runs(db, model_id, _config(limit=3))] == ["a", "c", "e"]


def test_pinned_baseline_revision_is_run_too(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    config = _config(baseline={"policy": "pinned", "ref": "v1.0"})
    sync_watched_models(db, config)
    model_id = _history(
        db,
        [("a" * 40, ["first_seen"]), ("b" * 40, ["docs_only"]), ("c" * 40, ["weights_changed"])],
        tags={"b" * 40: ["v1.0"]},
    )
    assert [p.revision_sha[0] for p in pending_runs(db, model_id, config)] == ["a", "b", "c"]


def test_sync_keeps_models_added_by_hand(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    with db.session() as session:
        session.add(WatchedModel(repo_id="someone/else"))
    ids = sync_watched_models(db, _config(expect="deepseek"))
    assert len(ids) == 2
    with db.session() as session:
        model = session.query(WatchedModel).filter_by(repo_id=REPO).one()
        assert model.expected_identity == "deepseek" and model.settings["limit"] == 2


def test_pending_and_resume_share_one_run_key_with_engine_options_and_seed(sqlite_url: str) -> None:
    """A run with other engine options (or another seed) is not the run the config asks for."""
    db = open_database(sqlite_url)
    on_cpu = _config(engine={"kind": "transformers", "options": {"device": "cpu"}})
    sync_watched_models(db, on_cpu)
    model_id = _history(db, [("a" * 40, ["first_seen"])])
    _run(db, model_id, "a" * 40, "completed")  # engine options {} (the default)
    assert [p.revision_sha[0] for p in pending_runs(db, model_id, on_cpu)] == ["a"]
    with db.session() as session:
        run = session.query(Run).one()
        run.engine_options = {"device": "cpu"}
        run.seed = 7  # a re-run's seed: not the first run the model owes
    assert [p.revision_sha[0] for p in pending_runs(db, model_id, on_cpu)] == ["a"]
    with db.session() as session:
        session.query(Run).one().seed = 0
    assert pending_runs(db, model_id, on_cpu) == []


def test_a_pinned_baseline_names_a_sha_a_tag_or_a_prefix_of_seven(sqlite_url: str) -> None:
    from monitor.pipeline._compare import pinned_revision

    revisions = [Revision(sha="ab" + "1" * 38, seq=1, tags=["v1"]), Revision(sha="ab" + "2" * 38, seq=2, tags=[])]
    assert pinned_revision(revisions, "v1") is revisions[0]
    assert pinned_revision(revisions, "ab" + "2" * 38) is revisions[1]
    assert pinned_revision(revisions, "ab22222") is revisions[1]
    assert pinned_revision(revisions, "ab2") is None  # too short to name a commit for long
    assert pinned_revision(revisions, "ab11111") is revisions[0]
