from __future__ import annotations

import sqlalchemy as sa

from monitor.alerts import change_alert, drift_alerts, poll_failure_alert, run_failed_alert
from monitor.db import Alert, ChangeEvent, Comparison, Database, Poll, ProbeSuite, Run, WatchedModel, open_database


def _db(sqlite_url: str) -> tuple[Database, int]:
    db = open_database(sqlite_url)
    with db.session() as session:
        model = WatchedModel(repo_id="org/model")
        session.add(model)
        session.flush()
        return db, model.id


def test_change_events_become_one_alert_each_with_security_kinds_high(sqlite_url: str) -> None:
    db, model_id = _db(sqlite_url)
    with db.session() as session:
        events = [
            ChangeEvent(model_id=model_id, from_sha=None, to_sha="a" * 40, kinds=["first_seen"]),
            ChangeEvent(model_id=model_id, from_sha="a" * 40, to_sha="b" * 40, kinds=["docs_only"]),
            ChangeEvent(model_id=model_id, from_sha="b" * 40, to_sha="c" * 40, kinds=["weights_changed"], silent=True),
            ChangeEvent(
                model_id=model_id,
                from_sha="c" * 40,
                to_sha="d" * 40,
                kinds=["config_changed", "remote_code_changed"],
            ),
            ChangeEvent(model_id=model_id, from_sha="x" * 40, to_sha="e" * 40, kinds=["history_rewritten"]),
        ]
        session.add_all(events)
        session.flush()
        made = [change_alert(session, event, repo_id="org/model") for event in events]
        again = [change_alert(session, event, repo_id="org/model") for event in events]
    assert made[0] is None  # a first sighting is not news
    assert [(a.kind, a.severity) for a in made[1:] if a] == [
        ("hub.docs_only", "low"),
        ("hub.weights_changed", "medium"),
        ("hub.remote_code_changed", "high"),
        ("hub.history_rewritten", "high"),
    ]
    assert all(a is None for a in again)
    assert made[2] is not None and "silent" in made[2].title and made[2].payload["silent"] is True


def test_a_change_alert_carries_the_file_list_but_not_the_files_text(sqlite_url: str) -> None:
    db, model_id = _db(sqlite_url)
    details = {
        "modified": ["chat_template.jinja"],
        "file_contents": {"chat_template.jinja": {"before": "a" * 5000, "after": "b" * 5000}},
    }
    with db.session() as session:
        event = ChangeEvent(
            model_id=model_id, from_sha="a" * 40, to_sha="b" * 40, kinds=["chat_template_changed"], details=details
        )
        session.add(event)
        session.flush()
        alert = change_alert(session, event, repo_id="org/model")
        assert alert is not None
        assert alert.payload["details"] == {"modified": ["chat_template.jinja"]}
        assert "file_contents" in event.details, "the database keeps the text for the dashboard"


def test_poll_failed_once_per_streak_after_threshold(sqlite_url: str) -> None:
    db, model_id = _db(sqlite_url)

    def poll(ok: bool) -> Alert | None:
        with db.session() as session:
            model = session.get(WatchedModel, model_id)
            assert model is not None
            session.add(Poll(model_id=model_id, ok=ok, error=None if ok else "500 Server Error"))
            model.consecutive_poll_failures = 0 if ok else model.consecutive_poll_failures + 1
            model.last_poll_error = None if ok else "500 Server Error"
            session.flush()
            return poll_failure_alert(session, model, threshold=3)

    outcomes = [poll(ok) for ok in [True, False, False, False, False, False, True, False, False, False]]
    raised = [index for index, alert in enumerate(outcomes) if alert is not None]
    assert raised == [3, 9]  # third failure of each streak, never again within the streak
    with db.session() as session:
        alerts = session.scalars(sa.select(Alert)).all()
        assert {a.kind for a in alerts} == {"poll.failed"}
        assert alerts[0].payload["last_error"] == "500 Server Error"


def test_failed_run_and_drift_alerts(sqlite_url: str) -> None:
    db, model_id = _db(sqlite_url)
    with db.session() as session:
        suite = ProbeSuite(name="identity", content_hash="h" * 64, content={})
        session.add(suite)
        session.flush()
        run = Run(
            model_id=model_id,
            revision_sha="b" * 40,
            suite_id=suite.id,
            engine="transformers",
            sampling_hash="s",
            status="failed",
            error="worker died (exit -9)",
        )
        comparison = Comparison(
            model_id=model_id,
            suite_hash="h" * 64,
            baseline_sha="a" * 40,
            candidate_sha="b" * 40,
            drift=True,
            severity="major",
            report={
                "metrics": [
                    {"name": "claim_rate[openai]", "significant": True, "p_value": 0.001},
                    {"name": "think_present_rate", "significant": True},
                    {"name": "accuracy", "significant": False},
                ],
                "notes": [],
            },
        )
        quiet = Comparison(
            model_id=model_id,
            suite_hash="h" * 64,
            baseline_sha="b" * 40,
            candidate_sha="c" * 40,
            drift=False,
            report={"metrics": []},
        )
        session.add_all([run, comparison, quiet])
        session.flush()
        failed = run_failed_alert(session, run, repo_id="org/model", suite="identity")
        drift = drift_alerts(session, comparison, repo_id="org/model")
        assert drift_alerts(session, comparison, repo_id="org/model") == []
        assert drift_alerts(session, quiet, repo_id="org/model") == []
    assert failed is not None and failed.payload["error"] == "worker died (exit -9)"
    assert sorted((a.kind, a.severity) for a in drift) == [("drift.format", "high"), ("drift.identity", "high")]


def test_drift_metric_names_map_to_families() -> None:
    from monitor.alerts import drift_family

    names = {
        "claim_rate:openai": "identity",
        "expected_identity_rate": "identity",
        "accuracy": "reasoning",
        "answer_mismatch_rate": "reasoning",
        "greedy_exact_match_rate": "distribution",
        "embedding_shift": "distribution",
        "think_present_rate": "format",
        "truncation_rate": "format",
        "language_mismatch_rate": "format",
        "answer_chars": "format",
    }
    assert {name: drift_family({"name": name}) for name in names} == names
    assert drift_family({"name": "whatever", "family": "reasoning"}) == "reasoning"
