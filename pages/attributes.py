"""Attribute inference by importance group: do models of valuable data reveal more?"""

import streamlit as st

from backend import pipeline
from backend.attacks import attributes as attr
from backend.errors import ValueRiskError
from pages.common import current_spec, job_panel, page_intro, read_context

spec = current_spec()
page_intro(
    "Attribute inference",
    "An attacker who sees a model's internal representation (its embedding) of a "
    "training sample tries to guess a property of the sample that the model was not "
    "trained to predict. We train one model per importance group of the training data "
    "and attack each on its own training samples. Bars above 1 mean the attack beats "
    "guessing the most common value.",
    limitations=(
        "- The attacker fits a two-layer MLP on embeddings of its own data, which is "
        "disjoint from every target's training data. In the **shadow** protocol (the "
        "study's) those embeddings come from a shadow model of the same kind; two "
        "separately trained models need not embed alike, so this can understate the "
        "leak. The **target** protocol feeds the attacker's data through the target "
        "itself, which the threat model allows (the attacker sees its embeddings): "
        "the stronger attack.\n"
        "- Each group model trains on a fifth of the members (for 5 groups), with its "
        "epochs raised so that it gets enough optimiser steps. Groups differ in their "
        "classes as well as in importance, so a model of one group can be less "
        "accurate than another's.\n"
        "- The baseline is the share of the most common value among the attacked "
        "samples. With a few hundred samples per group, differences of a few percent "
        "are within noise.\n"
        "- Datasets without attributes (digits, Fashion-MNIST, CIFAR-10) get "
        "stand-ins: simple image properties such as brightness, not personal "
        "attributes."
    ),
)

ctx = read_context(spec)
if ctx is None:
    st.stop()

# -- settings -------------------------------------------------------------------------
available = attr.attribute_names(ctx.data)
left, middle, right = st.columns([3, 2, 2])
chosen = left.multiselect(
    "Attributes",
    available,
    default=list(attr.default_attributes(ctx.data)),
    key="attr_names",
)
protocol = middle.radio(
    "Attack protocol",
    list(attr.PROTOCOLS),
    format_func={"shadow": "shadow model (study)", "target": "target queries"}.get,
    key="attr_protocol",
    help="\n\n".join(f"**{k}**: {v}" for k, v in attr.PROTOCOLS.items()),
)
n_groups = right.selectbox(
    "Importance groups", [2, 3, 4, 5, 10], index=3, key="attr_groups"
)
scale = right.segmented_control(
    "Attack scale",
    list(attr.ATTRIBUTE_PRESETS),
    default="demo",
    key="attr_scale",
    help="demo: seconds on a CPU. paper: a longer-trained attack on all shadow data.",
)

if attr.uses_stand_ins(ctx.data):
    st.warning(
        f"**{ctx.data.info.title}** has no attributes, so these are stand-ins: simple "
        "properties computed from the pixels (or features), each split at its median "
        "over the dataset. They are not the label, but they are not personal "
        "attributes either, and some go with the class.\n\n"
        + "\n".join(
            f"- `{name}`: {attr.STAND_INS[name].description}" for name in available
        )
    )
scale = scale or "demo"
with st.expander("Attack budget"):
    epochs = st.number_input(
        "Attack MLP epochs",
        1,
        2_000,
        attr.make_attribute_spec(scale).epochs,
        key=f"attr_epochs_{scale}",
    )
if not chosen:
    st.info("Choose at least one attribute to attack.")
    st.stop()

try:
    aspec = attr.make_attribute_spec(
        scale,
        attributes=tuple(chosen),
        protocol=protocol,
        groups={"n_groups": int(n_groups)},
        epochs=int(epochs),
    )
    result = attr.attribute_inference(ctx, aspec)
except ValueRiskError as error:
    st.error(str(error))
    st.stop()
except pipeline.NotComputed:
    st.info(
        "Attribute inference is not computed for these settings yet. It trains one "
        f"model per importance group ({n_groups} in all), then fits the attack. Models "
        "already trained are reused."
    )
    status = attr.attribute_status(ctx, aspec)
    job_panel(
        "attributes",
        spec,
        label="Run attribute inference",
        missing=[name for name, done in status.items() if not done],
        params={"settings": aspec.to_dict()},
    )
    st.stop()

# -- results by group -----------------------------------------------------------------
groups = result["groups"]
lowest, highest = groups.iloc[0], groups.iloc[-1]
first, second = st.columns(2)
first.metric(
    "Least important group",
    f"{lowest['mean_relative']:.2f}× baseline",
    help="Attack accuracy ÷ majority baseline, averaged over the attributes.",
)
second.metric(
    "Most important group",
    f"{highest['mean_relative']:.2f}× baseline",
    delta=f"{highest['mean_relative'] - lowest['mean_relative']:+.2f}",
)

metric = st.radio(
    "Show",
    list(attr.METRICS),
    format_func=lambda name: attr.METRICS[name][0],
    horizontal=True,
    key="attr_metric",
)
st.altair_chart(attr.attribute_chart(result["table"], metric), width="stretch")
st.caption(
    f"Protocol: {attr.PROTOCOLS[result['protocol']]}. The attacker used "
    f"{result['attacker_samples']:,} samples of its own."
)

with st.expander("Numbers per group and attribute"):
    st.dataframe(
        result["table"].drop(columns=["group"]),
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in ("accuracy", "baseline", "relative", "gain", "attack_check")
        },
    )
    st.caption(
        "attack_check: the attack's accuracy on a held-out fifth of the attacker's own "
        "data, which the attacker can measure without the target's secrets."
    )
    st.dataframe(groups.drop(columns=["group"]), hide_index=True, width="stretch")

# -- importance across tasks ---------------------------------------------------------
correlation = result["correlation"]
if correlation is not None:
    st.subheader("Does importance carry over between tasks?")
    st.markdown(
        "Each attribute in turn plays the label, and the members are valued again "
        "(KNN-Shapley with the same representation and k). A high correlation means a "
        "sample valuable for one task is valuable for the other."
    )
    method = st.segmented_control(
        "Correlation", ["spearman", "pearson"], default="spearman", key="attr_corr"
    )
    st.altair_chart(
        attr.correlation_chart(correlation, method or "spearman"), width="stretch"
    )
