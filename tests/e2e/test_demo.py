"""The embedded default end to end: what ``make run`` shows a user, checked against the database."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.db import Alert, ChangeEvent, Comparison, Label, Response, Run, open_database

pytestmark = pytest.mark.slow


def test_every_push_is_detected_with_its_kind(demo_result: Any) -> None:
    db = open_database(demo_result.database_url)
    shas = [revision.sha for revision in demo_result.revisions]
    with db.session() as session:
        events = {e.to_sha: e for e in session.scalars(sa.select(ChangeEvent))}
    assert events[shas[0]].kinds == ["first_seen"]
    assert events[shas[1]].kinds == ["docs_only"] and not events[shas[1]].silent
    assert "chat_template_changed" in events[shas[2]].kinds and events[shas[2]].silent
    assert "weights_changed" in events[shas[3]].kinds and events[shas[3]].silent


def test_every_revision_is_run_analysed_and_compared(demo_result: Any) -> None:
    db = open_database(demo_result.database_url)
    shas = [revision.sha for revision in demo_result.revisions]
    with db.session() as session:
        runs = session.scalars(sa.select(Run)).all()
        # A docs-only commit cannot change behaviour: it is recorded, not run.
        run_shas = [shas[0], shas[2], shas[3]]
        assert {(r.revision_sha, r.status) for r in runs} == {(sha, "completed") for sha in run_shas}
        unlabelled = session.scalar(
            sa.select(sa.func.count())
            .select_from(Response)
            .outerjoin(Label, Label.response_id == Response.id)
            .where(Label.id.is_(None))
        )
        assert unlabelled == 0
        compared = {c.candidate_sha for c in session.scalars(sa.select(Comparison))}
        assert compared == {shas[2], shas[3]}


def test_the_silent_template_change_raises_hub_and_drift_alerts(demo_result: Any) -> None:
    db = open_database(demo_result.database_url)
    with db.session() as session:
        severity = {a.kind: a.severity for a in session.scalars(sa.select(Alert))}
        assert {"hub.chat_template_changed", "hub.weights_changed"} <= set(severity)
        assert severity["hub.docs_only"] == "low"  # the docs-only push is told, at the lowest severity
        openai_claims = session.execute(
            sa.select(Run.revision_sha, sa.func.count())
            .join(Response, Response.run_id == Run.id)
            .join(Label, Label.response_id == Response.id)
            .where(Label.label == "openai", Response.category == "identity")
            .group_by(Run.revision_sha)
        ).all()
    claims = dict(openai_claims)
    original, fine_tuned = demo_result.revisions[0].sha, demo_result.revisions[3].sha
    assert claims.get(fine_tuned, 0) > claims.get(original, 0)
    assert "drift.identity" in severity
    delivered = [json.loads(line) for line in demo_result.alerts_file.read_text().splitlines()]
    assert {a["kind"] for a in delivered} >= {"hub.chat_template_changed", "hub.weights_changed", "drift.identity"}
    assert "open the dashboard" in demo_result.output
