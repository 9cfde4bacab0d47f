"""Every SQL statement the dashboard runs, reads and writes, behind one API; one private module per page.

Why one package: the pages stay presentation only, the benchmark (tests/benchmarks/bench_dashboard.py)
times exactly what the pages run, and a reviewer can check in one folder that the dashboard reads the
database and nothing else (never the Hub, never an engine). Each page's statements live in a module of
their own (``_overview``, ``_revisions``, ``_identity``, ``_reasoning``, ``_compare``, ``_alerts``,
``_review``; ``_choices`` holds the pickers several pages share and ``_base`` the handle and cache).

Rules kept here:
- aggregation happens in the database (GROUP BY, window sums); pandas only reshapes the few aggregated
  rows that come back;
- every read is cached for ``TTL_S`` seconds with ``st.cache_data`` and keyed by the database URL, so
  two databases in one process (tests) never see each other's figures;
- statements are SQLAlchemy Core over the monitor.db models, so one text runs on SQLite and PostgreSQL
  (no dialect-only functions; booleans are counted with CASE, averages cast to float).
"""

from __future__ import annotations

from dashboard.queries._alerts import acknowledge_alert, alert_deliveries, alert_facets, alerts
from dashboard.queries._base import TTL_S, clear_caches, database, dispose_all
from dashboard.queries._choices import categories, classifier_versions, revisions_with_runs, run_ids
from dashboard.queries._compare import (
    comparison,
    comparisons,
    embedding_models,
    embedding_points,
    probe_changes,
    probe_responses,
)
from dashboard.queries._identity import identity_by_language, identity_by_probe, identity_by_revision
from dashboard.queries._overview import latest_verdicts, models, open_alerts_by_severity, poll_summary, runs_in_flight
from dashboard.queries._reasoning import accuracy_by_problem, format_by_revision, length_histogram
from dashboard.queries._review import (
    IDENTITY_LABELS,
    add_reviewer_label,
    label_choices,
    response_detail,
    response_labels,
    review_count,
    review_page,
)
from dashboard.queries._revisions import change_timeline, file_sizes, revision_fingerprints

__all__ = [
    "IDENTITY_LABELS",
    "TTL_S",
    "accuracy_by_problem",
    "acknowledge_alert",
    "add_reviewer_label",
    "alert_deliveries",
    "alert_facets",
    "alerts",
    "categories",
    "change_timeline",
    "classifier_versions",
    "clear_caches",
    "comparison",
    "comparisons",
    "database",
    "dispose_all",
    "embedding_models",
    "embedding_points",
    "file_sizes",
    "format_by_revision",
    "identity_by_language",
    "identity_by_probe",
    "identity_by_revision",
    "label_choices",
    "latest_verdicts",
    "length_histogram",
    "models",
    "open_alerts_by_severity",
    "poll_summary",
    "probe_changes",
    "probe_responses",
    "response_detail",
    "response_labels",
    "review_count",
    "review_page",
    "revision_fingerprints",
    "revisions_with_runs",
    "run_ids",
    "runs_in_flight",
]
