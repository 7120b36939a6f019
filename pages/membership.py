"""Membership inference by importance: is a valuable member easier to expose?"""

import math

import pandas as pd
import streamlit as st

from backend import analysis, charts, pipeline
from backend.attacks.membership import ATTACKS
from backend.findings import ratio
from pages.common import current_spec, job_panel, page_intro, read_context, with_spec

spec = current_spec()
page_intro(
    "Membership inference by importance",
    "A membership-inference attacker guesses whether a sample was in the training set. "
    "We compare how well it does on the most valuable and the least valuable members, "
    "each against the same non-members. A curve higher on the left means more members "
    "found with few false alarms.",
    limitations=(
        "- Decisions (and so the advantage) use thresholds fitted per class on a "
        "shadow model trained on the attacker's own, disjoint data; ROC curves sweep "
        "one threshold over the continuous score. The **paper protocol** switch fits "
        "the thresholds on the evaluated data itself, which no real attacker can do: "
        "read those numbers as an upper bound.\n"
        "- The label-only attack measures the distance to the decision boundary with a "
        "bounded search; misclassified samples count as distance 0.\n"
        "- TPR at a false-positive rate f needs at least 1/f non-members; where there "
        "are fewer, the table says so rather than printing a number.\n"
        "- The importance-calibrated score uses the importance the attacker can "
        "estimate from its own shadow data, not the true values."
    ),
)

# Settings of this page change only the attack, so the models are reused.
left, middle, right = st.columns(3)
fraction = left.slider(
    "Group size (share of members)", 0.05, 0.5, 0.2, 0.05, key="mia_fraction"
)
n_bins = middle.slider("Importance bins", 2, 10, 5, key="mia_bins")
paper = right.toggle("Paper protocol (upper bound)", False, key="mia_paper")
spec = with_spec(
    spec,
    attack={"group_fraction": fraction, "n_bins": n_bins, "paper_protocol": paper},
)

ctx = read_context(spec)
if ctx is None:
    st.stop()
try:
    result = analysis.membership(ctx)
except pipeline.NotComputed:
    st.info(
        "The membership analysis is not computed for these settings yet. The trained "
        "models are reused when only the settings above change."
    )
    job_panel("membership", spec, label="Run the attacks", missing=["membership"])
    st.stop()

if paper:
    st.warning(
        "Paper protocol: thresholds fitted on the evaluated data. This is an upper "
        "bound, not what a real attacker achieves."
    )

attack = st.selectbox(
    "Attack",
    list(ATTACKS),
    format_func=lambda name: ATTACKS[name].title,
    key="mia_attack",
)

# -- ROC by group -------------------------------------------------------------------
st.subheader("ROC curves, log scale")
roc = result["roc"][result["roc"]["attack"] == attack]
st.altair_chart(charts.roc_chart(roc), width="stretch")

groups = result["groups"][result["groups"]["attack"] == attack].set_index("group")
fpr_columns = [c for c in groups.columns if c.startswith("tpr@")]


def _rate(value: float) -> str:
    return "too few non-members" if math.isnan(value) else f"{value:.2%}"


table = pd.DataFrame(
    {
        group: {
            **{f"TPR at {c[4:]} FPR": _rate(groups.loc[group, c]) for c in fpr_columns},
            "AUC": f"{groups.loc[group, 'auc']:.3f}",
            "members": int(groups.loc[group, "members"]),
        }
        for group in ("top", "bottom", "all")
    }
).T
ratios = {
    f"TPR at {c[4:]} FPR": ratio(groups.loc["top", c], groups.loc["bottom", c])
    for c in fpr_columns
}
table.loc["top / bottom"] = {
    name: ("—" if math.isnan(value) else f"{value:.2f}×")
    for name, value in ratios.items()
} | {"AUC": "", "members": ""}
st.dataframe(table, width="stretch")
st.caption(
    f"Top and bottom: the most and least valuable {fraction:.0%} of members, each "
    f"against all {int(groups.loc['top', 'nonmembers']):,} non-members."
)

# -- Advantage per bin ---------------------------------------------------------------
st.subheader("Advantage by importance bin")
st.markdown(
    "Advantage is the share of members caught minus the share of non-members wrongly "
    "flagged, with the attack's fitted thresholds. Bins run from least to most "
    "valuable."
)
st.altair_chart(charts.bins_chart(result["bins"]), width="stretch")

# -- Importance-calibrated scores ----------------------------------------------------
st.subheader("Does knowing importance help the attacker?")
metric = st.radio(
    "Measure",
    ["max_advantage", "tpr@0.01", "auc"],
    format_func={
        "max_advantage": "best advantage",
        "tpr@0.01": "TPR at 1% FPR",
        "auc": "AUC",
    }.get,
    horizontal=True,
    key="mia_calibration_metric",
)
st.altair_chart(
    charts.calibration_chart(result["calibration"], metric), width="stretch"
)
calibration = result["calibration"]
best = calibration.loc[calibration.groupby("attack")[metric].idxmax()]
base = calibration[calibration["lambda"] == 0].set_index("attack")[metric]
gains = pd.DataFrame(
    {
        "attack": best["attack"].map(lambda a: ATTACKS[a].title),
        "best λ": best["lambda"].to_numpy(),
        "uncalibrated": base.loc[best["attack"]].to_numpy(),
        "calibrated": best[metric].to_numpy(),
    }
)
gains["gain"] = gains["calibrated"] - gains["uncalibrated"]
st.dataframe(gains, hide_index=True, width="stretch")

# -- How well the attacker estimates importance --------------------------------------
st.subheader("Can the attacker estimate importance?")
estimate = result["estimate"]
left, right = st.columns(2)
left.metric("Pearson correlation", f"{estimate['pearson']:.3f}")
right.metric("Spearman correlation", f"{estimate['spearman']:.3f}")
members = result["per_sample"][result["per_sample"]["member"]]
st.altair_chart(
    charts.scatter_chart(
        members,
        "importance",
        "estimated_importance",
        title="True importance against the attacker's estimate",
    ),
    width="stretch",
)
