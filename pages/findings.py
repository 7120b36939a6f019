"""Overview: the headline findings for the current choice, in plain language."""

import streamlit as st

from backend.findings import findings
from backend.report import build_report, report_charts
from pages.common import current_spec, page_intro, read_context

spec = current_spec()
page_intro(
    "Are the most valuable training samples the most exposed?",
    "Every training sample gets an **importance** score: how much it helps the model "
    "classify new data. This page says, in plain words, whether an attacker who wants "
    "to learn who was in the training data succeeds more often on the valuable "
    "samples.",
    limitations=(
        "- Importance is exact KNN-Shapley: the value of a sample to a k-nearest-"
        "neighbour classifier on the chosen representation, not to the trained network "
        "itself.\n"
        "- The attacker calibrates on a shadow model trained on data of its own, "
        "disjoint from the training set (the standard protocol). Numbers with the "
        "“paper protocol” switch on the Membership page are an upper bound.\n"
        "- Rates at a 1% false-positive rate need at least 100 non-members; with "
        "fewer, the page says so instead of printing a number."
    ),
)

ctx = read_context(spec)
if ctx is None:
    st.stop()

items = findings(ctx)
if not any(item.kind == "headline" for item in items):
    st.info(
        "Nothing is computed for this choice yet. Press **Compute what is missing** in "
        "the sidebar; on the built-in digits it takes well under a minute."
    )
    st.stop()

for item in items:
    if item.kind == "headline":
        st.subheader(item.title)
        st.success(item.text)
    elif item.kind == "caveat":
        st.warning(f"**{item.title}.** {item.text}")
    else:
        st.markdown(f"**{item.title}.** {item.text}")

charts = report_charts(ctx)
if charts:
    st.subheader("The evidence")
    columns = st.columns(2)
    for i, chart in enumerate(charts.values()):
        with columns[i % 2]:
            st.altair_chart(chart, width="stretch")

st.divider()
st.markdown(
    "**What it means.** If the answer above is yes, the samples that make a model good "
    "are also the ones it leaks most. Protecting them (for example with differential "
    "privacy, or by auditing who contributes them) protects the data that matters most."
)
st.download_button(
    "Download the report (HTML)",
    data=lambda: build_report(ctx),
    file_name=f"valuerisk-{spec.dataset}-{spec.key()[:8]}.html",
    mime="text/html",
    key="findings_report",
)
