"""Backdoor poisoning by importance: do valuable samples make better poisons?"""

import streamlit as st

from backend.attacks import backdoor, sweeps
from backend.errors import ValueRiskError
from pages.common import current_spec, page_intro, read_context, sweep_panel

TRIGGER_LABELS = {
    "badnets": "BadNets patch",
    "blend": "Blended pattern",
    "sig": "SIG sinusoid (clean label)",
}
SHARES = (0.02, 0.05, 0.2, 1.0)  # the study's 2%, 5%, 20%, and all of it

spec = current_spec()
page_intro(
    "Backdoor",
    "An attacker who controls a few training samples adds a trigger to them and "
    "relabels them to a target class; the model then learns to obey the trigger. "
    "Does the backdoor take hold with fewer poisons when they are the most valuable "
    "samples, the least valuable, or random ones? Each curve is the mean over seeds, "
    "with a band of ± one standard deviation.",
    limitations=(
        "- **Threat model**: the attacker controls n training samples and poisons "
        "them before training (and before any augmentation). BadNets and Blend are "
        "dirty-label (poisons are relabelled to the target class); SIG is clean-label "
        "(only target-class samples are poisoned, labels unchanged).\n"
        "- **BadNets patch**: a square in the bottom-right corner, "
        "max(2, side / 14) pixels (2 px on 8×8 digits and on 28×28 or 32×32 images, "
        "5 px on 64×64). With *auto* colour the patch is white when the corner of the "
        "attacker's images is dark (digits, Fashion-MNIST), black otherwise, so that "
        "it is visible at all.\n"
        "- **The attacker's share**: it ranks by importance only the share of the "
        "training set it holds (KNN-Shapley of those samples against the reference "
        "set), as in the study's 2%, 5% and 20% settings.\n"
        "- **Success rate**: the share of triggered held-out images classified as the "
        "target class, leaving out images whose true class is the target (the "
        "standard protocol). The study's variant counts them too; the switch below "
        "shows it. The dashed line is the clean model: what the trigger does without "
        "any poison.\n"
        "- Each poisoned model is trained like the target, with the point's seed. Top "
        "and bottom sets are the same at every seed; random ones change with it."
    ),
)

ctx = read_context(spec)
if ctx is None:
    st.stop()
if ctx.data.info.kind != "image":
    st.info("Backdoor triggers need images; choose an image dataset in the sidebar.")
    st.stop()

# The attacker's choices: trigger, target class, and how much data it holds.
left, middle, right = st.columns(3)
trigger = left.radio(
    "Trigger",
    list(TRIGGER_LABELS),
    format_func=TRIGGER_LABELS.get,
    key="backdoor_trigger",
)
names = ctx.data.info.class_names or tuple(map(str, range(ctx.data.info.num_classes)))
target_class = middle.selectbox(
    "Target class",
    range(ctx.data.info.num_classes),
    format_func=lambda c: f"{c}: {names[c]}",
    key="backdoor_target",
)
color = "auto"
if trigger == "badnets":
    color = middle.radio(
        "Patch colour",
        list(backdoor.COLORS),
        horizontal=True,
        key="backdoor_color",
        help="auto: white on dark corners, black on light ones.",
    )
share = right.select_slider(
    "Share of the training set the attacker holds",
    SHARES,
    value=1.0,
    format_func=lambda s: f"{s:.0%}",
    key="backdoor_share",
)
balanced = right.toggle(
    "Class-balanced choice",
    False,
    key="backdoor_balanced",
    help="Take about n / classes poisons from each class, ranked within the class. "
    "The study took plain top-n.",
)
try:
    poison = backdoor.BackdoorSpec(
        trigger=trigger,
        target_class=int(target_class),
        patch_color=color,
        share=float(share),
        balanced=balanced,
    )
    available = len(backdoor.candidates(ctx, poison))
    clean_images, poisoned_images = backdoor.examples(ctx, poison, count=5)
except ValueRiskError as error:
    st.error(str(error))
    st.stop()

# What the poisons look like.
if len(clean_images):
    with st.expander("Clean and poisoned examples", expanded=True):
        shown = backdoor.to_display(clean_images) + backdoor.to_display(poisoned_images)
        captions = ["clean"] * len(clean_images) + ["with trigger"] * len(clean_images)
        st.image(shown, caption=captions)
if available == 0:
    st.info(
        "The attacker's share of the data holds no sample it may poison (SIG poisons "
        "only the target class). Choose a larger share or another target class."
    )
    st.stop()

# The sweep: poison counts and seeds.
left, right = st.columns([3, 1])
budgets = left.multiselect(
    f"Poison counts (the attacker may poison {available:,} samples)",
    sweeps.budget_options(available),
    default=backdoor.default_budgets(available, clean_label=trigger == "sig"),
    key="backdoor_budgets",
)
seeds = right.number_input(
    "Seeds", 1, 10, len(sweeps.DEFAULT_SEEDS), key="backdoor_seeds"
)
if not budgets:
    st.info("Choose at least one poison count.")
    st.stop()
sweep = sweeps.Sweep(budgets=tuple(budgets), seeds=tuple(range(int(seeds))))
params = backdoor.job_params(poison, sweep)

# What is stored; offer to compute the rest.
results = backdoor.backdoor_results(ctx, poison, sweep)
total = len(sweep.points())
sweep_panel(
    "backdoor",
    spec,
    stored=0 if results.points.empty else total - len(results.missing),
    total=total,
    models="poisoned models",
    label="Run the backdoor sweep",
    params=params,
)

# Headline: each selection at one poison count (the middle one by default).
paper = st.toggle(
    "Count target-class test images (the study's variant)",
    False,
    key="backdoor_paper",
)
metric = "asr_all" if paper else "asr"
stored = sorted(int(b) for b in results.summary["budget"].unique())
chosen = st.select_slider(
    "Numbers at",
    stored,
    value=stored[len(stored) // 2],
    format_func="{:,} poisons".format,
    key="backdoor_at",
)
row = results.summary[results.summary["budget"] == chosen].set_index("selection")
for column, selection in zip(st.columns(len(row)), row.index, strict=True):
    mean, std = (
        row.loc[selection, f"{metric}_mean"],
        row.loc[selection, f"{metric}_std"],
    )
    column.metric(
        f"{selection}-{chosen:,}: attack success rate",
        sweeps.mean_std_text(mean, std, percent=True),
        help=f"mean ± std over {int(row.loc[selection, 'seeds'])} seeds",
    )
if results.baseline:
    st.caption(
        f"Without poison the trigger sends {results.baseline[metric]:.1%} of the "
        f"test images to class {target_class}; clean accuracy "
        f"{results.baseline['clean_accuracy']:.3f}."
    )

# Curves against the number of poisons.
st.altair_chart(backdoor.asr_chart(results, include_target=paper), width="stretch")
st.altair_chart(backdoor.clean_accuracy_chart(results), width="stretch")
st.dataframe(results.table(include_target=paper), hide_index=True)
