"""Revisions: the commit timeline with change kinds and silent flags, changed files, and fingerprints."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import _common, _diff
from dashboard import queries as q
from monitor.hub import SMALL_FILES, category

_COLOURS = {"removed": "#ffe0e0", "added": "#e0ffe0", "changed": "#fff3b0"}

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
# The chart draws in the browser's zone; hovering a point gives UTC as well.
points["when_utc"] = pd.to_datetime(points["when"], utc=True).dt.strftime("%Y-%m-%d %H:%M UTC")
chart = (
    alt.Chart(points[["when", "when_utc", "kind", "flag", "revision", "title", "runs"]])
    .mark_point(filled=True, size=140)
    .encode(
        x=alt.X("when:T", title="committed"),
        y=alt.Y("kind:N", title="change kind"),
        color=alt.Color("flag:N", scale=alt.Scale(domain=["silent", "announced"], range=["#d62728", "#1f77b4"])),
        shape=alt.Shape("flag:N", scale=alt.Scale(domain=["silent", "announced"], range=["triangle-up", "circle"])),
        tooltip=[
            "revision",
            "title",
            "kind",
            "flag",
            alt.Tooltip("when:T", title="committed (your time)", format="%Y-%m-%d %H:%M"),
            alt.Tooltip("when_utc:N", title="committed (UTC)"),
            "runs",
        ],
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
# A bookmark or a link from an alert, ?revision=SHA (a prefix will do), opens that revision.
linked = str(st.query_params.get("revision") or "")
matches = [i for i in choices if linked and str(timeline.at[i, "sha"]).startswith(linked)]
picked = st.selectbox(
    "Revision",
    choices,
    index=choices.index(matches[0]) if matches else len(choices) - 1,
    format_func=lambda i: f"{timeline.at[i, 'revision']}  {timeline.at[i, 'title'] or ''}",
    key="revisions_pick",
)
row = timeline.loc[picked]
st.text(f"{row['sha']}  ←  {row['from_sha'] or '(first seen)'}")
details = row["details"] if isinstance(row["details"], dict) else {}

left, right = st.columns(2)
with left:
    st.page_link(
        "views/compare.py",
        label="Comparison of this revision",
        icon=":material/compare_arrows:",
        query_params={"candidate": str(row["sha"])},
    )
with right:
    st.page_link(
        "views/alerts.py",
        label="Alerts about this revision",
        icon=":material/notifications:",
        query_params={"revision": str(row["sha"])},
    )

files = pd.DataFrame(_common.changed_files(details), columns=["change", "path"])
if files.empty:
    st.caption("This change event lists no files.")
else:
    sides = (str(row["from_sha"]), str(row["sha"])) if isinstance(row["from_sha"], str) else (str(row["sha"]),)
    sizes = q.file_sizes(current.url, model_id, sides)
    size_of = {(sha, path): size for sha, path, size in sizes.itertuples(index=False)}
    before_sha = sides[0] if len(sides) == 2 else None
    files["category"] = files["path"].map(category)
    files["size_before"] = [size_of.get((before_sha, path)) if before_sha else None for path in files["path"]]
    files["size_after"] = [size_of.get((str(row["sha"]), path)) for path in files["path"]]
    for column in ("size_before", "size_after"):
        files[column] = pd.to_numeric(files[column]).astype("Int64")
    _common.table(files)
    weights = files[files["category"] == "weights"]
    if not weights.empty:
        st.caption(
            f"Weights: {len(weights)} shard(s) changed, {_common.human_size(weights['size_after'].sum())} now "
            f"(was {_common.human_size(weights['size_before'].sum())})."
        )

contents = details.get("file_contents") or {}
if contents:
    st.subheader("What changed inside the small files")
for path, sides_text in sorted(contents.items()):
    before, after = sides_text.get("before"), sides_text.get("after")
    if before is None or after is None:
        st.caption(f"{path}: {sides_text.get('before_note') or sides_text.get('after_note') or 'not stored'}.")
        continue
    for section in _diff.sections(path, before, after):
        st.markdown(f"**{section.title}**")
        diff = _diff.side_by_side(section.before, section.after)
        _common.table(
            diff.style.apply(
                lambda line: [f"background-color: {_COLOURS.get(line['change'], '')}" for _ in line], axis=1
            ),
            column_config={
                "before": st.column_config.TextColumn("before", width="large"),
                "after": st.column_config.TextColumn("after", width="large"),
            },
        )
        with st.expander(f"{section.title} as a unified diff"):
            st.code(_diff.unified(section.before, section.after, section.title), language="diff")
if files.empty is False and not contents and any(files["path"].isin(SMALL_FILES)):
    st.caption("The text of these files was not kept for this event (polled before the monitor stored it).")
with st.expander("Raw change details"):
    st.json({key: value for key, value in details.items() if key != "file_contents"})

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
