"""Identity: who the model says it is, per revision, probe and language, with Wilson intervals and n."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import _common, _stats
from dashboard import queries as q

current = _common.choice()
model_id = _common.require_model(current)
url = current.url
st.title("Identity")
expected = current.expected_identity
st.caption(
    f"{current.name}: share of responses whose final answer claims each identity. "
    + (f"Expected identity: {expected} (highlighted)." if expected else "No expected identity is configured.")
)
if current.classifier_version is None:
    st.info("No identity labels yet: run `drift-monitor analyze`.")
    st.stop()
classifier = current.classifier_version

revisions = _common.revision_order(url, model_id)
order = list(revisions["revision"])
category_frame = q.categories(url, model_id)
category_names = list(category_frame["category"])
options = ["(all)", *category_names]
category_choice = st.selectbox(
    "Responses",
    options,
    index=options.index("identity") if "identity" in options else 0,
    key="identity_category",
    help="Which probe category to count (identity probes by default).",
)
category = None if category_choice == "(all)" else category_choice


def with_revision(frame: pd.DataFrame) -> pd.DataFrame:
    """Attach the display name and order of each revision."""
    return frame.merge(revisions[["revision_sha", "revision"]], on="revision_sha", how="left")


rates = q.identity_by_revision(url, model_id, classifier, category)
if rates.empty:
    st.info("No labelled responses for this choice.")
    st.stop()
rates = _stats.add_rate(with_revision(_stats.complete_labels(rates, ["revision_sha"])))
rates["expected"] = rates["label"] == expected

st.subheader("Claim rate per revision")
if expected:
    expected_rows = rates[rates["expected"]].set_index("revision").reindex(order)
    head = order[-1]
    rate = expected_rows.at[head, "rate"] if head in expected_rows.index else float("nan")
    n_head = int(rates.loc[rates["revision"] == head, "n"].max()) if (rates["revision"] == head).any() else 0
    previous = expected_rows["rate"].dropna()
    previous = previous[previous.index != head]
    st.metric(
        f"Claims {expected} at {head} (n={n_head})",
        "n/a" if pd.isna(rate) else f"{rate:.0%}",
        delta=None if previous.empty or pd.isna(rate) else f"{(rate - previous.iloc[-1]) * 100:+.0f} pts",
    )

base = alt.Chart(rates).encode(
    x=alt.X("revision:N", sort=order, title="revision"),
    color=alt.Color("label:N", title="label"),
    tooltip=[
        "revision",
        "label",
        alt.Tooltip("k:Q", title="claims"),
        alt.Tooltip("n:Q", title="n"),
        alt.Tooltip("rate:Q", format=".1%"),
        alt.Tooltip("ci_low:Q", format=".1%", title="95% CI low"),
        alt.Tooltip("ci_high:Q", format=".1%", title="95% CI high"),
    ],
)
lines = base.mark_line(point=True).encode(
    y=alt.Y("rate:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]), title="claim rate"),
    strokeWidth=alt.condition("datum.expected", alt.value(4), alt.value(1.5)),
    opacity=alt.condition("datum.expected", alt.value(1.0), alt.value(0.6)),
)
bars = base.mark_errorbar().encode(y=alt.Y("ci_low:Q", title="claim rate"), y2="ci_high:Q")
st.altair_chart(lines + bars, width="stretch")

shown = rates.assign(position=rates["revision"].map(order.index)).sort_values(
    ["position", "k"], ascending=[False, False]
)[["revision", "label", "k", "n", "rate", "ci_low", "ci_high", "expected"]]
percent = st.column_config.NumberColumn(format="percent")
_common.table(
    shown.style.apply(lambda row: ["background-color: #fff3b0" if row["expected"] else "" for _ in row], axis=1)
)

st.subheader("Per probe and per language")
default = order[-2:] if len(order) >= 2 else order
picked = st.multiselect("Revisions", order, default=default, key="identity_revisions")
shas = tuple(revisions.loc[revisions["revision"].isin(picked), "revision_sha"])
if not shas:
    st.caption("Choose at least one revision.")
    st.stop()

probes = q.identity_by_probe(url, model_id, classifier, shas, category)
probes = _stats.add_rate(with_revision(_stats.complete_labels(probes, ["revision_sha", "probe_id"])))
heat = (
    alt.Chart(probes)
    .mark_rect()
    .encode(
        x=alt.X("label:N", title="label"),
        y=alt.Y("probe_id:N", title="probe"),
        column=alt.Column("revision:N", sort=order, title=None),
        color=alt.Color("rate:Q", scale=alt.Scale(domain=[0, 1], scheme="oranges"), title="rate"),
        tooltip=["revision", "probe_id", "label", "k", "n", alt.Tooltip("rate:Q", format=".0%")],
    )
)
st.altair_chart(heat)
with st.expander("Per-probe table"):
    _common.table(
        probes[["revision", "probe_id", "label", "k", "n", "rate", "ci_low", "ci_high"]],
        column_config={"rate": percent, "ci_low": percent, "ci_high": percent},
    )

field = st.radio(
    "Language of",
    ["prompt_language", "language"],
    format_func=lambda name: "the prompt" if name == "prompt_language" else "the answer (detected)",
    horizontal=True,
    key="identity_language_field",
)
languages = q.identity_by_language(url, model_id, classifier, shas, category, field)
languages = _stats.add_rate(with_revision(_stats.complete_labels(languages, ["revision_sha", "language"])))
lang_chart = (
    alt.Chart(languages)
    .mark_bar()
    .encode(
        x=alt.X("language:N", title="language"),
        y=alt.Y("rate:Q", axis=alt.Axis(format="%"), stack="zero", title="share"),
        color=alt.Color("label:N"),
        column=alt.Column("revision:N", sort=order, title=None),
        tooltip=["revision", "language", "label", "k", "n", alt.Tooltip("rate:Q", format=".0%")],
    )
)
st.altair_chart(lang_chart)
_common.table(
    languages[["revision", "language", "label", "k", "n", "rate", "ci_low", "ci_high"]],
    column_config={"rate": percent, "ci_low": percent, "ci_high": percent},
)
