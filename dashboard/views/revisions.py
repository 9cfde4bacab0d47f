"""Revisions: the commit timeline with change kinds and silent flags, changed files, and fingerprints."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import _common
from dashboard import queries as q

current = _common.choice()
model_id = _common.require_model(current)
st.title("Revisions")
st.caption(f"{current.name}: every commit seen, what kind of change it was, and whether anybody said so.")

timeline = q.change_timeline(current.url, model_id)
if timeline.empty:
    st.info("No revisions recorded yet: run `drift-monitor check` to poll this model.")
    st.stop()

timeline = timeline.assign(
    revision=[f"{int(seq)}·{_common.short(sha)}" for seq, sha in zip(timeline["seq"], timeline["sha"], strict=True)],
    when=timeline["committed_at"].fillna(timeline["seen_at"]),
    kinds=timeline["kinds"].map(lambda value: list(value) if isinstance(value, list) else []),
    silent=timeline["silent"].map(lambda value: bool(value) if pd.notna(value) else False),
    tags=timeline["tags"].map(lambda value: ", ".join(map(str, value)) if isinstance(value, list) else ""),
)

left, middle, right = st.columns(3)
left.metric("Revisions", timeline["sha"].nunique())
middle.metric("Silent behaviour changes", int(timeline["silent"].sum()))
right.metric("Revisions with runs", int((timeline["runs"] > 0).sum()))

points = timeline.explode("kinds").assign(kind=lambda frame: frame["kinds"].fillna("(no event)"))
points["flag"] = points["silent"].map({True: "silent", False: "announced"})
chart = (
    alt.Chart(points[["when", "kind", "flag", "revision", "title", "runs"]])
    .mark_point(filled=True, size=140)
    .encode(
        x=alt.X("when:T", title="committed"),
        y=alt.Y("kind:N", title="change kind"),
        color=alt.Color("flag:N", scale=alt.Scale(domain=["silent", "announced"], range=["#d62728", "#1f77b4"])),
        shape=alt.Shape("flag:N", scale=alt.Scale(domain=["silent", "announced"], range=["triangle-up", "circle"])),
        tooltip=["revision", "title", "kind", "flag", "when:T", "runs"],
    )
)
rules = alt.Chart(points[["when"]].drop_duplicates()).mark_rule(color="#dddddd").encode(x="when:T")
st.altair_chart(rules + chart, width="stretch")

st.subheader("Timeline")
_common.table(
    timeline.assign(kinds=timeline["kinds"].map(", ".join))[
        ["seq", "revision", "when", "title", "kinds", "silent", "tags", "runs", "detected_at"]
    ].sort_values("seq", ascending=False),
)

st.subheader("Changed files")
choices = list(timeline.index)
picked = st.selectbox(
    "Revision",
    choices,
    index=len(choices) - 1,
    format_func=lambda i: f"{timeline.at[i, 'revision']}  {timeline.at[i, 'title'] or ''}",
    key="revisions_pick",
)
row = timeline.loc[picked]
st.text(f"{row['sha']}  ←  {row['from_sha'] or '(first seen)'}")
files = _common.changed_files(row["details"])
if files:
    _common.table(pd.DataFrame(files, columns=["change", "path"]))
else:
    st.caption("This change event lists no files.")
with st.expander("Raw change details"):
    st.json(row["details"] if isinstance(row["details"], dict) else {})

st.subheader("Fingerprints")
fingerprints = q.revision_fingerprints(current.url, model_id)
table = pd.DataFrame(
    [fp if isinstance(fp, dict) else {} for fp in fingerprints["fingerprints"]], index=fingerprints.index
)
if table.empty or table.columns.empty:
    st.caption("No fingerprints recorded.")
else:
    table = table.map(_common.fingerprint_cell)
    changed = table.ne(table.shift(1)) & table.shift(1).notna()
    table.insert(
        0,
        "revision",
        [f"{int(s)}·{_common.short(h)}" for s, h in zip(fingerprints["seq"], fingerprints["sha"], strict=True)],
    )
    changed.insert(0, "revision", False)
    styled = table.style.apply(
        lambda column: ["background-color: #ffe0e0" if flag else "" for flag in changed[column.name]], axis=0
    )
    st.caption("A cell is shaded where the fingerprint differs from the revision before.")
    _common.table(styled)
