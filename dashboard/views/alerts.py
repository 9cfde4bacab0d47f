"""Alerts: filter the outbox and acknowledge an alert with a name and a comment."""

from __future__ import annotations

import streamlit as st

from dashboard import _common, _reviewer
from dashboard import queries as q
from monitor.errors import MonitorError

_MESSAGE = "alerts_message"

current = _common.choice()
url = current.url
st.title("Alerts")
if _MESSAGE in st.session_state:
    st.success(st.session_state.pop(_MESSAGE))

facets = q.alert_facets(url)
if facets.empty:
    st.success("No alerts yet.")
    st.stop()

one, two, three, four = st.columns(4)
severity_order = ["high", "medium", "low"]
severities = one.multiselect(
    "Severity",
    sorted(facets["severity"].unique(), key=lambda s: severity_order.index(s) if s in severity_order else 9),
    key="alerts_severity",
)
kinds = two.multiselect("Kind", sorted(facets["kind"].unique()), key="alerts_kind")
statuses = three.multiselect("Delivery status", sorted(facets["status"].unique()), key="alerts_status")
scope = four.radio("Models", ["all", "chosen in the sidebar"], key="alerts_scope")
open_only = st.checkbox("Open only (not acknowledged)", value=True, key="alerts_open_only")
# From the Revisions page or a bookmark: ?revision=SHA keeps the alerts about that commit.
revision = str(st.query_params.get("revision") or "") or None
if revision:
    st.caption(f"Alerts about revision {revision[:12]} (its change event and comparisons on either side).")

found = q.alerts(
    url,
    kinds=tuple(kinds),
    severities=tuple(severities),
    statuses=tuple(statuses),
    model_id=current.model_id if scope != "all" else None,
    open_only=open_only,
    revision=revision,
)
st.caption(f"{len(found)} alerts match (newest first, at most 500).")
_common.table(_common.with_model_names(url, found))

if not found.empty:
    with st.expander("Payload and deliveries"):
        picked = st.selectbox(
            "Alert",
            list(found["id"]),
            key="alerts_detail",
            format_func=lambda i: f"#{i} {found.loc[found['id'] == i, 'title'].iloc[0]}",
        )
        payload, deliveries = q.alert_deliveries(url, int(picked))
        st.json(payload)
        _common.table(deliveries)

st.subheader("Acknowledge")
reviewer = _common.reviewer()
if not reviewer.can_write:
    st.info(reviewer.why_read_only)
    st.stop()
open_alerts = found[found["acknowledged_at"].isna()] if not found.empty else found
if open_alerts.empty:
    st.caption("No open alert in this view.")
    st.stop()
titles = dict(zip(open_alerts["id"].astype(int), open_alerts["title"], strict=True))
severity_of = dict(zip(open_alerts["id"].astype(int), open_alerts["severity"], strict=True))
with st.form("acknowledge", clear_on_submit=False):
    alert_id = st.selectbox(
        "Alert", list(titles), key="ack_alert", format_func=lambda i: f"#{i} [{severity_of[i]}] {titles[i]}"
    )
    if reviewer.verified:
        st.text(f"Acknowledged by: {reviewer.name}")
        typed = ""
    else:
        typed = st.text_input("Your name (unverified)", key="ack_by", max_chars=_reviewer.NAME_MAX - 13)
    comment = st.text_area("Comment", key="ack_comment", placeholder="What you checked, what happens next")
    submitted = st.form_submit_button("Acknowledge", key="ack_submit")
if submitted:
    try:
        done = q.acknowledge_alert(url, int(alert_id), by=_reviewer.stored_name(reviewer, typed), comment=comment)
    except MonitorError as exc:
        st.error(f"error: {exc}")
    else:
        # Rerun so the table above shows the acknowledgement; the message survives in the session.
        st.session_state[_MESSAGE] = (
            f"Alert #{int(alert_id)} acknowledged." if done else f"Alert #{int(alert_id)} was already acknowledged."
        )
        st.rerun()
