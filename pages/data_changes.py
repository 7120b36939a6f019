"""Data changes: how importance moves when the training set changes."""

import streamlit as st

from backend import pipeline, studies
from backend.dataset_edits import TRANSFORMS, transform_applicable
from backend.errors import ValueRiskError
from backend.studies import augmentation, changes, duplicates, onion
from backend.studies import charts as study_charts
from pages.common import current_spec, job_panel, page_intro, read_context

PARTIAL_FRACTIONS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)  # choices on the page
EXPOSURE_METRICS = {
    "tpr": "TPR at the chosen FPR",
    "auc": "AUC",
    "flagged": "share flagged",
    "mean_score": "mean score",
}

spec = current_spec()
page_intro(
    "Data changes",
    "Importance is not a fixed property of a sample: it depends on the rest of the "
    "training set. Each study changes the training set in one controlled way, values "
    "every member again against the same reference set, and shows what moved.",
    limitations=(
        "- Edited samples are valued in the same representation as the originals. "
        "With the embedding representation, they are embedded by the target model "
        "trained on the unedited data, so the representation stays fixed while the "
        "data changes.\n"
        "- The exposure checks retrain the target once per changed training set and "
        "read one output attack with thresholds from the shadow model; one model per "
        "side makes them noisy on small data.\n"
        "- Percent changes divide by the magnitude of the importance before, so "
        "samples whose importance was near zero show large percentages; medians are "
        "shown beside means for that reason.\n"
        "- Partial data: *owner* values the held members against the owner's "
        "reference set; *attacker-pool* pads the held members with the attacker's "
        "shadow members and values them against its shadow non-members; "
        "*attacker-reference* values the held members alone against the attacker's "
        "shadow members."
    ),
)

ctx = read_context(spec)
if ctx is None:
    st.stop()
info = ctx.data.info

name = st.radio(
    "Study",
    list(studies.STUDIES),
    format_func=lambda n: studies.STUDIES[n].title,
    horizontal=True,
    key="data_changes_study",
)
st.caption(studies.STUDIES[name].question)
ok, reason = studies.applicable(name, info)
if not ok:
    st.warning(reason)
    st.stop()


# -- settings --------------------------------------------------------------------------


def onion_settings() -> dict:
    default = studies.OnionSpec()
    return {
        "fraction": st.slider(
            "Share removed from the top (or the bottom)",
            0.05,
            0.33,
            default.fraction,
            step=0.01,
            key="data_changes_onion_fraction",
        ),
        "retrain": st.checkbox(
            "Retrain without the top and compare exposure",
            default.retrain,
            key="data_changes_onion_retrain",
        ),
        "attack": st.selectbox(
            "Exposure attack", studies.OUTPUT_ATTACKS, key="data_changes_onion_attack"
        ),
    }


def duplicates_settings() -> dict:
    default = studies.DuplicatesSpec()
    left, middle, right = st.columns(3)
    params = {
        "n_targets": left.number_input(
            "Targets (random)", 1, 1000, default.n_targets, key="data_changes_dup_n"
        ),
        "copies": middle.number_input(
            "Wrong-label copies per target",
            1,
            256,
            default.copies,
            key="data_changes_dup_copies",
        ),
        "seed": right.number_input(
            "Seed", 0, 10_000, default.seed, key="data_changes_dup_seed"
        ),
        "targets": st.text_input(
            "Hand-picked targets (dataset indices of members, comma-separated; "
            "empty: random)",
            "",
            key="data_changes_dup_targets",
        ),
    }
    params["retrain"] = st.checkbox(
        "Retrain on the poisoned set and compare exposure",
        default.retrain,
        key="data_changes_dup_retrain",
    )
    params["in_out"] = st.checkbox(
        "Also train without the targets (in against out; two more models)",
        default.in_out,
        disabled=not params["retrain"],
        key="data_changes_dup_in_out",
    )
    return params


def augmentation_settings() -> dict:
    default = studies.AugmentationSpec()
    chosen = []
    for column, transform in zip(st.columns(len(TRANSFORMS)), TRANSFORMS, strict=True):
        usable, why = transform_applicable(
            transform, kind=info.kind, input_shape=info.input_shape
        )
        if column.checkbox(
            TRANSFORMS[transform].title,
            usable,
            disabled=not usable,
            help=why or None,
            key=f"data_changes_aug_{transform}",
        ):
            chosen.append(transform)
        if not usable:
            column.caption(why)
    left, right = st.columns(2)
    return {
        "transforms": chosen,
        "n_samples": left.number_input(
            "Samples changed per transform",
            1,
            1_000_000,
            default.n_samples,
            key="data_changes_aug_n",
        ),
        "seed": right.number_input(
            "Seed", 0, 10_000, default.seed, key="data_changes_aug_seed"
        ),
    }


def partial_settings() -> dict:
    default = studies.PartialSpec()
    return {
        "fractions": st.multiselect(
            "Shares of the members held",
            PARTIAL_FRACTIONS,
            default=list(default.fractions),
            format_func=lambda f: f"{f:.0%}",
            key="data_changes_partial_fractions",
        ),
        "n_seeds": st.number_input(
            "Draws per share", 1, 20, default.n_seeds, key="data_changes_partial_n"
        ),
        "settings": st.multiselect(
            "Who values",
            list(studies.PARTIAL_SETTINGS),
            default=list(default.settings),
            key="data_changes_partial_settings",
        ),
    }


SETTINGS = {
    "onion": onion_settings,
    "duplicates": duplicates_settings,
    "augmentation": augmentation_settings,
    "partial": partial_settings,
}

with st.expander("Settings"):
    params = SETTINGS[name]()
try:
    study = studies.make_study_spec(name, **params)
except ValueRiskError as error:
    st.error(str(error))
    st.stop()


# -- results ---------------------------------------------------------------------------

try:
    result = studies.study_result(ctx, study)
except pipeline.NotComputed:
    title = studies.STUDIES[name].title
    st.info(
        f"The {title.lower()} study is not computed for these settings yet. It values "
        "the members again after each change"
        + (
            ", and retrains the target model"
            if getattr(study, "retrain", False)
            else ""
        )
        + "; on large datasets this takes minutes."
    )
    job_panel(
        studies.job_kind(name),
        spec,
        label=f"Run the {title.lower()} study",
        missing=[title.lower()],
        params=studies.study_params(study),
    )
    st.stop()

st.markdown("\n".join(f"- {line}" for line in studies.findings(name, result)))


def show_exposure(table, *, key: str, title: str) -> None:
    metric = st.radio(
        "Exposure measure",
        list(EXPOSURE_METRICS),
        format_func=EXPOSURE_METRICS.get,
        horizontal=True,
        key=key,
    )
    st.altair_chart(
        study_charts.exposure_chart(table, metric, title=title), width="stretch"
    )
    st.dataframe(table, hide_index=True, width="stretch")


def show_onion(payload: dict) -> None:
    s = studies.summarize("onion", payload)
    left, middle, right = st.columns(3)
    left.metric("Members removed", f"{s['removed']:,}")
    middle.metric(
        "Remaining above the old cut-off",
        f"{s['above_cutoff_after']:.1%}",
        delta=f"{s['above_cutoff_after'] - s['above_cutoff_before']:+.1%}",
    )
    right.metric(
        "Band that gained: top / bottom removed",
        f"{s['band_gained_without_top']:.0%} / {s['band_gained_without_bottom']:.0%}",
    )
    st.altair_chart(
        study_charts.distribution_chart(
            onion.distribution_frame(payload), payload["cutoff"]
        ),
        width="stretch",
    )
    st.markdown(
        "**Controlled comparison.** The band just below the removed top survives both "
        "removals, which shrink the set equally."
    )
    st.altair_chart(study_charts.band_chart(onion.band_frame(payload)), width="stretch")
    st.dataframe(
        studies.summary_table("onion", payload), hide_index=True, width="stretch"
    )
    if payload["exposure"] is not None:
        st.markdown("**Exposure of the new top layer**, before and after retraining.")
        show_exposure(
            payload["exposure"],
            key="data_changes_onion_metric",
            title="Membership exposure before and after removing the top",
        )


def show_duplicates(payload: dict) -> None:
    table = studies.summary_table("duplicates", payload).set_index("group")
    targets = table.loc["targets"]
    left, middle, right = st.columns(3)
    left.metric("Targets that rose", f"{int(targets['rose'])} of {int(targets['n'])}")
    middle.metric("Targets' mean importance", f"{targets['mean_rise_pct']:+.1f}%")
    right.metric(
        "Median change of the controls",
        f"{table.loc['controls', 'median_pct_change']:+.2f}%",
    )
    st.altair_chart(
        study_charts.targets_chart(duplicates.targets_frame(payload)),
        width="stretch",
    )
    frame = duplicates.change_frame(payload)
    st.altair_chart(
        study_charts.share_histogram_chart(
            changes.share_histogram(
                {g: part["pct_change"] for g, part in frame.groupby("group")}
            ),
            title="Change in importance by group (each group sums to 1)",
            x_title="change in importance (%)",
        ),
        width="stretch",
    )
    st.dataframe(table.reset_index(), hide_index=True, width="stretch")
    if payload["exposure"] is not None:
        st.markdown("**Exposure of the targets**, before and after poisoning.")
        show_exposure(
            payload["exposure"],
            key="data_changes_dup_metric",
            title="Membership exposure before and after poisoning",
        )
    if payload["in_out"] is not None:
        st.markdown(
            "**In against out.** Each target's score under a model trained with it, "
            "against one trained without it (all else equal)."
        )
        st.dataframe(payload["in_out"], hide_index=True, width="stretch")
        st.dataframe(payload["target_scores"], hide_index=True, width="stretch")


def show_augmentation(payload: dict) -> None:
    transform = st.radio(
        "Transform",
        payload["transforms"],
        format_func=lambda t: TRANSFORMS[t].title,
        horizontal=True,
        key="data_changes_aug_view",
    )
    frame = augmentation.change_frame(payload, transform)
    columns = st.columns(len(augmentation.SETTINGS))
    titles = {
        "replace": f"{TRANSFORMS[transform].title}, replacing",
        "add": f"{TRANSFORMS[transform].title}, added beside",
        "copy": "Exact copies added beside (control)",
    }
    for column, setting in zip(columns, augmentation.SETTINGS, strict=True):
        part = frame[frame["setting"] == setting]
        column.altair_chart(
            study_charts.share_histogram_chart(
                changes.share_histogram(
                    {g: p["change"] for g, p in part.groupby("group")}
                ),
                title=titles[setting],
                x_title="change in importance",
            ),
            width="stretch",
        )
    table = studies.summary_table("augmentation", payload)
    st.dataframe(
        table[table["transform"] == transform], hide_index=True, width="stretch"
    )


def show_partial(payload: dict) -> None:
    metric = st.radio(
        "Correlation",
        ["spearman", "pearson"],
        format_func=str.capitalize,
        horizontal=True,
        key="data_changes_partial_metric",
    )
    table = studies.summary_table("partial", payload)
    st.altair_chart(study_charts.partial_chart(table, metric), width="stretch")
    st.dataframe(table, hide_index=True, width="stretch")


{
    "onion": show_onion,
    "duplicates": show_duplicates,
    "augmentation": show_augmentation,
    "partial": show_partial,
}[name](result)
