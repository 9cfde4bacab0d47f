"""Every dashboard page through Streamlit's AppTest, on a filled database (see conftest.py)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from monitor.config import default_model_name
from monitor.db import (
    Alert,
    ChangeEvent,
    Comparison,
    Label,
    Response,
    ResponseAnalysis,
    ReviewerLabel,
    Run,
    WatchedModel,
)
from tests.dashboard._fill import HOSTILE_TEXT, add_hostile_response
from tests.dashboard.conftest import APP, DashboardData

HOSTILE_MARKERS = ("<script>", "[click](")
FAILED_MESSAGE = (
    "This page could not be shown: something went wrong while reading the database or drawing the page. "
    "The details are in the dashboard's log. Press Refresh in the sidebar to try again, or tell whoever "
    "runs the dashboard."
)


def open_page(
    page: str,
    *,
    query: dict[str, str] | None = None,
    secrets: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> AppTest:
    """Run the app, switch to ``page`` and check nothing raised (secrets, st.user and st.context seeded)."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if query:
        at.query_params.update(query)
    if secrets:
        at.secrets.update(secrets)
    if user is not None:
        at.user = user
    if context:
        at.context = context
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page != "overview":
        at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _model_id(data: DashboardData, repo: str) -> int:
    with data.db.session() as session:
        return int(session.scalar(sa.select(WatchedModel.id).where(WatchedModel.repo_id == repo)) or 0)


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    frames = [df.value for df in at.dataframe if column in df.value.columns]
    assert frames, f"no table with a {column!r} column"
    return frames[0]


def _head_repo(data: DashboardData) -> str:
    """The model the sidebar shows first (alphabetical, case-insensitive)."""
    with data.db.session() as session:
        repos = session.scalars(sa.select(WatchedModel.repo_id)).all()
    return sorted(repos, key=str.lower)[0]


def _event_with(data: DashboardData, kind: str) -> ChangeEvent:
    with data.db.session() as session:
        event = session.scalars(sa.select(ChangeEvent).order_by(ChangeEvent.id)).all()
    found = [e for e in event if kind in (e.kinds or [])]
    assert found, f"the database has a {kind} event"
    return found[0]


def test_overview_lists_models_by_name_with_alerts_and_verdicts(dashboard_db: DashboardData) -> None:
    at = open_page("overview")
    assert [t.value for t in at.title] == ["Overview"]
    metrics = {m.label: m.value for m in at.metric}
    with dashboard_db.db.session() as session:
        models = session.scalars(sa.select(WatchedModel.repo_id)).all()
        open_alerts = session.scalar(sa.select(sa.func.count()).where(Alert.acknowledged_at.is_(None)))
    assert metrics["Watched models"] == str(len(models))
    assert metrics["Open alerts"] == str(open_alerts)
    table = _frame_with(at, "expected_identity")
    assert set(table["repo_id"]) == set(models)
    # The demo's config names its git folder; the path stays in the repository column only.
    assert list(table["model"]) == ["SmolLM2 demo"]
    assert table["head"].str.len().eq(7).all()
    assert at.sidebar.selectbox[0].format_func(at.sidebar.selectbox[0].value) == "SmolLM2 demo"
    verdicts = _frame_with(at, "candidate")
    assert "repo_id" not in verdicts.columns and set(verdicts["model"]) == {"SmolLM2 demo"}
    assert len(at.get("vega_lite_chart")) >= 1


def test_a_model_without_a_configured_name_is_its_hub_id_or_folder(filled_db: DashboardData) -> None:
    at = open_page("overview")
    table = _frame_with(at, "expected_identity")
    assert list(table["model"]) == list(table["repo_id"]), "no config: the Hub id"
    assert default_model_name("/srv/models/SmolLM2-demo/", "git") == "SmolLM2-demo"
    assert default_model_name("https://example.org/org/model.git", "git") == "model"


def test_overview_shows_runs_in_flight_by_name_with_their_tasks(filled_db: DashboardData) -> None:
    from monitor.db import Run, RunTask

    with filled_db.db.session() as session:
        run = session.scalars(sa.select(Run).order_by(Run.id)).first()
        assert run is not None
        run.status = "running"
        session.add(RunTask(run_id=run.id, shard=0, first_item=0, last_item=3, executor="ray", status="running",
                            node="gpu-2"))
    at = open_page("overview")
    table = _frame_with(at, "tasks_running")
    assert list(table["tasks_running"]) == [1] and list(table["where"]) == ["gpu-2"]
    assert "repo_id" not in table.columns


def test_the_demo_template_change_is_shown_side_by_side(dashboard_db: DashboardData) -> None:
    event = _event_with(dashboard_db, "chat_template_changed")
    at = open_page("revisions", query={"revision": event.to_sha})
    assert (
        at.selectbox(key="revisions_pick")
        .format_func(at.selectbox(key="revisions_pick").value)
        .endswith("Update chat_template.jinja")
    )
    files = _frame_with(at, "path")
    row = files[files["path"] == "chat_template.jinja"].iloc[0]
    assert row["change"] == "modified" and row["category"] == "chat_template"
    assert row["size_after"] > 0 and row["size_before"] > 0
    diff = _frame_with(at, "after_line")
    changed = diff[diff["change"] != ""]
    assert not changed.empty
    assert changed["after"].str.contains("ChatGPT").any(), "the new default system prompt"
    assert not changed["before"].str.contains("ChatGPT").any()
    assert changed["before"].str.contains("SmolLM").any(), "the prompt it replaced"
    assert any(block.language == "diff" and "+" in block.value and "ChatGPT" in block.value for block in at.code)


def test_the_demo_weight_change_lists_its_shards_with_sizes(dashboard_db: DashboardData) -> None:
    event = _event_with(dashboard_db, "weights_changed")
    at = open_page("revisions", query={"revision": event.to_sha})
    files = _frame_with(at, "path")
    weights = files[files["category"] == "weights"]
    assert list(weights["path"]) == ["model.safetensors"]
    assert (weights["size_before"] > 100_000_000).all() and (weights["size_after"] > 100_000_000).all(), "~270 MB"
    assert any("1 shard(s) changed" in c.value and " MB now (was " in c.value for c in at.caption)


def test_revisions_show_kinds_silent_flags_files_and_fingerprints(filled_db: DashboardData) -> None:
    at = open_page("revisions")
    timeline = _frame_with(at, "kinds")
    silent = timeline[timeline["silent"]]
    assert not silent.empty
    assert all(kinds for kinds in silent["kinds"]), "a silent change always has a kind"
    # The filler's head commit changed the tokenizer files and the chat template, silently.
    head = timeline.sort_values("seq").iloc[-1]
    assert "chat_template_changed" in head["kinds"] and head["silent"]
    files = _frame_with(at, "path")
    assert {"tokenizer_config.json", "tokenizer.json"} <= set(files["path"])
    # Recorded without the files' text (as a poll before the monitor kept it): said, not hidden.
    assert any("not kept for this event" in c.value for c in at.caption)
    fingerprints = _frame_with(at, "revision")
    assert len(at.dataframe) >= 3 and not fingerprints.empty


def _naive_identity(data: DashboardData, repo: str) -> dict[str, Counter[str]]:
    """Label counts per revision by walking every row (the slow way the page must agree with)."""
    counts: dict[str, Counter[str]] = {}
    with data.db.session() as session:
        rows = session.execute(
            sa.select(Run.revision_sha, Label.label)
            .join(Response, Response.run_id == Run.id)
            .join(Label, Label.response_id == Response.id)
            .join(WatchedModel, WatchedModel.id == Run.model_id)
            .where(WatchedModel.repo_id == repo, Response.category == "identity")
        ).all()
    for sha, label in rows:
        counts.setdefault(sha, Counter())[label] += 1
    return counts


def test_identity_rates_match_the_rows_and_show_n(dashboard_db: DashboardData) -> None:
    repo = _head_repo(dashboard_db)
    at = open_page("identity")
    table = _frame_with(at, "ci_low")
    naive = _naive_identity(dashboard_db, repo)
    assert naive, "the fixture has identity responses"
    for sha, counter in naive.items():
        rows = table[table["revision"].str.endswith(sha[:7])]
        total = sum(counter.values())
        assert set(rows["n"]) == {total}
        for label, k in counter.items():
            row = rows[rows["label"] == label].iloc[0]
            assert row["k"] == k
            assert row["rate"] == pytest.approx(k / total)
            assert row["ci_low"] <= row["rate"] <= row["ci_high"]
    expected_rows = table[table["expected"]]
    with dashboard_db.db.session() as session:
        expected = session.scalar(sa.select(WatchedModel.expected_identity).where(WatchedModel.repo_id == repo))
    assert set(expected_rows["label"]) == {expected}
    assert any("(n=" in m.label for m in at.metric), "the headline rate shows its n"
    assert not _frame_with(at, "probe_id").empty
    assert not _frame_with(at, "language").empty


def test_reasoning_accuracy_matches_the_rows(filled_db: DashboardData) -> None:
    repo = _head_repo(filled_db)
    at = open_page("reasoning")
    table = _frame_with(at, "ci_high")
    with filled_db.db.session() as session:
        rows = session.execute(
            sa.select(Run.revision_sha, ResponseAnalysis.correct)
            .join(Response, Response.run_id == Run.id)
            .join(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
            .join(WatchedModel, WatchedModel.id == Run.model_id)
            .where(WatchedModel.repo_id == repo, ResponseAnalysis.correct.is_not(None))
        ).all()
    per_sha: dict[str, list[bool]] = {}
    for sha, correct in rows:
        per_sha.setdefault(sha, []).append(bool(correct))
    assert per_sha, "the fixture has scored reasoning responses"
    for sha, outcomes in per_sha.items():
        row = table[table["revision"].str.endswith(sha[:7])].iloc[0]
        assert (row["k"], row["n"]) == (sum(outcomes), len(outcomes))
    differences = _frame_with(at, "difference")
    assert differences["difference"].dropna().is_monotonic_increasing, "worst regressions first"
    assert not _frame_with(at, "truncated_rate").empty


def _newest_comparison(data: DashboardData) -> Comparison:
    with data.db.session() as session:
        newest = session.scalars(
            sa.select(Comparison).order_by(Comparison.created_at.desc(), Comparison.id.desc())
        ).first()
    assert newest is not None
    return newest


def test_compare_shows_the_stored_verdict_flagged_metrics_first_and_the_map(dashboard_db: DashboardData) -> None:
    newest = _newest_comparison(dashboard_db)
    at = open_page("compare")
    metrics = _frame_with(at, "significant")
    flags = list(metrics["significant"])
    assert flags == sorted(flags, reverse=True), "flagged metrics come first"
    verdict = {m.label: m.value for m in at.metric}
    # The page defaults to the newest stored comparison and says exactly what it concluded.
    assert verdict["Verdict"] == ("DRIFT" if newest.drift else "no drift")
    assert verdict["Severity"] == newest.severity
    assert verdict["Flagged metrics"] == f"{sum(flags)} of {len(flags)}"
    shifts = _frame_with(at, "label_shift")
    assert shifts["change"].dropna().is_monotonic_decreasing
    assert len(at.code) >= 2, "side-by-side responses are shown as code blocks"
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 2, "report chart and embedding map"


def test_compare_of_the_filler_head_is_drift_with_a_flagged_metric(filled_db: DashboardData) -> None:
    at = open_page("compare")
    verdict = {m.label: m.value for m in at.metric}
    assert verdict["Verdict"] == "DRIFT"
    assert bool(_frame_with(at, "significant")["significant"].iloc[0])


def test_a_link_to_a_revision_opens_its_comparison(dashboard_db: DashboardData) -> None:
    event = _event_with(dashboard_db, "chat_template_changed")
    at = open_page("compare", query={"candidate": event.to_sha})
    candidate = str(at.selectbox(key="compare_candidate").value)
    baseline = str(at.selectbox(key="compare_baseline").value)
    assert candidate.endswith(event.to_sha[:7])
    with dashboard_db.db.session() as session:
        stored = session.scalar(sa.select(Comparison).where(Comparison.candidate_sha == event.to_sha))
    assert stored is not None and baseline.endswith(stored.baseline_sha[:7]), "its stored baseline"


def test_alerts_are_read_only_without_a_reviewer_identity(filled_db: DashboardData) -> None:
    at = open_page("alerts")
    assert any("Read-only" in i.value for i in at.info)
    assert not [s for s in at.selectbox if s.key == "ack_alert"] and not at.text_input
    assert not [b for b in at.button if b.key == "ack_submit"]
    assert "Read-only" in [c.value for c in at.sidebar.caption]


def test_alerts_acknowledge_under_an_unverified_name_when_allowed(
    filled_db: DashboardData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFT_MONITOR_DASHBOARD_UNVERIFIED_WRITES", "true")
    at = open_page("alerts")
    open_ids = list(at.selectbox(key="ack_alert").options)
    assert open_ids
    target = int(str(at.selectbox(key="ack_alert").value))

    at.text_area(key="ack_comment").input("checked the diff; expected")
    at.button(key="ack_submit").click().run()
    assert [e.value for e in at.error] == ["error: give your name to acknowledge an alert"]
    with filled_db.db.session() as session:
        assert session.get(Alert, target).acknowledged_at is None  # type: ignore[union-attr]

    at.text_input(key="ack_by").input("Ada Reviewer")
    at.button(key="ack_submit").click().run()
    assert not at.exception
    assert any(f"#{target} acknowledged" in s.value for s in at.success)
    with filled_db.db.session() as session:
        alert = session.get(Alert, target)
        assert alert is not None
        assert alert.acknowledged_by == "Ada Reviewer (unverified)", "the record says the name was typed"
        assert alert.ack_comment == "checked the diff; expected"
        assert alert.acknowledged_at is not None
    # The acknowledged alert leaves the open list (the page re-read the database after the write).
    assert str(target) not in [o.split()[0].lstrip("#") for o in at.selectbox(key="ack_alert").options]


def test_alerts_of_one_revision(dashboard_db: DashboardData) -> None:
    event = _event_with(dashboard_db, "chat_template_changed")
    at = open_page("alerts", query={"revision": event.to_sha})
    at.checkbox(key="alerts_open_only").uncheck().run()
    table = _frame_with(at, "severity")
    with dashboard_db.db.session() as session:
        everything = session.scalars(sa.select(Alert)).all()
    # What the alerts say they are about: the change event's new head, a comparison's either side.
    about = [
        a for a in everything if event.to_sha in {a.payload.get(k) for k in ("to_sha", "baseline_sha", "candidate_sha")}
    ]
    assert sorted(table["id"]) == sorted(a.id for a in about)
    assert "hub.chat_template_changed" in set(table["kind"]) and len(table) < len(everything)


def test_alerts_filters_narrow_the_table(filled_db: DashboardData) -> None:
    at = open_page("alerts")
    at.checkbox(key="alerts_open_only").uncheck().run()
    everything = _frame_with(at, "severity")
    severity = at.multiselect(key="alerts_severity").options[0]  # the most severe present
    at.multiselect(key="alerts_severity").select(severity).run()
    narrowed = _frame_with(at, "severity")
    assert set(narrowed["severity"]) == {severity}
    assert len(narrowed) == int((everything["severity"] == severity).sum()) < len(everything)


def test_model_text_is_shown_literally_never_as_markdown_or_html(filled_db: DashboardData) -> None:
    response_id = add_hostile_response(filled_db.db)
    at = open_page("review", query={"response": str(response_id)})
    assert at.selectbox(key="review_response").value == response_id
    code = [block.value for block in at.code]
    assert any(HOSTILE_TEXT in block for block in code), code
    assert any("<img src=x onerror=alert(2)>" in block for block in code)
    assert any("**bold** <b>who</b> are you?" in block for block in code)
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.html]
    for marker in (*HOSTILE_MARKERS, "<img", "<b>"):
        assert not any(marker in text for text in rendered), f"{marker!r} reached markdown/HTML"
    # The evidence span sits in a table cell: plain text there too.
    assert HOSTILE_TEXT in set(_frame_with(at, "evidence")["evidence"])


def test_review_is_read_only_without_a_reviewer_identity(filled_db: DashboardData) -> None:
    at = open_page("review")
    assert any("Read-only" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "review_submit"]


def test_review_correction_is_stored_as_a_reviewer_label(
    filled_db: DashboardData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFT_MONITOR_DASHBOARD_UNVERIFIED_WRITES", "true")
    at = open_page("review")
    response_id = int(str(at.selectbox(key="review_response").value))
    at.selectbox(key="review_new_label").select("qwen")
    at.text_input(key="review_reviewer").input("Grace")
    at.text_area(key="review_comment").input("says Qwen in the answer")
    at.button(key="review_submit").click().run()
    assert not at.exception and not at.error
    with filled_db.db.session() as session:
        stored = session.scalars(sa.select(ReviewerLabel).where(ReviewerLabel.response_id == response_id)).all()
    assert [(r.label, r.reviewer, r.comment) for r in stored][-1] == (
        "qwen",
        "Grace (unverified)",
        "says Qwen in the answer",
    )
    # The page shows it (newest correction first).
    assert "qwen" in set(_frame_with(at, "comment")["label"])


OIDC = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "dashboard",
        "client_secret": "secret",
        "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration",
    }
}


def test_with_st_login_configured_a_signed_in_reviewer_is_recorded(filled_db: DashboardData) -> None:
    at = open_page("review", secrets=OIDC, user={"is_logged_in": True, "email": "grace@example.org"})
    assert "Reviewer: grace@example.org (signed in)" in [t.value for t in at.sidebar.text]
    response_id = int(str(at.selectbox(key="review_response").value))
    at.selectbox(key="review_new_label").select("qwen")
    at.button(key="review_submit").click().run()
    assert not at.exception and not at.error
    with filled_db.db.session() as session:
        stored = session.scalars(sa.select(ReviewerLabel).where(ReviewerLabel.response_id == response_id)).all()
    assert stored[-1].reviewer == "grace@example.org", "the identity provider's e-mail, nothing typed"


def test_with_st_login_configured_a_visitor_is_read_only_until_logged_in(filled_db: DashboardData) -> None:
    at = open_page("alerts", secrets=OIDC, user={"is_logged_in": False})
    assert [i.value for i in at.info] == ["Read-only until you log in."]
    assert [b.label for b in at.sidebar.button if b.key == "reviewer_login"] == ["Log in"]
    assert not [b for b in at.button if b.key == "ack_submit"]


def test_times_are_shown_in_the_viewers_zone_with_utc_named(filled_db: DashboardData) -> None:
    at = open_page("alerts", context={"timezone": "Asia/Tokyo"})
    config = json.loads(_table_proto(at, "created_at").columns)["created_at"]
    assert config["label"] == "created"
    assert config["type_config"]["timezone"] == "Asia/Tokyo"
    assert "Asia/Tokyo (UTC+09:00); stored in UTC" in config["help"]


def _table_proto(at: AppTest, column: str) -> Any:
    found = [df.proto for df in at.dataframe if column in df.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def test_review_filters_by_label(filled_db: DashboardData) -> None:
    at = open_page("review")
    at.selectbox(key="review_label").select("openai").run()
    table = _frame_with(at, "probe_id")
    assert not table.empty and set(table["label"]) == {"openai"}


PAGES = ["overview", "revisions", "identity", "reasoning", "compare", "alerts", "review"]


@pytest.mark.parametrize("page", PAGES)
def test_every_table_header_is_a_label_people_read(filled_db: DashboardData, page: str) -> None:
    at = open_page(page)
    assert at.dataframe, f"{page} shows tables"
    for table in at.dataframe:
        config = json.loads(table.proto.columns or "{}")
        for column in table.value.columns:
            label = (config.get(str(column)) or {}).get("label")
            assert label, f"{page}: column {column!r} has no label"
            assert "_" not in label, f"{page}: {column!r} shown as {label!r}"
    shown = {
        (config.get(c) or {}).get("label")
        for table in at.dataframe
        for config in [json.loads(table.proto.columns or "{}")]
        for c in table.value.columns
    }
    expected = {"overview": "repository", "identity": "95% CI low", "reasoning": "95% CI high", "alerts": "created"}
    if page in expected:
        assert expected[page] in shown, shown


def test_a_page_that_fails_shows_one_line_and_logs_the_traceback(
    filled_db: DashboardData, caplog: pytest.LogCaptureFixture
) -> None:
    with filled_db.db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE alert_deliveries"))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("views/alerts.py")
    with caplog.at_level(logging.ERROR, logger="dashboard"):
        at.run()
    assert not at.exception, "no traceback on the page"
    assert [e.value for e in at.error] == [FAILED_MESSAGE]
    logged = [r for r in caplog.records if r.name == "dashboard"]
    assert logged and logged[0].exc_info is not None and "alert_deliveries" in str(logged[0].exc_info[1])


@pytest.mark.parametrize("page", PAGES)
def test_every_page_copes_with_an_empty_database(page: str) -> None:
    # The autouse fixture already points DRIFT_MONITOR_DATABASE_URL at an empty SQLite file.
    at = open_page(page)
    assert not at.error
