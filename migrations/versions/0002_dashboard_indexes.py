"""dashboard covering indexes

Revision ID: 0002_dashboard
Revises: 0001
Create Date: 2026-11-28 20:40:00

Why: the dashboard aggregates a model's whole history (50 revisions x 5,000 responses in the benchmark,
tests/benchmarks/bench_dashboard.py) per revision. These indexes hold every column those GROUP BYs
read, so the database answers from compact index entries instead of the wide rows that carry the
response texts: responses by (run, category, probe, id; PostgreSQL does not add the key itself),
identity labels by (response, classifier version, label), and the per-response summary of an
analysis (think state, truncation, correctness, lengths).
"""

from __future__ import annotations

from alembic import op

revision = "0002_dashboard"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_responses_run_category_probe", "responses", ["run_id", "category", "probe_id", "id"])
    op.create_index("ix_labels_response_version_label", "labels", ["response_id", "classifier_version", "label"])
    op.create_index(
        "ix_response_analyses_summary",
        "response_analyses",
        ["response_id", "think_state", "truncated", "correct", "answer_chars", "think_chars"],
    )


def downgrade() -> None:
    op.drop_index("ix_response_analyses_summary", table_name="response_analyses")
    op.drop_index("ix_labels_response_version_label", table_name="labels")
    op.drop_index("ix_responses_run_category_probe", table_name="responses")
