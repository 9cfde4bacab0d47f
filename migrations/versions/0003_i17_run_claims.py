"""run claims

Revision ID: 0003_i17_run_claims
Revises: 0002_dashboard
Create Date: 2026-12-01 09:20:00

Why: a run being generated is claimed by the process that supervises its worker (``claimed_by``) and
kept alive by that process's heartbeat (``claim_beat_at``), so a restarted service, a second service or
a ``drift-monitor run`` never starts a second worker on a run that is still generating, and takes
over a claim whose heartbeat stopped (monitor/db/_claims.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_i17_run_claims"
down_revision = "0002_dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("claim_beat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("claim_beat_at")
        batch.drop_column("claimed_by")
