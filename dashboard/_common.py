"""What every page shares: the database URL, the sidebar choices, and how model text is shown.

Model output is untrusted: a response may contain ``<script>`` or a markdown link. It is shown only
through ``model_text`` (a code block: no HTML, no markdown), short values through ``st.text``, and
tables through ``st.dataframe`` (cells are plain text). Nothing here passes ``unsafe_allow_html``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import queries as q
from monitor.config import load_settings
from monitor.errors import MonitorError

__all__ = [
    "Choice",
    "changed_files",
    "choice",
    "fingerprint_cell",
    "model_text",
    "require_model",
    "revision_order",
    "short",
    "sidebar",
    "table",
]

_MODEL_KEY = "model_id"
_CLASSIFIER_KEY = "classifier_version"


@dataclass(frozen=True)
class Choice:
    """The database and what the reviewer picked in the sidebar."""

    url: str
    model_id: int | None
    repo_id: str | None
    expected_identity: str | None
    classifier_version: str | None


def database_url() -> str:
    """The configured database URL (DRIFT_MONITOR_DATABASE_URL); a bad setting stops the page with one line."""
    try:
        return load_settings().database_url
    except MonitorError as exc:
        st.error(f"error: {exc}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers informed


def _models(url: str) -> pd.DataFrame:
    try:
        return q.models(url)
    except MonitorError as exc:
        st.error(f"error: {exc}")
        st.stop()
        raise


def sidebar() -> None:
    """Model and classifier-version pickers (kept across pages), and a refresh button."""
    url = database_url()
    frame = _models(url)
    with st.sidebar:
        if not frame.empty:
            names = dict(zip(frame["id"].astype(int), frame["repo_id"], strict=True))
            st.selectbox("Model", list(names), format_func=lambda i: names.get(i, str(i)), key=_MODEL_KEY)
        versions = q.classifier_versions(url)
        if versions:
            st.selectbox(
                "Identity classifier",
                versions,
                key=_CLASSIFIER_KEY,
                help="Labels of this classifier version are counted; the version of the newest label is first.",
            )
        if st.button("Refresh", help=f"Read the database again (figures are cached for {q.TTL_S} s)."):
            q.clear_caches()
        st.caption(f"Database: {q.database(url).url}")


def choice() -> Choice:
    """The current choices (the sidebar has run earlier in this same script run)."""
    url = database_url()
    frame = _models(url)
    model_id = st.session_state.get(_MODEL_KEY)
    row = frame[frame["id"] == model_id] if model_id is not None else frame.iloc[0:0]
    if row.empty and not frame.empty:
        row = frame.iloc[0:1]
    repo_id = str(row["repo_id"].iloc[0]) if not row.empty else None
    expected = row["expected_identity"].iloc[0] if not row.empty else None
    return Choice(
        url=url,
        model_id=int(row["id"].iloc[0]) if not row.empty else None,
        repo_id=repo_id,
        expected_identity=str(expected) if isinstance(expected, str) and expected else None,
        classifier_version=st.session_state.get(_CLASSIFIER_KEY),
    )


def require_model(current: Choice) -> int:
    """The chosen model's id, or a hint and a stop when nothing is watched yet."""
    if current.model_id is None:
        st.info("No watched models yet. Add one with `drift-monitor watch add REPO`, or run `drift-monitor demo`.")
        st.stop()
    assert current.model_id is not None
    return current.model_id


def revision_order(url: str, model_id: int) -> pd.DataFrame:
    """Revisions that have runs, in commit order, with a short display name; stops the page when none."""
    revisions = q.revisions_with_runs(url, model_id)
    if revisions.empty:
        st.info("No runs for this model yet: the runner has not produced responses to show.")
        st.stop()
    return revisions


def short(sha: Any) -> str:
    """The first seven characters of a commit sha (empty for none)."""
    return str(sha)[:7] if isinstance(sha, str) else ""


_FILE_CHANGES = ("added", "removed", "modified", "changed", "renamed")


def changed_files(details: Any) -> list[tuple[str, str]]:
    """(change, path) pairs from a change event's details: its ``added``/``removed``/``modified`` lists.

    The hub stores them at the top level; a nested ``files`` mapping is read the same way.
    """
    pairs: list[tuple[str, str]] = []
    if not isinstance(details, dict):
        return pairs
    for key, value in details.items():
        if key in _FILE_CHANGES and isinstance(value, list):
            for item in value:
                path = item.get("path") if isinstance(item, dict) else item
                if isinstance(path, str):
                    pairs.append((str(key), path))
        elif key == "files":
            pairs.extend(changed_files(value))
    return pairs


def fingerprint_cell(value: Any) -> str:
    """A short, comparable form of one fingerprint: a digest prefix, or a count and digest for collections."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, dict | list):
        digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:8]
        return f"{len(value)} · {digest}" if value else "none"
    return str(value)[:12]


def model_text(text: Any, *, empty: str = "(empty)") -> None:
    """Show model output literally: a code block, never HTML or markdown."""
    body = text if isinstance(text, str) else ""
    st.code(body if body else empty, language=None, wrap_lines=True)


def table(frame: pd.DataFrame | Any, **options: Any) -> None:
    """A sortable table without the index (cells are plain text, whatever they contain)."""
    st.dataframe(frame, hide_index=True, width="stretch", **options)
