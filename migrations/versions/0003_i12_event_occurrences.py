"""change events are occurrences; hub alerts are keyed by event

Revision ID: 0003_i12_events
Revises: 0003_i15_run_tasks
Create Date: 2026-12-01 08:50:00

Why (issue 12, "no alert lost"): a change event was unique per (model, from, to) and its alert was
keyed by that pair, so a force-push back and forth (A -> B -> A -> B) reused the first A -> B event
and its third transition raised nothing; status events (from NULL, to the head) collided the same
way, so "gone" after "gated" at one head, or a second "gone" after recovery, raised nothing. Now every
transition is its own row and a hub alert's dedup key is its event's id (``hub.event:<id>``). Existing
hub alerts are re-keyed from the event id their payload carries, so the catch-up sweep does not raise
them a second time.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003_i12_events"
down_revision = "0003_i15_run_tasks"
branch_labels = None
depends_on = None

_COLUMNS = ["model_id", "from_sha", "to_sha"]
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
_SQLITE_UNIQUE = "uq_change_events_model_id_from_sha_to_sha"
_alerts = sa.table(
    "alerts",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("dedup_key", sa.String),
    sa.column("payload", sa.JSON),
)
_events = sa.table(
    "change_events",
    sa.column("id", sa.Integer),
    sa.column("model_id", sa.Integer),
    sa.column("from_sha", sa.String),
    sa.column("to_sha", sa.String),
)


def _unique_name(bind: Any) -> str | None:
    for constraint in sa.inspect(bind).get_unique_constraints("change_events"):
        if list(constraint["column_names"]) == _COLUMNS:
            return constraint["name"]
    return None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("change_events", naming_convention=_SQLITE_NAMES) as batch:
            batch.drop_constraint(_SQLITE_UNIQUE, type_="unique")
    else:
        name = _unique_name(bind)
        if name is not None:
            op.drop_constraint(name, "change_events", type_="unique")
    op.create_index("ix_change_events_model_to", "change_events", ["model_id", "to_sha"])
    rows = bind.execute(sa.select(_alerts.c.id, _alerts.c.payload).where(_alerts.c.kind.like("hub.%"))).all()
    for alert_id, payload in rows:
        event_id = (payload or {}).get("change_event_id")
        if event_id is not None:
            bind.execute(
                _alerts.update().where(_alerts.c.id == alert_id).values(dedup_key=f"hub.event:{int(event_id)}")
            )


def downgrade() -> None:
    bind = op.get_bind()
    event_key = sa.literal("hub.event:") + sa.cast(_events.c.id, sa.String)
    rows = bind.execute(
        sa.select(_alerts.c.id, _events.c.model_id, _events.c.from_sha, _events.c.to_sha).join(
            _events, _alerts.c.dedup_key == event_key
        )
    ).all()
    for alert_id, model_id, from_sha, to_sha in rows:
        key = ":".join(["hub", str(model_id), from_sha if from_sha is not None else "-", to_sha])[:300]
        bind.execute(_alerts.update().where(_alerts.c.id == alert_id).values(dedup_key=key))
    op.drop_index("ix_change_events_model_to", table_name="change_events")
    with op.batch_alter_table("change_events") as batch:
        batch.create_unique_constraint("uq_change_events_model_id_from_sha_to_sha", _COLUMNS)
