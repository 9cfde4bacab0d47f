"""Compare: a baseline and a candidate revision: the drift report, the most changed probes, an embedding map."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import _common, _stats
from dashboard import queries as q

current = _common.choice()
model_id = _common.require_model(current)
url = current.url
st.title("Compare")

revisions = _common.revision_order(url, model_id)
order = list(revisions["revision"])
name_of = dict(zip(revisions["revision_sha"], revisions["revision"], strict=True))
sha_of = {name: sha for sha, name in name_of.items()}
stored = q.comparisons(url, model_id)

# Default: the newest stored comparison; otherwise the last two revisions with runs.
default_baseline, default_candidate = (order[-2] if len(order) > 1 else order[-1]), order[-1]
if not stored.empty:
    newest = stored.iloc[0]
    if newest["baseline_sha"] in name_of and newest["candidate_sha"] in name_of:
        default_baseline, default_candidate = name_of[newest["baseline_sha"]], name_of[newest["candidate_sha"]]
# A link from the Revisions page or a bookmark: ?candidate=SHA (and ?baseline=SHA) pick the pair; a
# candidate alone is compared with its newest stored baseline, else the revision before it.
wanted = {side: str(st.query_params.get(side) or "") for side in ("baseline", "candidate")}
linked = {side: next((n for s, n in name_of.items() if v and s.startswith(v)), None) for side, v in wanted.items()}
if linked["candidate"] is not None:
    default_candidate = linked["candidate"]
    pairs = stored[stored["candidate_sha"] == sha_of[default_candidate]] if not stored.empty else stored
    if linked["baseline"] is not None:
        default_baseline = linked["baseline"]
    elif not pairs.empty and pairs.iloc[0]["baseline_sha"] in name_of:
        default_baseline = name_of[pairs.iloc[0]["baseline_sha"]]
    else:
        default_baseline = order[max(0, order.index(default_candidate) - 1)]
left, right = st.columns(2)
baseline = left.selectbox("Baseline", order, index=order.index(default_baseline), key="compare_baseline")
candidate = right.selectbox("Candidate", order, index=order.index(default_candidate), key="compare_candidate")
if baseline == candidate:
    st.caption("Same revision on both sides: what you see is run-to-run noise (the noise floor).")

pair = stored[(stored["baseline_sha"] == sha_of[baseline]) & (stored["candidate_sha"] == sha_of[candidate])]
report = q.comparison(url, int(pair.iloc[0]["id"])) if not pair.empty else None

# --- the stored drift report -------------------------------------------------------------------------------
st.subheader("Drift report")
if report is None:
    st.info(
        "No stored report for this pair. Compute one with: drift-monitor compare "
        f"--model {current.repo_id} --baseline {sha_of[baseline]} --candidate {sha_of[candidate]}"
    )
    baseline_runs = q.run_ids(url, model_id, sha_of[baseline])
    candidate_runs = q.run_ids(url, model_id, sha_of[candidate])
else:
    document = report["report"] if isinstance(report["report"], dict) else {}
    baseline_runs = tuple(int(i) for i in report["baseline_run_ids"] or ()) or q.run_ids(
        url, model_id, sha_of[baseline]
    )
    candidate_runs = tuple(int(i) for i in report["candidate_run_ids"] or ()) or q.run_ids(
        url, model_id, sha_of[candidate]
    )
    metrics = pd.DataFrame(document.get("metrics") or [])
    verdict = "DRIFT" if report["drift"] else "no drift"
    flagged_count = int(metrics["significant"].fillna(False).astype(bool).sum()) if "significant" in metrics else 0
    one, two, three = st.columns(3)
    one.metric("Verdict", verdict)
    two.metric("Severity", str(report["severity"]))
    three.metric("Flagged metrics", f"{flagged_count} of {len(metrics)}")
    if not metrics.empty:
        if "ci" in metrics:
            bounds = metrics["ci"].map(
                lambda ci: list(ci) if isinstance(ci, list | tuple) and len(ci) == 2 else [None, None]
            )
            metrics["ci_low"] = bounds.map(lambda ci: ci[0])
            metrics["ci_high"] = bounds.map(lambda ci: ci[1])
            metrics = metrics.drop(columns=["ci"])
        metrics["significant"] = metrics.get("significant", pd.Series(False, index=metrics.index)).fillna(False)
        sort_by = ["significant"] + (["p_adjusted"] if "p_adjusted" in metrics else [])
        metrics = metrics.sort_values(sort_by, ascending=[False] + [True] * (len(sort_by) - 1)).reset_index(drop=True)
        first = [
            "name",
            "significant",
            "baseline",
            "candidate",
            "difference",
            "ci_low",
            "ci_high",
            "test",
            "p_value",
            "p_adjusted",
        ]
        metrics = metrics[[c for c in first if c in metrics] + [c for c in metrics if c not in first]]
        st.caption("Flagged metrics first (significant after correction), then by adjusted p-value.")
        _common.table(
            metrics.style.apply(
                lambda row: ["background-color: #ffe0e0" if row["significant"] else "" for _ in row], axis=1
            )
        )
        if {"difference", "ci_low", "ci_high"} <= set(metrics.columns):
            plot = metrics.dropna(subset=["difference"]).assign(
                flag=lambda f: f["significant"].map({True: "flagged", False: "not flagged"})
            )
            base = alt.Chart(plot).encode(
                y=alt.Y("name:N", sort=list(plot["name"]), title=None),
                color=alt.Color(
                    "flag:N", scale=alt.Scale(domain=["flagged", "not flagged"], range=["#d62728", "#7f7f7f"])
                ),
                tooltip=["name", "baseline", "candidate", "difference", "ci_low", "ci_high", "flag"],
            )
            zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#999999").encode(x="x:Q")
            st.altair_chart(
                zero
                + base.mark_point(filled=True, size=80).encode(x=alt.X("difference:Q", title="candidate − baseline"))
                + base.mark_errorbar().encode(x=alt.X("ci_low:Q", title="candidate − baseline"), x2="ci_high:Q"),
                width="stretch",
            )
    for note in document.get("notes") or []:
        st.text(f"note: {note}")

if not baseline_runs or not candidate_runs:
    st.info("One side has no runs.")
    st.stop()

# --- most changed probes ----------------------------------------------------------------------------------
st.subheader("Most changed probes")
classifier = current.classifier_version or ""
shifts = _stats.probe_shifts(q.probe_changes(url, baseline_runs, candidate_runs, classifier))
percent = st.column_config.NumberColumn(format="percent")
_common.table(
    shifts.head(20),
    column_config={
        "label_shift": percent,
        "baseline_accuracy": percent,
        "candidate_accuracy": percent,
        "change": percent,
    },
)
shown = (
    st.slider(
        "Probes shown side by side", 1, max(1, min(10, len(shifts))), min(3, max(1, len(shifts))), key="compare_probes"
    )
    if len(shifts) > 1
    else len(shifts)
)
samples = st.number_input("Responses per side", 1, 10, 2, key="compare_samples")
for _, probe in shifts.head(int(shown)).iterrows():
    st.divider()
    st.text(
        f"probe {probe['probe_id']} ({probe['category']}): change {probe['change']:.0%}; "
        f"top label {probe['baseline_top']} → {probe['candidate_top']}"
    )
    columns = st.columns(2)
    for column, side, runs in ((columns[0], baseline, baseline_runs), (columns[1], candidate, candidate_runs)):
        with column:
            st.text(f"{side}")
            for _, response in q.probe_responses(
                url, runs, str(probe["probe_id"]), classifier, int(samples)
            ).iterrows():
                correct = "" if pd.isna(response["correct"]) else (" · correct" if response["correct"] else " · wrong")
                st.text(
                    f"response {response['id']} · sample {response['sample_index']} · label {response['label']}"
                    f"{correct}"
                )
                _common.model_text(response["raw_text"])

# --- embedding map ----------------------------------------------------------------------------------------
st.subheader("Embedding map")
all_runs = baseline_runs + candidate_runs
embedders = q.embedding_models(url, all_runs)
if embedders.empty:
    st.caption("No embeddings for these runs yet: run `drift-monitor analyze`.")
    st.stop()
embedder = st.selectbox("Embedding model", list(embedders["model_name"]), key="compare_embedder")
limit = st.select_slider("Points", [200, 500, 1000, 2000], value=1000, key="compare_points")
points = q.embedding_points(url, all_runs, embedder, classifier, int(limit))
matrix = _stats.vectors(list(points["vector"]), list(points["dim"]))
keep = ~np.isnan(matrix).any(axis=1) if matrix.size else np.zeros(len(points), dtype=bool)
points, matrix = points[keep].reset_index(drop=True), matrix[keep]
if len(points) < 3:
    st.caption("Too few embedded answers to draw a map.")
    st.stop()
xy = _stats.pca_2d(matrix)
baseline_set = set(baseline_runs)
points = points.drop(columns=["vector"]).assign(
    pc1=xy[:, 0],
    pc2=xy[:, 1],
    revision=[baseline if run in baseline_set else candidate for run in points["run_id"]],
)
if baseline == candidate:
    points["revision"] = [f"{baseline} run {run}" for run in points["run_id"]]
st.caption(f"{len(points)} answers projected on their first two principal components; colour: revision.")
st.altair_chart(
    alt.Chart(points)
    .mark_circle(size=45, opacity=0.7)
    .encode(
        x=alt.X("pc1:Q", title="PC 1"),
        y=alt.Y("pc2:Q", title="PC 2"),
        color=alt.Color("revision:N"),
        tooltip=["revision", "probe_id", "label", "response_id"],
    )
    .interactive(),
    width="stretch",
)
