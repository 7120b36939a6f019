"""Importance: the values themselves, whether they mean anything, and what the model
learns differently about valuable samples."""

import pandas as pd
import streamlit as st

from backend import analysis, charts, pipeline
from backend.signals import NORMS
from pages.common import current_spec, page_intro, read_context

NORM_NAMES = {"linf": "ℓ∞", "l2": "ℓ2", "l1": "ℓ1"}

spec = current_spec()
page_intro(
    "Importance of every training sample",
    "Each training sample's importance is its exact KNN-Shapley value: its average "
    "contribution to classifying the reference set correctly with k nearest "
    "neighbours. Positive values help, negative values hurt (often mislabelled or "
    "atypical samples).",
    limitations=(
        "- KNN-Shapley values a sample for a k-nearest-neighbour classifier on the "
        "chosen representation; the network's own notion of usefulness can differ.\n"
        "- The validity check trains class-balanced subsets, so class balance cannot "
        "explain a gap between the top and the bottom.\n"
        "- Boundary distances come from a bounded gradient-sign search; samples that "
        "never crossed are flagged and their distances are lower bounds."
    ),
)

ctx = read_context(spec)
if ctx is None:
    st.stop()
try:
    values = pipeline.importance(ctx)
except pipeline.NotComputed:
    st.info(
        "Importance is not computed for this choice yet. Press **Compute what is "
        "missing** in the sidebar."
    )
    st.stop()

tabs = st.tabs(
    ["Distribution", "Validity", "Sensitivity to k", "Loss", "Boundary distance"]
)

with tabs[0]:
    left, middle, right = st.columns(3)
    left.metric("Training samples valued", f"{len(values):,}")
    middle.metric("Mean importance", f"{values.mean():.2e}")
    right.metric("Samples that hurt (negative)", f"{(values < 0).mean():.1%}")
    st.altair_chart(
        charts.histogram(
            pd.DataFrame({"importance": values}),
            "importance",
            title="How importance is spread over the training set",
        ),
        width="stretch",
    )

with tabs[1]:
    st.markdown(
        "If importance measures usefulness, a model trained on only the most important "
        "n samples should beat one trained on the least important n."
    )
    try:
        validity = analysis.validity(ctx)
        st.altair_chart(charts.validity_chart(validity), width="stretch")
        st.dataframe(
            validity.pivot(index="n", columns="selection", values="accuracy"),
            width="stretch",
        )
    except pipeline.NotComputed:
        st.info("The validity check is not computed yet (sidebar button).")

with tabs[2]:
    st.markdown(
        "Does the choice of k matter? Correlations close to 1 mean the ranking barely "
        "changes with k."
    )
    try:
        sensitivity = analysis.k_sensitivity(ctx)
        st.altair_chart(charts.k_sensitivity_chart(sensitivity), width="stretch")
        st.dataframe(sensitivity, hide_index=True, width="stretch")
    except pipeline.NotComputed:
        st.info("The sensitivity to k is not computed yet (sidebar button).")

try:
    per_sample = analysis.membership(ctx)["per_sample"]
except pipeline.NotComputed:
    per_sample = None
members = None if per_sample is None else per_sample[per_sample["member"]]

with tabs[3]:
    st.markdown(
        "Training loss against importance order: each grey dot is a sample, the red "
        "line the mean of equal-size bins. Valuable samples on the right."
    )
    bins = st.slider("Bins", 10, 500, 200, step=10, key="importance_loss_bins")
    if members is None:
        st.info("Per-sample losses are not computed yet (sidebar button).")
    else:
        points, means = charts.trend_frames(
            members["importance"].to_numpy(), members["loss"].to_numpy(), n_bins=bins
        )
        st.altair_chart(
            charts.trend_chart(
                points, means, title="Loss against importance", y_title="training loss"
            ),
            width="stretch",
        )

with tabs[4]:
    st.markdown(
        "Distance from each training sample to the model's decision boundary: how far "
        "it must be pushed before the model changes its mind."
    )
    norm = st.segmented_control(
        "Norm",
        list(NORMS),
        default="l2",
        format_func=NORM_NAMES.get,
        key="importance_norm",
    )
    if members is None:
        st.info("Boundary distances are not computed yet (sidebar button).")
    else:
        norm = norm or "l2"
        points, means = charts.trend_frames(
            members["importance"].to_numpy(), members[norm].to_numpy(), n_bins=200
        )
        st.altair_chart(
            charts.trend_chart(
                points,
                means,
                title=f"{NORM_NAMES[norm]} distance to the boundary against importance",
                y_title=f"{NORM_NAMES[norm]} distance",
            ),
            width="stretch",
        )
        censored = int(members["censored"].sum())
        if censored:
            st.warning(
                f"{censored} samples never crossed the boundary within the search "
                "budget; their distances are lower bounds."
            )
