"""What every page shares: the database URL, the sidebar choices, and how model text is shown.

Model output is untrusted: a response may contain ``<script>`` or a markdown link. It is shown only
through ``model_text`` (a code block: no HTML, no markdown), short values through ``st.text``, and
tables through ``st.dataframe`` (cells are plain text). Nothing here passes ``unsafe_allow_html``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from dashboard import _labels, _reviewer
from dashboard import queries as q
from monitor.config import Settings, default_model_name, load_config, load_settings
from monitor.errors import MonitorError

__all__ = [
    "Choice",
    "changed_files",
    "choice",
    "fingerprint_cell",
    "human_size",
    "model_names",
    "model_text",
    "require_model",
    "reviewer",
    "revision_order",
    "settings",
    "short",
    "sidebar",
    "table",
    "with_model_names",
]

_MODEL_KEY = "model_id"
_CLASSIFIER_KEY = "classifier_version"


@dataclass(frozen=True)
class Choice:
    """The database and what the reviewer picked in the sidebar."""

    url: str
    model_id: int | None
    repo_id: str | None
    name: str | None
    expected_identity: str | None
    classifier_version: str | None


def settings() -> Settings:
    """The environment's settings (DRIFT_MONITOR_*); a bad setting stops the page with one line."""
    try:
        return load_settings()
    except MonitorError as exc:
        st.error(f"error: {exc}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers informed


def database_url() -> str:
    """The configured database URL (DRIFT_MONITOR_DATABASE_URL)."""
    return settings().database_url


def reviewer() -> _reviewer.Reviewer:
    """Who is viewing, and whether they may write (see dashboard/_reviewer.py)."""
    return _reviewer.current_reviewer(settings())


@st.cache_data(ttl=q.TTL_S, show_spinner=False)
def _configured_names(config_path: str | None) -> dict[str, str]:
    """``name`` per repo from the TOML config; a missing or invalid config leaves the defaults."""
    if not config_path:
        return {}
    try:
        config = load_config(Path(config_path))
    except MonitorError:
        return {}
    return {entry.repo: entry.name for entry in config.models if entry.name}


def model_names(url: str) -> dict[str, str]:
    """Repository id -> the name people read (the config's ``name``, else the Hub id or the git folder's name)."""
    frame = _models(url)
    config = settings().config
    configured = _configured_names(str(config) if config is not None else None)
    return {
        str(repo): configured.get(str(repo)) or default_model_name(str(repo), str(source))
        for repo, source in zip(frame["repo_id"], frame["source"], strict=True)
    }


def with_model_names(url: str, frame: pd.DataFrame, *, keep_repo: bool = False) -> pd.DataFrame:
    """``frame`` with a ``model`` column (the name) in place of ``repo_id`` (kept too when asked)."""
    if "repo_id" not in frame.columns:
        return frame
    names = model_names(url)
    named = frame.copy()
    position = list(frame.columns).index("repo_id")
    named.insert(
        position, "model", [names.get(str(r), str(r)) if isinstance(r, str) else "(no model)" for r in frame["repo_id"]]
    )
    return named if keep_repo else named.drop(columns=["repo_id"])


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
            by_repo = model_names(url)
            names = {int(i): by_repo.get(str(r), str(r)) for i, r in zip(frame["id"], frame["repo_id"], strict=True)}
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
        _reviewer.identity_panel(reviewer())
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
        name=model_names(url).get(repo_id, repo_id) if repo_id is not None else None,
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


def human_size(size: Any) -> str:
    """A byte count as people say it: 5.3 KB, 269.1 MB, 3.9 GB (decimal units, as the Hub shows sizes)."""
    value = float(size) if size is not None and size == size else 0.0
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


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


def table(frame: pd.DataFrame | Styler, *, column_config: dict[str, Any] | None = None, **options: Any) -> None:
    """A sortable table without the index, every header a human label (dashboard/_labels.py).

    Cells are plain text, whatever they contain; times are shown in the viewer's zone.
    """
    data = frame.data if isinstance(frame, Styler) else frame
    assert isinstance(data, pd.DataFrame)
    shown = frame if isinstance(frame, Styler) else _labels.in_zone(frame)
    config = _labels.column_config(data, column_config)
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, **options)
