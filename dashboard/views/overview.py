"""Overview: every watched model, its head, its last poll, its open alerts and the latest verdicts."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import _common
from dashboard import queries as q

current = _common.choice()
url = current.url
st.title("Overview")

models = q.models(url)
if models.empty:
    st.info("No watched models yet. Add one with `drift-monitor watch add REPO`, or run `drift-monitor demo`.")
    st.stop()

polls = q.poll_summary(url)
open_alerts = _common.with_model_names(url, q.open_alerts_by_severity(url))
verdicts = _common.with_model_names(url, q.latest_verdicts(url))

latest = verdicts.drop_duplicates("model", keep="first") if not verdicts.empty else verdicts
drifting = int(latest["drift"].astype(bool).sum()) if not latest.empty else 0
failing = int((models["consecutive_poll_failures"] > 0).sum())
left, middle, middle2, right = st.columns(4)
left.metric("Watched models", len(models))
middle.metric("Open alerts", int(open_alerts["open_alerts"].sum()) if not open_alerts.empty else 0)
middle2.metric("Drifting now (latest verdict)", drifting)
right.metric("Models whose last poll failed", failing)

st.subheader("Watched models")
overview = _common.with_model_names(url, models, keep_repo=True).merge(
    polls, how="left", left_on="id", right_on="model_id"
)
overview["head"] = overview["head_sha"].map(_common.short)
overview["polls"] = overview["polls"].fillna(0).astype(int)
overview["failed_polls"] = overview["failed_polls"].fillna(0).astype(int)
_common.table(
    overview[
        [
            "model",
            "repo_id",
            "ref",
            "source",
            "expected_identity",
            "status",
            "head",
            "head_title",
            "head_committed_at",
            "last_poll_at",
            "last_poll_ok",
            "polls",
            "failed_polls",
            "last_poll_error",
            "revisions",
            "runs",
        ]
    ],
)

st.subheader("Runs in flight")
in_flight = _common.with_model_names(url, q.runs_in_flight(url))
if in_flight.empty:
    st.caption("No run is being generated now.")
else:
    _common.table(
        in_flight.assign(revision=in_flight["revision_sha"].map(_common.short))[
            [
                "model",
                "suite",
                "revision",
                "engine",
                "stored",
                "expected_responses",
                "tasks_queued",
                "tasks_running",
                "tasks_done",
                "where",
                "started_at",
            ]
        ]
    )

st.subheader("Open alerts by severity")
if open_alerts.empty:
    st.success("No open alerts.")
else:
    severity_order = ["high", "medium", "low"]
    chart = (
        alt.Chart(open_alerts)
        .mark_bar()
        .encode(
            x=alt.X("open_alerts:Q", title="open alerts"),
            y=alt.Y("model:N", title=None),
            color=alt.Color(
                "severity:N",
                sort=severity_order,
                scale=alt.Scale(domain=severity_order, range=["#d62728", "#ff7f0e", "#7f7f7f"]),
            ),
            tooltip=["model", "severity", alt.Tooltip("open_alerts:Q", title="open alerts")],
        )
    )
    st.altair_chart(chart, width="stretch")
    pivot = open_alerts.pivot_table(
        index="model", columns="severity", values="open_alerts", aggfunc="sum", fill_value=0
    ).reset_index()
    _common.table(pivot[["model", *[s for s in severity_order if s in pivot.columns]]])

st.subheader("Latest verdicts")
if verdicts.empty:
    st.info("No drift comparisons yet: they appear once a new revision has been run and compared.")
else:
    shown = verdicts.assign(
        baseline=verdicts["baseline_sha"].map(_common.short),
        candidate=verdicts["candidate_sha"].map(_common.short),
    )
    st.caption("Newest per model")
    _common.table(
        latest.assign(
            baseline=latest["baseline_sha"].map(_common.short), candidate=latest["candidate_sha"].map(_common.short)
        )[["model", "baseline", "candidate", "drift", "severity", "created_at"]]
    )
    with st.expander(f"All recent comparisons ({len(shown)})"):
        _common.table(shown[["id", "model", "baseline", "candidate", "kind", "drift", "severity", "created_at"]])
