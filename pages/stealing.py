"""Model stealing by importance: do valuable samples make better queries?"""

import streamlit as st

from backend.attacks import stealing, sweeps
from backend.datasets import dataset_info
from backend.errors import ValueRiskError
from backend.models import architecture_names
from pages.common import current_spec, page_intro, read_context, sweep_panel

POOL_LABELS = {
    "attacker": "the attacker's own data",
    "members": "the target's training data (the study)",
    "cross": "another dataset",
}
MEASURES = {
    "accuracy": "accuracy on the task",
    "fidelity": "agreement with the target",
}

spec = current_spec()
page_intro(
    "Model stealing",
    "An attacker who can query a model and read its output probabilities can train a "
    "copy of it. Does it steal a better copy when it queries with the most valuable "
    "samples, the least valuable, or just random ones? Each curve is the mean over "
    "seeds, with a band of ± one standard deviation.",
    limitations=(
        "- **Threat model**: black-box access to the target's probabilities, knowledge "
        "of the task, and data of the attacker's own. The surrogate is trained on the "
        "target's answers (KL divergence on probabilities, or L1 on logits as in the "
        "study's code, which needs logits from the API).\n"
        "- **The attacker's own data** are the split's shadow members, valued by "
        "KNN-Shapley against the shadow non-members (the attacker's own held-out, "
        "labelled data) on raw inputs: a black-box attacker has no access to the "
        "target's embedding. **The target's training data** uses the members' true "
        "importance, as the study did; a real attacker rarely holds it. **Another "
        "dataset** is resized and converted to the target's input shape, and ordered "
        "by its own importance (its own labels, its own reference set).\n"
        "- Top and bottom sets are the same at every seed; their spread comes from the "
        "surrogate's training seed only. Random sets change with the seed too.\n"
        "- Accuracy and agreement are measured on the target's held-out non-members. "
        "The class-entropy chart shows whether a gap may come from class balance: a "
        "top-n set crowded into a few classes teaches the surrogate less for that "
        "reason alone. The class-balanced switch rules it out."
    ),
)

ctx = read_context(spec)
if ctx is None:
    st.stop()

# The attacker's choices: where queries come from, and how it trains its copy.
left, right = st.columns(2)
pool = left.radio(
    "Queries come from",
    list(POOL_LABELS),
    format_func=POOL_LABELS.get,
    key="steal_pool",
)
cross = ""
if pool == "cross":
    others = stealing.cross_candidates(spec.dataset)
    if not others:
        st.info("No other image dataset is available to query with.")
        st.stop()
    default = stealing.default_cross_dataset(spec.dataset)
    cross = left.selectbox(
        "Dataset to query with",
        others,
        index=others.index(default) if default in others else 0,
        format_func=lambda name: dataset_info(name).title,
        key="steal_cross",
    )
archs = architecture_names(ctx.data.info.kind)
surrogate = right.selectbox(
    "Surrogate architecture",
    archs,
    index=archs.index(spec.model.arch) if spec.model.arch in archs else 0,
    key="steal_arch",
)
loss = right.radio(
    "Trained on",
    list(stealing.LOSSES),
    format_func={"kl": "probabilities (KL)", "l1": "logits (L1, study's code)"}.get,
    horizontal=True,
    key="steal_loss",
)
balanced = right.toggle(
    "Class-balanced choice",
    False,
    key="steal_balanced",
    help="Take about n / classes from each class, ranked within the class. The study "
    "took plain top-n.",
)
try:
    steal = stealing.StealSpec(
        pool=pool,
        cross_dataset=cross,
        balanced=balanced,
        surrogate_arch=surrogate,
        loss=loss,
    )
    available = stealing.pool_size(ctx, steal)
except ValueRiskError as error:
    st.error(str(error))
    st.stop()

# The sweep: budgets and seeds.
left, right = st.columns([3, 1])
budgets = left.multiselect(
    f"Query budgets (the pool holds {available:,} samples)",
    sweeps.budget_options(available, minimum=10),
    default=stealing.default_budgets(available),
    key="steal_budgets",
)
seeds = right.number_input("Seeds", 1, 10, len(sweeps.DEFAULT_SEEDS), key="steal_seeds")
if not budgets:
    st.info("Choose at least one query budget.")
    st.stop()
sweep = sweeps.Sweep(budgets=tuple(budgets), seeds=tuple(range(int(seeds))))
params = stealing.job_params(steal, sweep)

# What is stored; offer to compute the rest.
results = stealing.steal_results(ctx, steal, sweep)
total = len(sweep.points())
sweep_panel(
    "steal",
    spec,
    stored=0 if results.points.empty else total - len(results.missing),
    total=total,
    models="surrogates",
    label="Run the stealing sweep",
    params=params,
)

# Headline: each selection at one budget (the largest by default).
measure = st.segmented_control(
    "Measure",
    list(MEASURES),
    format_func=MEASURES.get,
    default="accuracy",
    required=True,
    key="steal_measure",
)
stored = sorted(int(b) for b in results.summary["budget"].unique())
chosen = st.select_slider(
    "Numbers at",
    stored,
    value=stored[-1],
    format_func="{:,} queries".format,
    key="steal_at",
)
row = results.summary[results.summary["budget"] == chosen].set_index("selection")
for column, selection in zip(st.columns(len(row)), row.index, strict=True):
    mean, std = (
        row.loc[selection, f"{measure}_mean"],
        row.loc[selection, f"{measure}_std"],
    )
    column.metric(
        f"{selection}-{chosen:,}: {MEASURES[measure]}",
        sweeps.mean_std_text(mean, std),
        help=f"mean ± std over {int(row.loc[selection, 'seeds'])} seeds",
    )
st.caption(
    f"Queries: {stealing.pool_description(ctx, steal)}. Target's test accuracy: "
    f"{results.target_accuracy:.3f}."
)

# Curves against budget, and the class balance of the query sets.
chart = stealing.accuracy_chart if measure == "accuracy" else stealing.fidelity_chart
st.altair_chart(chart(results), width="stretch")
labels = st.radio(
    "Classes counted",
    ["labels", "answers"],
    format_func={
        "labels": "the queries' own classes",
        "answers": "the classes the target answered",
    }.get,
    horizontal=True,
    key="steal_entropy_of",
)
st.altair_chart(stealing.entropy_chart(results, of=labels), width="stretch")
st.dataframe(results.table(), hide_index=True)
