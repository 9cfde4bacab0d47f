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

import logging  # noqa: E402

import streamlit as st  # noqa: E402

from dashboard import _common  # noqa: E402

# The pages live in views/, not pages/: Streamlit treats a pages/ folder next to the entry script as the
# old file-based navigation and would run a page without this file (no sidebar, no sys.path set-up).
_PAGES = Path(__file__).resolve().parent / "views"
_LOG = logging.getLogger("dashboard")
_FAILED = (
    "This page could not be shown: something went wrong while reading the database or drawing the page. "
    "The details are in the dashboard's log. Press Refresh in the sidebar to try again, or tell whoever "
    "runs the dashboard."
)


def _log_to_stderr() -> None:
    """The dashboard's own log line (with the traceback) on the server's stderr, next to Streamlit's."""
    if not any(handler.get_name() == "drift-monitor-dashboard" for handler in _LOG.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name("drift-monitor-dashboard")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        _LOG.addHandler(handler)
        _LOG.setLevel(logging.INFO)


st.set_page_config(page_title="drift-monitor", layout="wide")
# Every page has its own path, the Overview included: the default page is served at "/" only and
# Streamlit ignores its url_path, so "/" is a hidden page that switches to /overview, and every
# path (/overview, /revisions, ...) works as a bookmark.
overview = st.Page(_PAGES / "overview.py", title="Overview", url_path="overview")
pages = [
    overview,
    st.Page(_PAGES / "revisions.py", title="Revisions", url_path="revisions"),
    st.Page(_PAGES / "identity.py", title="Identity", url_path="identity"),
    st.Page(_PAGES / "reasoning.py", title="Reasoning", url_path="reasoning"),
    st.Page(_PAGES / "compare.py", title="Compare", url_path="compare"),
    st.Page(_PAGES / "alerts.py", title="Alerts", url_path="alerts"),
    st.Page(_PAGES / "review.py", title="Review", url_path="review"),
]
home = st.Page(
    lambda: st.switch_page(overview, query_params=st.query_params.to_dict()),
    title="Overview",
    url_path="home",
    default=True,
    visibility="hidden",
)
page = st.navigation([home, *pages])
_log_to_stderr()
try:
    _common.sidebar()
    page.run()
except Exception:  # st.stop() and st.rerun() are BaseExceptions and pass through
    # One clear line for the viewer (client.showErrorDetails is off); the traceback goes to the log.
    _LOG.exception("dashboard page /%s failed", page.url_path)
    st.error(_FAILED)
