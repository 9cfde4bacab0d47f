"""Review: browse responses with their labels and correct a label (stored as a reviewer label)."""

from __future__ import annotations

import math

import streamlit as st

from dashboard import _common, _reviewer
from dashboard import queries as q
from monitor.errors import MonitorError

_PAGE_SIZE = 50
_MESSAGE = "review_message"

current = _common.choice()
model_id = _common.require_model(current)
url = current.url
classifier = current.classifier_version or ""
st.title("Review")
st.caption(
    f"{current.name}: responses with the classifier's label ({classifier or 'none yet'}) and reviewer "
    "corrections. Corrections are kept apart from the classifier's labels; `drift-monitor classifier train` uses them."
)
if _MESSAGE in st.session_state:
    st.success(st.session_state.pop(_MESSAGE))

revisions = _common.revision_order(url, model_id)
sha_of = dict(zip(revisions["revision"], revisions["revision_sha"], strict=True))
one, two, three, four = st.columns(4)
revision = one.selectbox("Revision", ["(all)", *reversed(list(revisions["revision"]))], key="review_revision")
category = two.selectbox("Category", ["(all)", *q.categories(url, model_id)["category"]], key="review_category")
label = three.selectbox("Label", ["(all)", *q.label_choices(url)], key="review_label")
probe = four.text_input("Probe id (exact)", key="review_probe").strip()
filters = {
    "sha": sha_of.get(revision),
    "category": None if category == "(all)" else category,
    "label": None if label == "(all)" else label,
    "probe": probe or None,
}
total = q.review_count(url, model_id, classifier, **filters)
pages = max(1, math.ceil(total / _PAGE_SIZE))
page = st.number_input(f"Page (of {pages}; {total} responses)", 1, pages, 1, key="review_page")
rows = q.review_page(url, model_id, classifier, **filters, limit=_PAGE_SIZE, offset=(int(page) - 1) * _PAGE_SIZE)
_common.table(
    rows.assign(revision=rows["revision_sha"].map(_common.short)).drop(columns=["revision_sha"]),
    column_config={"confidence": st.column_config.NumberColumn(format="%.2f")},
)

# A deep link ?response=ID opens that response even when it is not on this page.
ids = [int(i) for i in rows["id"]]
linked = st.query_params.get("response")
if linked and linked.isdigit() and int(linked) not in ids:
    ids.insert(0, int(linked))
if not ids:
    st.caption("No responses match.")
    st.stop()
response_id = st.selectbox(
    "Response",
    ids,
    index=ids.index(int(linked)) if linked and linked.isdigit() else 0,
    key="review_response",
)
detail = q.response_detail(url, int(response_id))
if detail is None or (detail["repo_id"] != current.repo_id and linked is None):
    st.warning(f"Response {response_id} not found for this model.")
    st.stop()
assert detail is not None

st.subheader(f"Response {int(response_id)}")
model_name = _common.model_names(url).get(detail["repo_id"], detail["repo_id"])
st.text(
    f"model {model_name} · revision {_common.short(detail['revision_sha'])} · probe {detail['probe_id']} · "
    f"sample {detail['sample_index']} · {detail['category']} · finish {detail['finish_reason']} · "
    f"tokens {detail['completion_tokens']} · think {detail['think_state']} · answer language {detail['language']}"
)
for message in detail["prompt"] or []:
    if isinstance(message, dict):
        st.text(f"prompt ({message.get('role', '?')}):")
        _common.model_text(message.get("content"))
st.text("raw response:")
_common.model_text(detail["raw_text"])
left, right = st.columns(2)
with left:
    st.text("reasoning part:")
    _common.model_text(detail["reasoning_text"], empty="(no reasoning part)")
with right:
    st.text("final answer:")
    _common.model_text(detail["answer_text"])
if detail["extracted_answer"] is not None:
    st.text(f"extracted answer: {detail['extracted_answer']} · correct: {detail['correct']}")

machine, human = q.response_labels(url, int(response_id))
st.text("classifier labels:")
_common.table(machine)
if not human.empty:
    st.text("reviewer labels:")
    _common.table(human)

st.subheader("Correct the label")
reviewer = _common.reviewer()
if not reviewer.can_write:
    st.info(reviewer.why_read_only)
    st.stop()
choices = q.label_choices(url)
mine = machine[machine["classifier_version"] == classifier]["label"] if not machine.empty else machine
now = str(mine.iloc[0]) if len(mine) else None
with st.form("correct_label"):
    new_label = st.selectbox(
        "Correct label", choices, index=choices.index(now) if now in choices else 0, key="review_new_label"
    )
    if reviewer.verified:
        st.text(f"Corrected by: {reviewer.name}")
        typed = ""
    else:
        typed = st.text_input("Your name (unverified)", key="review_reviewer", max_chars=_reviewer.NAME_MAX - 13)
    comment = st.text_area("Comment", key="review_comment", placeholder="Why the classifier was wrong")
    submitted = st.form_submit_button("Save correction", key="review_submit")
if submitted:
    try:
        q.add_reviewer_label(
            url, int(response_id), label=new_label, reviewer=_reviewer.stored_name(reviewer, typed), comment=comment
        )
    except MonitorError as exc:
        st.error(f"error: {exc}")
    else:
        st.session_state[_MESSAGE] = f"Saved: response {int(response_id)} is {new_label}."
        st.rerun()
