"""Reasoning: accuracy per revision with intervals, per-problem differences, think and truncation rates, lengths."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import _common, _stats
from dashboard import queries as q

current = _common.choice()
model_id = _common.require_model(current)
url = current.url
st.title("Reasoning")
st.caption(f"{current.name}: how well it solves the reasoning probes, and the shape of what it writes.")

revisions = _common.revision_order(url, model_id)
order = list(revisions["revision"])
aggregate = q.format_by_revision(url, model_id)
if aggregate.empty:
    st.info("No analysed responses yet: run `drift-monitor analyze`.")
    st.stop()
aggregate = aggregate.merge(revisions[["revision_sha", "revision"]], on="revision_sha", how="left")
percent = st.column_config.NumberColumn(format="percent")
rate_tooltip = [
    alt.Tooltip("rate:Q", format=".1%"),
    alt.Tooltip("ci_low:Q", format=".1%"),
    alt.Tooltip("ci_high:Q", format=".1%"),
]


def rate_chart(frame: pd.DataFrame, title: str, color: str | None = None) -> alt.LayerChart:
    """Points with 95% Wilson error bars per revision; the tooltip gives k and n."""
    encoding: dict[str, Any] = {
        "x": alt.X("revision:N", sort=order, title="revision"),
        "tooltip": ["revision", *([color] if color else []), "k", "n", *rate_tooltip],
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N")
    base = alt.Chart(frame).encode(**encoding)
    points = base.mark_line(point=True).encode(
        y=alt.Y("rate:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]), title=title)
    )
    return points + base.mark_errorbar().encode(y=alt.Y("ci_low:Q", title=title), y2="ci_high:Q")


# --- accuracy ---------------------------------------------------------------------------------------------
st.subheader("Accuracy per revision")
accuracy = aggregate.groupby("revision", as_index=False)[["scored", "correct"]].sum()
accuracy = accuracy[accuracy["scored"] > 0].rename(columns={"correct": "k", "scored": "n"})
if accuracy.empty:
    st.caption("No scored reasoning responses (problems with a gold answer) yet.")
else:
    accuracy = _stats.add_rate(accuracy)
    st.altair_chart(rate_chart(accuracy, "accuracy"), width="stretch")
    _common.table(
        accuracy.assign(position=accuracy["revision"].map(order.index)).sort_values("position")[
            ["revision", "k", "n", "rate", "ci_low", "ci_high"]
        ],
        column_config={"k": "correct (k)", "n": "scored (n)", "rate": percent, "ci_low": percent, "ci_high": percent},
    )

# --- per-problem differences ---------------------------------------------------------------------------
st.subheader("Per-problem differences")
left, right = st.columns(2)
baseline = left.selectbox("Baseline", order, index=max(len(order) - 2, 0), key="reasoning_baseline")
candidate = right.selectbox("Candidate", order, index=len(order) - 1, key="reasoning_candidate")
sha_of = dict(zip(revisions["revision"], revisions["revision_sha"], strict=True))
problems = q.accuracy_by_problem(url, model_id, (sha_of[baseline], sha_of[candidate]))
if problems.empty:
    st.caption("No scored problems on these revisions.")
else:
    problems = problems.merge(revisions[["revision_sha", "revision"]], on="revision_sha")
    wide = problems.pivot_table(index="probe_id", columns="revision", values=["k", "n"], aggfunc="sum")
    per_problem = pd.DataFrame({"probe_id": wide.index})
    for side, name in (("baseline", baseline), ("candidate", candidate)):
        k = wide["k"][name].to_numpy(dtype=float) if name in wide["k"] else np.full(len(wide), np.nan)
        n = wide["n"][name].to_numpy(dtype=float) if name in wide["n"] else np.full(len(wide), np.nan)
        per_problem[f"{side}_n"] = n
        with np.errstate(divide="ignore", invalid="ignore"):
            per_problem[f"{side}_accuracy"] = k / n
    per_problem["difference"] = per_problem["candidate_accuracy"] - per_problem["baseline_accuracy"]
    per_problem = per_problem.sort_values("difference", na_position="last").reset_index(drop=True)
    changed = per_problem.dropna(subset=["difference"])
    st.caption(
        f"{(changed['difference'] < 0).sum()} problems got worse, {(changed['difference'] > 0).sum()} better, "
        f"{(changed['difference'] == 0).sum()} unchanged (of {len(changed)} scored on both)."
    )
    bars = (
        alt.Chart(changed.head(40))
        .mark_bar()
        .encode(
            x=alt.X("difference:Q", axis=alt.Axis(format="%"), title="candidate − baseline accuracy"),
            y=alt.Y("probe_id:N", sort=None, title="problem"),
            color=alt.condition("datum.difference < 0", alt.value("#d62728"), alt.value("#2ca02c")),
            tooltip=[
                "probe_id",
                "baseline_n",
                alt.Tooltip("baseline_accuracy:Q", format=".0%"),
                "candidate_n",
                alt.Tooltip("candidate_accuracy:Q", format=".0%"),
                alt.Tooltip("difference:Q", format="+.0%"),
            ],
        )
    )
    st.altair_chart(bars, width="stretch")
    _common.table(
        per_problem,
        column_config={
            "baseline_accuracy": percent,
            "candidate_accuracy": percent,
            "difference": st.column_config.NumberColumn(format="percent"),
        },
    )

# --- format: think, truncation, lengths -----------------------------------------------------------------
st.subheader("Think blocks and truncation")
category_names = sorted(aggregate["category"].dropna().unique())
options = ["(all)", *category_names]
category_choice = st.selectbox("Responses", options, key="reasoning_category")
shape = aggregate if category_choice == "(all)" else aggregate[aggregate["category"] == category_choice]

think = shape.groupby(["revision", "think_state"], as_index=False)["n"].sum().rename(columns={"n": "k"})
think["n"] = think.groupby("revision")["k"].transform("sum")
think = _stats.add_rate(think)
st.altair_chart(rate_chart(think, "share of responses", color="think_state"), width="stretch")
with st.expander("Think states per revision (k of n)"):
    _common.table(
        think.assign(position=think["revision"].map(order.index)).sort_values(["position", "think_state"])[
            ["revision", "think_state", "k", "n", "rate", "ci_low", "ci_high"]
        ],
        column_config={"rate": percent, "ci_low": percent, "ci_high": percent},
    )

totals = shape.groupby("revision", as_index=False)[["n", "truncated", "answer_chars", "think_chars"]].sum()
truncation = _stats.add_rate(totals.rename(columns={"truncated": "k"})[["revision", "k", "n"]])
st.altair_chart(rate_chart(truncation, "truncated"), width="stretch")

totals["mean_answer_chars"] = totals["answer_chars"] / totals["n"]
totals["mean_think_chars"] = totals["think_chars"] / totals["n"]
totals = totals.assign(position=totals["revision"].map(order.index)).sort_values("position")
truncated_rate = truncation.set_index("revision")["rate"]
_common.table(
    totals.assign(truncated_rate=totals["revision"].map(truncated_rate))[
        [
            "revision",
            "n",
            "truncated",
            "truncated_rate",
            "mean_answer_chars",
            "mean_think_chars",
        ]
    ],
    column_config={
        "truncated_rate": percent,
        "mean_answer_chars": st.column_config.NumberColumn(format="%.0f"),
        "mean_think_chars": st.column_config.NumberColumn(format="%.0f"),
    },
)

st.subheader("Lengths")
means = totals.melt(
    id_vars=["revision", "n"],
    value_vars=["mean_answer_chars", "mean_think_chars"],
    var_name="part",
    value_name="mean_chars",
)
st.altair_chart(
    alt.Chart(means)
    .mark_line(point=True)
    .encode(
        x=alt.X("revision:N", sort=order),
        y=alt.Y("mean_chars:Q", title="mean characters"),
        color="part:N",
        tooltip=["revision", "part", alt.Tooltip("mean_chars:Q", format=".0f"), "n"],
    ),
    width="stretch",
)
field = st.radio(
    "Distribution of",
    ["answer_chars", "think_chars"],
    horizontal=True,
    key="reasoning_length_field",
    format_func=lambda name: "answer length" if name == "answer_chars" else "think length",
)
bin_chars = 50 if field == "answer_chars" else 200
histogram = q.length_histogram(url, model_id, (sha_of[baseline], sha_of[candidate]), field, bin_chars)
if not histogram.empty:
    histogram = histogram.merge(revisions[["revision_sha", "revision"]], on="revision_sha")
    histogram["bin_end"] = histogram["bin_start"] + bin_chars
    histogram["share"] = histogram["n"] / histogram.groupby("revision")["n"].transform("sum")
    st.altair_chart(
        alt.Chart(histogram)
        .mark_bar(opacity=0.6)
        .encode(
            x=alt.X("bin_start:Q", bin="binned", title=f"characters (bins of {bin_chars})"),
            x2="bin_end:Q",
            y=alt.Y("share:Q", stack=None, axis=alt.Axis(format="%")),
            color="revision:N",
            tooltip=["revision", "bin_start", "n", alt.Tooltip("share:Q", format=".1%")],
        ),
        width="stretch",
    )
