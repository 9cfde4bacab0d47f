"""dashboard.queries on SQLite and PostgreSQL: the aggregates agree with a row-by-row count."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from dashboard import queries as q
from monitor.db import Alert, Database, Label, Response, ResponseAnalysis, ReviewerLabel, Run
from monitor.errors import InputError
from tests.dashboard._fill import CLASSIFIER_VERSION, EMBEDDING_MODEL, HOSTILE_TEXT, fill_dashboard_data


@pytest.fixture
def filled(database: Database) -> Iterator[Database]:
    fill_dashboard_data(database)
    yield database
    q.dispose_all()


def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_every_read_runs_and_agrees_with_the_rows(filled: Database) -> None:
    url = _url(filled)
    models = q.models(url)
    assert len(models) == 2 and models["revisions"].tolist() == [4, 2]
    model_id = int(models.iloc[0]["id"])  # deepseek-ai/... sorts first, case-insensitively
    assert models.iloc[0]["head_title"] == "Update tokenizer_config.json"
    polls = q.poll_summary(url)
    assert polls["polls"].tolist() == [6, 6] and sorted(polls["failed_polls"].tolist()) == [1, 2]
    assert q.open_alerts_by_severity(url)["open_alerts"].sum() == 4
    assert q.latest_verdicts(url)["drift"].astype(bool).sum() == 1

    timeline = q.change_timeline(url, model_id)
    assert timeline["seq"].tolist() == [0, 1, 2, 3]
    assert timeline["silent"].tolist() == [False, False, True, True]
    assert timeline["runs"].tolist() == [2, 0, 3, 2]
    revisions = q.revisions_with_runs(url, model_id)
    assert revisions["seq"].tolist() == [0, 2, 3]
    shas = tuple(revisions["revision_sha"])

    with filled.session() as session:
        rows = session.execute(
            sa.select(Run.revision_sha, Response.probe_id, Label.label, ResponseAnalysis.correct)
            .join(Response, Response.run_id == Run.id)
            .join(Label, Label.response_id == Response.id)
            .join(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
            .where(Run.model_id == model_id, Response.category == "identity")
        ).all()
    naive = Counter((sha, label) for sha, _, label, _ in rows)
    rates = q.identity_by_revision(url, model_id, CLASSIFIER_VERSION, "identity")
    assert {(r.revision_sha, r.label): r.k for r in rates.itertuples()} == dict(naive)
    totals = Counter(sha for sha, _, _, _ in rows)
    assert all(r.n == totals[r.revision_sha] for r in rates.itertuples())

    by_probe = q.identity_by_probe(url, model_id, CLASSIFIER_VERSION, shas[-1:], "identity")
    naive_probe = Counter((probe, label) for sha, probe, label, _ in rows if sha == shas[-1])
    assert {(r.probe_id, r.label): r.k for r in by_probe.itertuples()} == dict(naive_probe)
    languages = q.identity_by_language(url, model_id, CLASSIFIER_VERSION, shas, "identity", "language")
    assert languages["k"].sum() == sum(1 for sha, *_ in rows if sha in shas)

    shape = q.format_by_revision(url, model_id)
    with filled.session() as session:
        scored = session.execute(
            sa.select(Run.revision_sha, ResponseAnalysis.correct, ResponseAnalysis.truncated)
            .join(Response, Response.run_id == Run.id)
            .join(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
            .where(Run.model_id == model_id)
        ).all()
    assert shape["n"].sum() == len(scored)
    assert shape["correct"].sum() == sum(1 for _, c, _ in scored if c)
    assert shape["scored"].sum() == sum(1 for _, c, _ in scored if c is not None)
    assert shape["truncated"].sum() == sum(1 for *_, t in scored if t)
    problems = q.accuracy_by_problem(url, model_id, shas[-2:])
    assert problems["n"].sum() == sum(1 for sha, c, _ in scored if sha in shas[-2:] and c is not None)
    histogram = q.length_histogram(url, model_id, shas[-2:], "answer_chars", 50)
    assert (histogram["bin_start"] % 50 == 0).all()
    assert histogram["n"].sum() == sum(1 for sha, *_ in scored if sha in shas[-2:])

    comparisons = q.comparisons(url, model_id)
    report = q.comparison(url, int(comparisons.iloc[0]["id"]))
    assert report is not None and report["drift"] and report["report"]["severity"] == "major"
    baseline, candidate = tuple(report["baseline_run_ids"]), tuple(report["candidate_run_ids"])
    changes = q.probe_changes(url, baseline, candidate, CLASSIFIER_VERSION)
    assert set(changes["side"]) == {"baseline", "candidate"}
    sample = q.probe_responses(url, candidate, "who-are-you.en", CLASSIFIER_VERSION, limit=2)
    assert HOSTILE_TEXT in sample.iloc[0]["raw_text"]
    assert q.embedding_models(url, baseline + candidate)["model_name"].tolist() == [EMBEDDING_MODEL]
    points = q.embedding_points(url, baseline + candidate, EMBEDDING_MODEL, CLASSIFIER_VERSION, limit=20)
    assert len(points) == 20 and points["response_id"].is_unique
    assert all(len(blob) == 4 * dim for blob, dim in zip(points["vector"], points["dim"], strict=True))
    assert q.run_ids(url, model_id, shas[1]) == tuple(sorted(baseline))

    assert q.alert_facets(url)["alerts"].sum() == 5
    assert len(q.alerts(url, open_only=True)) == 4
    assert set(q.alerts(url, severities=("high",))["severity"]) == {"high"}
    payload, deliveries = q.alert_deliveries(url, 1)
    assert payload["kind"] and len(deliveries) == 2

    assert q.review_count(url, model_id, CLASSIFIER_VERSION, label="openai") == sum(
        1 for _, _, label, _ in rows if label == "openai"
    )
    page = q.review_page(url, model_id, CLASSIFIER_VERSION, label="openai", limit=5)
    assert len(page) == 5 and set(page["label"]) == {"openai"} and page["id"].is_monotonic_decreasing
    detail = q.response_detail(url, int(page.iloc[0]["id"]))
    assert detail is not None and detail["repo_id"].startswith("deepseek")
    machine, human = q.response_labels(url, int(page.iloc[0]["id"]))
    assert machine["classifier_version"].tolist() == [CLASSIFIER_VERSION] and human.empty
    assert q.label_choices(url)[:3] == ["deepseek", "qwen", "openai"]


def test_acknowledge_once_and_only_with_a_name(filled: Database) -> None:
    url = _url(filled)
    with pytest.raises(InputError, match="your name"):
        q.acknowledge_alert(url, 1, by="  ", comment="x")
    assert q.acknowledge_alert(url, 1, by="Ada", comment="  seen  ") is True
    assert q.acknowledge_alert(url, 1, by="Bob", comment=None) is False
    with filled.session() as session:
        alert = session.get(Alert, 1)
        assert alert is not None
        assert (alert.acknowledged_by, alert.ack_comment) == ("Ada", "seen")
        assert alert.acknowledged_at is not None and alert.acknowledged_at.tzinfo is not None


def test_reviewer_label_is_a_row_of_its_own(filled: Database) -> None:
    url = _url(filled)
    with filled.session() as session:
        response_id = session.scalar(sa.select(Response.id).order_by(Response.id).limit(1))
        before = session.scalar(sa.select(sa.func.count()).select_from(Label))
    assert response_id is not None
    new_id = q.add_reviewer_label(url, response_id, label="qwen", reviewer="Grace", comment="")
    with filled.session() as session:
        row = session.get(ReviewerLabel, new_id)
        assert row is not None and (row.response_id, row.label, row.reviewer, row.comment) == (
            response_id,
            "qwen",
            "Grace",
            None,
        )
        assert session.scalar(sa.select(sa.func.count()).select_from(Label)) == before, "model labels untouched"
    with pytest.raises(InputError, match="does not exist"):
        q.add_reviewer_label(url, 10**9, label="qwen", reviewer="Grace", comment=None)
    with pytest.raises(InputError, match="your name"):
        q.add_reviewer_label(url, response_id, label="qwen", reviewer="", comment=None)


def test_runs_in_flight_show_their_tasks_by_state_and_where_they_run(filled: Database) -> None:
    from monitor.db import RunTask

    url = _url(filled)
    assert q.runs_in_flight(url).empty  # the filler's runs are all finished
    with filled.session() as session:
        run = session.scalars(sa.select(Run).order_by(Run.id)).first()
        assert run is not None
        run.status = "running"
        stored = session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.run_id == run.id))
        states = ["done", "done", "running", "queued"]
        for shard, state in enumerate(states):
            session.add(
                RunTask(
                    run_id=run.id, shard=shard, first_item=shard * 4, last_item=shard * 4 + 3, executor="ray",
                    status=state, node="gpu-1" if state != "queued" else None,
                )
            )
        run_id = run.id
    q.clear_caches()
    frame = q.runs_in_flight(url)
    assert frame["run_id"].tolist() == [run_id]
    row = frame.iloc[0]
    assert (row["tasks_queued"], row["tasks_running"], row["tasks_done"]) == (1, 1, 2)
    assert row["where"] == "gpu-1" and row["stored"] == stored and "repo_id" in frame.columns
