"""Column headers people read: one vocabulary for every table, with units, and times in the viewer's zone.

The queries keep the database's names (``repo_id``, ``ci_low``): the tests and the benchmark speak
them. Only what the browser shows changes: ``column_config`` for every column of every table comes
from here (a page may still override one), so a new column cannot appear as ``snake_case``.

Times are stored in UTC. A table shows them in the viewer's time zone (``st.context.timezone``, the
browser's), and the header's hover text names the zone and its offset from UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

__all__ = ["column_config", "in_zone", "viewer_zone"]

# name -> (label, kind, hover text). Kinds: text, count, percent, chars, ratio, float, pvalue, time, flag.
_VOCABULARY: dict[str, tuple[str, str, str | None]] = {
    "id": ("#", "text", None),
    "repo_id": ("repository", "text", "The Hub id, or the folder or URL of a git repository."),
    "model": ("model", "text", "The model's name (the config's `name`, else its Hub id or folder name)."),
    "ref": ("branch", "text", None),
    "source": ("source", "text", "hf: the Hub; git: a git repository; endpoint: an OpenAI-compatible API."),
    "expected_identity": ("expected identity", "text", "The identity the model should claim."),
    "status": ("status", "text", None),
    "head": ("head commit", "text", None),
    "head_title": ("head commit message", "text", None),
    "head_committed_at": ("head committed", "time", None),
    "last_poll_at": ("last poll", "time", None),
    "last_poll_ok": ("last poll ok", "flag", None),
    "polls": ("polls", "count", None),
    "failed_polls": ("failed polls", "count", None),
    "last_poll_error": ("last poll error", "text", None),
    "revisions": ("revisions", "count", None),
    "runs": ("runs", "count", None),
    "baseline": ("baseline", "text", None),
    "candidate": ("candidate", "text", None),
    "kind": ("kind", "text", None),
    "drift": ("drift", "flag", None),
    "severity": ("severity", "text", None),
    "created_at": ("created", "time", None),
    "detected_at": ("detected", "time", None),
    "when": ("committed", "time", "Commit date (first seen, when the source gives none)."),
    "seq": ("order", "count", "Position in the history (0: first seen)."),
    "revision": ("revision", "text", "order·short sha"),
    "title": ("title", "text", None),
    "kinds": ("change kinds", "text", None),
    "silent": ("silent", "flag", "A behaviour change without a tag or a version in its title."),
    "tags": ("tags", "text", None),
    "change": ("change", "text", None),
    "before_line": ("line", "count", "Line number before the change."),
    "before": ("before", "text", None),
    "after_line": ("line", "count", "Line number after the change."),
    "after": ("after", "text", None),
    "path": ("file", "text", None),
    "size_before": ("size before (bytes)", "bytes", None),
    "size_after": ("size after (bytes)", "bytes", None),
    "label": ("label", "text", None),
    "k": ("claims (k)", "count", "Responses with this label."),
    "n": ("responses (n)", "count", "Responses counted."),
    "rate": ("rate", "percent", "k / n"),
    "ci_low": ("95% CI low", "percent", "Wilson interval, 95%."),
    "ci_high": ("95% CI high", "percent", "Wilson interval, 95%."),
    "expected": ("expected", "flag", "The label is the expected identity."),
    "probe_id": ("probe", "text", None),
    "language": ("language", "text", None),
    "baseline_n": ("baseline n", "count", "Scored responses of the baseline."),
    "candidate_n": ("candidate n", "count", "Scored responses of the candidate."),
    "baseline_accuracy": ("baseline accuracy", "percent", None),
    "candidate_accuracy": ("candidate accuracy", "percent", None),
    "difference": ("difference", "float", "candidate − baseline"),
    "think_state": ("think block", "text", None),
    "truncated": ("truncated", "count", "Responses cut at max_tokens."),
    "truncated_rate": ("truncated (share)", "percent", None),
    "mean_answer_chars": ("mean answer length (characters)", "chars", None),
    "mean_think_chars": ("mean think length (characters)", "chars", None),
    "answer_chars": ("answer length (characters)", "chars", None),
    "name": ("metric", "text", None),
    "significant": ("flagged", "flag", "Significant after correction for multiple tests."),
    "test": ("test", "text", None),
    "p_value": ("p-value", "pvalue", None),
    "p_adjusted": ("adjusted p-value", "pvalue", "Holm/Benjamini-Hochberg corrected."),
    "category": ("category", "text", None),
    "label_shift": ("label shift", "percent", "Share of responses whose identity label moved."),
    "baseline_top": ("baseline top label", "text", None),
    "candidate_top": ("candidate top label", "text", None),
    "accuracy_change": ("accuracy change", "percent", None),
    "attempts": ("attempts", "count", None),
    "last_error": ("last error", "text", None),
    "delivered_to": ("delivered to", "count", "Channels that delivered it."),
    "channels": ("channels", "count", None),
    "channel": ("channel", "text", None),
    "next_attempt_at": ("next attempt", "time", None),
    "delivered_at": ("delivered", "time", None),
    "acknowledged_by": ("acknowledged by", "text", "'(unverified)': typed, not from the proxy or a login."),
    "acknowledged_at": ("acknowledged", "time", None),
    "ack_comment": ("comment", "text", None),
    "sample_index": ("sample", "count", None),
    "confidence": ("confidence", "ratio", None),
    "reviewer_label": ("reviewer's label", "text", None),
    "answer_excerpt": ("answer (first 120 characters)", "text", None),
    "reviewer": ("reviewer", "text", "'(unverified)': typed, not from the proxy or a login."),
    "correct": ("correct", "flag", None),
    "finish_reason": ("finish reason", "text", None),
    "classifier_version": ("classifier version", "text", None),
    "reasoning_label": ("label of the reasoning part", "text", None),
    "evidence": ("evidence", "text", None),
    "comment": ("comment", "text", None),
    "weights": ("weights", "text", "Digest over every weight file."),
    "weight_files": ("weight files", "text", "Count · digest."),
    "tokenizer": ("tokenizer", "text", None),
    "tokenizer_config": ("tokenizer config", "text", "tokenizer_config.json without its chat template."),
    "chat_template": ("chat template", "text", None),
    "generation_config": ("generation config", "text", None),
    "config": ("model config", "text", None),
    "remote_code": ("remote code", "text", None),
    "pickle_files": ("pickle weights", "text", None),
    "run_id": ("run", "text", None),
    "suite": ("suite", "text", None),
    "engine": ("engine", "text", None),
    "started_at": ("started", "time", None),
    "stored": ("answers stored", "count", None),
    "expected_responses": ("answers expected", "count", None),
    "tasks_queued": ("tasks queued", "count", "Ray shards waiting for a worker (or to be retried)."),
    "tasks_running": ("tasks running", "count", None),
    "tasks_done": ("tasks done", "count", None),
    "where": ("where", "text", "The Ray node of the run's tasks, else the local device."),
}


def viewer_zone() -> ZoneInfo:
    """The browser's time zone (UTC when the browser does not say, as in tests)."""
    name = st.context.timezone
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _zone_help(zone: ZoneInfo) -> str:
    offset = dt.datetime.now(zone).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    return f"In your time zone, {zone.key} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}); stored in UTC."


def _config(name: str, zone: ZoneInfo) -> Any:
    label, kind, hover = _VOCABULARY.get(name, (name.replace("_", " "), "text", None))
    if kind == "time":
        return st.column_config.DatetimeColumn(
            label, format="YYYY-MM-DD HH:mm", timezone=zone.key, help=" ".join(filter(None, [hover, _zone_help(zone)]))
        )
    if kind == "percent":
        return st.column_config.NumberColumn(label, format="percent", help=hover)
    if kind == "count":
        return st.column_config.NumberColumn(label, format="%d", help=hover)
    if kind == "chars":
        return st.column_config.NumberColumn(label, format="%.0f", help=hover)
    if kind == "bytes":
        return st.column_config.NumberColumn(label, format="localized", help=hover)
    if kind == "ratio":
        return st.column_config.NumberColumn(label, format="%.2f", help=hover)
    if kind == "pvalue":
        return st.column_config.NumberColumn(label, format="%.2e", help=hover)
    if kind == "float":
        return st.column_config.NumberColumn(label, format="%+.3f", help=hover)
    if kind == "flag":
        return st.column_config.CheckboxColumn(label, help=hover)
    return st.column_config.Column(label, help=hover)


def column_config(frame: pd.DataFrame, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """A label (and unit, format, hover text) for every column of ``frame``; ``overrides`` win."""
    zone = viewer_zone()
    config = {str(name): _config(str(name), zone) for name in frame.columns}
    for name, override in (overrides or {}).items():
        default = config.get(name)
        if isinstance(override, str) and isinstance(default, dict):
            config[name] = {**default, "label": override}
        elif isinstance(override, dict) and isinstance(default, dict):
            # A page's format or type wins; the vocabulary's label and hover text stay unless it gives its own.
            config[name] = {**default, **{key: value for key, value in override.items() if value is not None}}
        else:
            config[name] = override
    return config


def in_zone(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its time columns converted to the viewer's zone (the values stay the same instants)."""
    zone = viewer_zone()
    converted = frame.copy()
    for name in frame.columns:
        if _VOCABULARY.get(str(name), ("", "", None))[1] == "time":
            converted[name] = pd.to_datetime(frame[name], utc=True).dt.tz_convert(zone.key)
    return converted
