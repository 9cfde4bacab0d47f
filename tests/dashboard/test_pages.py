"""Every dashboard page through Streamlit's AppTest, on a filled database (see conftest.py)."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from monitor.db import Alert, Label, Response, ResponseAnalysis, ReviewerLabel, Run, WatchedModel
from tests.dashboard._fill import HOSTILE_TEXT, add_hostile_response
from tests.dashboard.conftest import APP, DashboardData

HOSTILE_MARKERS = ("<script>", "[click](")


def open_page(page: str, *, query: dict[str, str] | None = None) -> AppTest:
    """Run the app, switch to ``page`` and check nothing raised."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if query:
        at.query_params.update(query)
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


def test_overview_lists_models_alerts_and_verdicts(dashboard_db: DashboardData) -> None:
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
    assert table["head"].str.len().eq(7).all()
    assert len(at.get("vega_lite_chart")) >= 1


def test_revisions_show_kinds_silent_flags_files_and_fingerprints(dashboard_db: DashboardData) -> None:
    at = open_page("revisions")
    timeline = _frame_with(at, "kinds")
    silent = timeline[timeline["silent"]]
    assert not silent.empty
    assert all(kinds for kinds in silent["kinds"]), "a silent change always has a kind"
    if dashboard_db.summary is not None:
        # The filler's head commit changed the tokenizer files and the chat template, silently.
        head = timeline.sort_values("seq").iloc[-1]
        assert "chat_template_changed" in head["kinds"] and head["silent"]
        files = _frame_with(at, "path")
        assert {"tokenizer_config.json", "tokenizer.json"} <= set(files["path"])
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


def test_reasoning_accuracy_matches_the_rows(dashboard_db: DashboardData) -> None:
    repo = _head_repo(dashboard_db)
    at = open_page("reasoning")
    table = _frame_with(at, "ci_high")
    with dashboard_db.db.session() as session:
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


def test_compare_puts_flagged_metrics_first_and_draws_the_map(dashboard_db: DashboardData) -> None:
    at = open_page("compare")
    metrics = _frame_with(at, "significant")
    flags = list(metrics["significant"])
    assert flags == sorted(flags, reverse=True), "flagged metrics come first"
    verdict = {m.label: m.value for m in at.metric}
    assert verdict["Verdict"] in {"DRIFT", "no drift"}
    shifts = _frame_with(at, "label_shift")
    assert shifts["change"].dropna().is_monotonic_decreasing
    assert len(at.code) >= 2, "side-by-side responses are shown as code blocks"
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 2, "report chart and embedding map"
    if dashboard_db.summary is not None:
        assert verdict["Verdict"] == "DRIFT" and flags[0]


def test_alerts_acknowledge_with_name_and_comment(dashboard_db: DashboardData) -> None:
    at = open_page("alerts")
    open_ids = list(at.selectbox(key="ack_alert").options)
    assert open_ids
    target = int(str(at.selectbox(key="ack_alert").value))

    at.text_area(key="ack_comment").input("checked the diff; expected")
    at.button(key="ack_submit").click().run()
    assert [e.value for e in at.error] == ["error: give your name to acknowledge an alert"]
    with dashboard_db.db.session() as session:
        assert session.get(Alert, target).acknowledged_at is None  # type: ignore[union-attr]

    at.text_input(key="ack_by").input("Ada Reviewer")
    at.button(key="ack_submit").click().run()
    assert not at.exception
    assert any(f"#{target} acknowledged" in s.value for s in at.success)
    with dashboard_db.db.session() as session:
        alert = session.get(Alert, target)
        assert alert is not None
        assert alert.acknowledged_by == "Ada Reviewer"
        assert alert.ack_comment == "checked the diff; expected"
        assert alert.acknowledged_at is not None
    # The acknowledged alert leaves the open list (the page re-read the database after the write).
    assert str(target) not in [o.split()[0].lstrip("#") for o in at.selectbox(key="ack_alert").options]


def test_alerts_filters_narrow_the_table(dashboard_db: DashboardData) -> None:
    at = open_page("alerts")
    at.checkbox(key="alerts_open_only").uncheck().run()
    everything = _frame_with(at, "severity")
    severity = at.multiselect(key="alerts_severity").options[0]  # the most severe present
    at.multiselect(key="alerts_severity").select(severity).run()
    narrowed = _frame_with(at, "severity")
    assert set(narrowed["severity"]) == {severity}
    assert len(narrowed) == int((everything["severity"] == severity).sum()) < len(everything)


def test_model_text_is_shown_literally_never_as_markdown_or_html(dashboard_db: DashboardData) -> None:
    response_id = add_hostile_response(dashboard_db.db)
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


def test_review_correction_is_stored_as_a_reviewer_label(dashboard_db: DashboardData) -> None:
    at = open_page("review")
    response_id = int(str(at.selectbox(key="review_response").value))
    at.selectbox(key="review_new_label").select("qwen")
    at.text_input(key="review_reviewer").input("Grace")
    at.text_area(key="review_comment").input("says Qwen in the answer")
    at.button(key="review_submit").click().run()
    assert not at.exception and not at.error
    with dashboard_db.db.session() as session:
        stored = session.scalars(sa.select(ReviewerLabel).where(ReviewerLabel.response_id == response_id)).all()
    assert [(r.label, r.reviewer, r.comment) for r in stored][-1] == ("qwen", "Grace", "says Qwen in the answer")
    # The page shows it (newest correction first).
    assert "qwen" in set(_frame_with(at, "comment")["label"])


def test_review_filters_by_label(dashboard_db: DashboardData) -> None:
    at = open_page("review")
    at.selectbox(key="review_label").select("openai").run()
    table = _frame_with(at, "probe_id")
    assert not table.empty and set(table["label"]) == {"openai"}


@pytest.mark.parametrize("page", ["overview", "revisions", "identity", "reasoning", "compare", "alerts", "review"])
def test_every_page_copes_with_an_empty_database(page: str) -> None:
    # The autouse fixture already points DRIFT_MONITOR_DATABASE_URL at an empty SQLite file.
    at = open_page(page)
    assert not at.error
