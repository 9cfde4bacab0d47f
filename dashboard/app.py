"""The reviewers' dashboard: what changed, when, how sure we are, and what the model now says.

Run it with ``drift-monitor dashboard`` (it reads DRIFT_MONITOR_DATABASE_URL). It reads the database
through dashboard/queries/ and writes only two things: alert acknowledgements and reviewer labels.
It never calls the Hub or an engine.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path; the pages import `dashboard.*` and
# `monitor.*`, so the repository root goes first.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard import _common  # noqa: E402

# The pages live in views/, not pages/: Streamlit treats a pages/ folder next to the entry script as the
# old file-based navigation and would run a page without this file (no sidebar, no sys.path set-up).
_PAGES = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="drift-monitor", layout="wide")
page = st.navigation(
    [
        st.Page(_PAGES / "overview.py", title="Overview", url_path="overview", default=True),
        st.Page(_PAGES / "revisions.py", title="Revisions", url_path="revisions"),
        st.Page(_PAGES / "identity.py", title="Identity", url_path="identity"),
        st.Page(_PAGES / "reasoning.py", title="Reasoning", url_path="reasoning"),
        st.Page(_PAGES / "compare.py", title="Compare", url_path="compare"),
        st.Page(_PAGES / "alerts.py", title="Alerts", url_path="alerts"),
        st.Page(_PAGES / "review.py", title="Review", url_path="review"),
    ]
)
_common.sidebar()
page.run()
