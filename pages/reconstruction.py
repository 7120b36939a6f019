"""Data reconstruction by importance group: do models of valuable data give it away?"""

import numpy as np
import streamlit as st

from backend import pipeline
from backend.attacks import reconstruction as rec
from backend.errors import ValueRiskError
from pages.common import current_spec, job_panel, page_intro, read_context

spec = current_spec()
page_intro(
    "Reconstruction",
    "An attacker with the trained model in hand optimises images until the model "
    "assigns them a chosen class, hoping to recover what that class's training images "
    "look like. We train one model per importance group of the training data and "
    "attack each. The closer the reconstructions come to the group's own training "
    "images, the more the model gave away.",
    limitations=(
        "- **DeepInversion** optimises pixels directly, guided by the model's batch-"
        "norm statistics; **generative model inversion** searches the latent space of "
        "a small GAN trained on public data of the same domain (the split's shadow "
        "data, disjoint from every target's training data). Both are demo-sized on a "
        "CPU; the *paper* scale runs them far longer.\n"
        "- Quality is a Fréchet distance (FID's formula) in the feature space of a "
        f"{rec.EVALUATOR_ARCH} trained on held-out data, **not Inception FID**: "
        "Inception weights cannot be downloaded here. Inception FID appears only "
        "when torchmetrics and its weights are installed locally. With a few dozen "
        "reconstructions the distance is biased upwards: compare groups with each "
        "other and with the tick for real unseen images, not with published FIDs.\n"
        "- The nearest-sample ratio compares each reconstruction's distance to the "
        "closest training image of its class in the group with the distance to the "
        "closest of as many unseen images. Below 1 means training samples were "
        "recovered more than the class was.\n"
        "- Reconstruction needs images; tabular data is not supported."
    ),
)

ctx = read_context(spec)
if ctx is None:
    st.stop()
if ctx.data.info.kind != "image":
    st.info(
        f"**{ctx.data.info.title}** is tabular. Reconstruction attacks make images; "
        "choose an image dataset (such as digits) in the sidebar."
    )
    st.stop()

# -- settings -------------------------------------------------------------------------
left, middle, right = st.columns([3, 2, 2])
attacks = left.multiselect(
    "Attacks",
    list(rec.ATTACKS),
    default=list(rec.ATTACKS),
    format_func={"deepinversion": "DeepInversion", "gmi": "Generative (GAN)"}.get,
    key="rec_attacks",
    help="\n\n".join(f"**{k}**: {v}" for k, v in rec.ATTACKS.items()),
)
n_groups = middle.selectbox(
    "Importance groups", [2, 3, 4, 5, 10], index=3, key="rec_groups"
)
scale = right.segmented_control(
    "Attack scale",
    list(rec.RECONSTRUCTION_PRESETS),
    default="demo",
    key="rec_scale",
    help="demo: about a minute on a CPU for digits. paper: far longer runs.",
)
scale = scale or "demo"
preset = rec.make_reconstruction_spec(scale)
with st.expander("Attack budget"):
    budget = st.columns(4)
    budgets = {
        name: budget[i].number_input(
            label, 1, limit, getattr(preset, name), key=f"rec_{name}_{scale}"
        )
        for i, (name, label, limit) in enumerate(
            [
                ("per_class", "Images per class", 32),
                ("di_steps", "DeepInversion steps", 20_000),
                ("gan_steps", "GAN steps", 100_000),
                ("gmi_steps", "Latent search steps", 20_000),
            ]
        )
    }
if not attacks:
    st.info("Choose at least one attack.")
    st.stop()

try:
    rspec = rec.make_reconstruction_spec(
        scale,
        attacks=tuple(a for a in rec.ATTACKS if a in attacks),
        groups={"n_groups": int(n_groups)},
        **{name: int(value) for name, value in budgets.items()},
    )
    result = rec.reconstruction(ctx, rspec)
except ValueRiskError as error:
    st.error(str(error))
    st.stop()
except pipeline.NotComputed:
    st.info(
        "The reconstructions are not computed for these settings yet. The job trains "
        f"one model per importance group ({n_groups} in all), an evaluator classifier "
        "and, for the generative attack, a small GAN; parts already trained are "
        "reused."
    )
    status = rec.reconstruction_status(ctx, rspec)
    job_panel(
        "reconstruction",
        spec,
        label="Run the reconstruction attacks",
        missing=[name for name, done in status.items() if not done],
        params={"settings": rspec.to_dict()},
    )
    st.stop()

info = ctx.data.info
quality = result["quality"]
names = {"deepinversion": "DeepInversion", "gmi": "Generative (GAN)"}

# -- quality by group -----------------------------------------------------------------
st.subheader("Quality by importance group")
metric = st.radio(
    "Score",
    list(rec.QUALITY_METRICS),
    format_func={
        "fd": "Fréchet distance (evaluator features)",
        "nn_ratio": "nearest-sample ratio",
        "nn_train": "nearest training distance",
        "target_accuracy": "classified as intended",
    }.get,
    horizontal=True,
    key="rec_metric",
)
st.altair_chart(rec.quality_chart(quality, metric), width="stretch")
st.caption(
    f"{result['fd_name']}. Black ticks: the distance that as many real unseen images "
    "of the same classes get, for reference (with so few images it is no floor). "
    + (
        "Inception FID is in the table."
        if result["inception_available"]
        else "Inception FID is not available here (torchmetrics or its Inception "
        "weights are not installed)."
    )
)
with st.expander("Numbers per attack and group"):
    st.dataframe(
        quality.drop(columns=["group"]),
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in quality.columns
            if quality[c].dtype.kind == "f"
        },
    )
    evaluator = result["evaluator"]
    st.caption(
        f"Evaluator: {rec.EVALUATOR_ARCH} trained on {evaluator['train_samples']:,} "
        f"non-members, {evaluator['test_accuracy']:.1%} accurate on the reference set."
        + (
            f" GAN: trained on {result['gan']['public_samples']:,} public images."
            if result["gan"]
            else ""
        )
    )

# -- pictures -------------------------------------------------------------------------
st.subheader("Reconstructions")
class_names = info.class_names or tuple(str(c) for c in range(info.num_classes))
scale_px = max(1, 64 // info.input_shape[1])
view_left, view_right = st.columns(2)
attack = view_left.selectbox(
    "Attack", result["attacks"], format_func=names.get, key="rec_view_attack"
)
group = view_right.select_slider(
    "Importance group",
    options=list(range(result["n_groups"])),
    value=result["n_groups"] - 1,
    format_func=lambda g: quality.loc[quality["group"] == g, "group_label"].iloc[0],
    key="rec_view_group",
)
payload = result["images"][(attack, group)]
per_class = result["per_class"]
st.markdown(
    f"**{names[attack]}, group {group + 1}**: one row per class ("
    + ", ".join(class_names[c] for c in result["classes"])
    + f"), {per_class} reconstructions each; beside them, the group's training image "
    "nearest to each."
)
pictures, nearest = st.columns(2)
pictures.image(
    rec.image_grid(payload["images"], per_class, scale=scale_px),
    caption="reconstructions",
)
index = payload["nearest_index"]
nearest.image(
    rec.image_grid(rec.nearest_images(ctx.data, index), per_class, scale=scale_px),
    caption="nearest training image of the class in the group (black: the group "
    "has none of that class)",
)

st.markdown(
    "**Across groups**: the first reconstruction of each class (columns), least "
    "important group at the top."
)
across = np.concatenate(
    [
        result["images"][(attack, g)]["images"][::per_class]
        for g in range(result["n_groups"])
    ]
)
st.image(
    rec.image_grid(across, len(result["classes"]), scale=scale_px),
    caption=f"{names[attack]}: rows are importance groups 1 to {result['n_groups']}",
)
