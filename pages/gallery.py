"""Risk gallery: the individual training samples most exposed to membership attacks."""

import numpy as np
import streamlit as st

from backend import analysis, pipeline
from backend.attacks.membership import ATTACKS
from backend.gallery import data_url, nearest_members, thumbnails, to_image
from pages.common import current_spec, page_intro, read_context

SORTS = {
    "membership_score": "membership score (risk)",
    "importance": "importance",
    "loss": "training loss",
    "l2": "distance to the boundary (ℓ2)",
}

spec = current_spec()
page_intro(
    "Risk gallery",
    "The training samples an attacker is most sure were in the training set, with how "
    "valuable each one is. Pick a row to see the sample large, next to the training "
    "samples nearest to it: those neighbours are why it is valuable.",
    limitations=(
        "- “Caught at 1% FPR” uses the threshold at which 1% of non-members are "
        "wrongly flagged by the selected attack.\n"
        "- The risk score is the selected attack's continuous score (for example the "
        "logit-scaled confidence); higher means more exposed."
    ),
)

ctx = read_context(spec)
if ctx is None:
    st.stop()
try:
    result = analysis.membership(ctx)
except pipeline.NotComputed:
    st.info(
        "Nothing to show yet: press **Compute what is missing** in the sidebar to "
        "train the model and run the attacks."
    )
    st.stop()

info = ctx.data.info
class_names = list(info.class_names) or [str(c) for c in range(info.num_classes)]

# -- Controls -----------------------------------------------------------------------
left, middle, right = st.columns(3)
attack = left.selectbox(
    "Attack",
    list(ATTACKS),
    format_func=lambda a: ATTACKS[a].title,
    key="gallery_attack",
)
sort = middle.selectbox(
    "Sort by", list(SORTS), format_func=SORTS.get, key="gallery_sort"
)
descending = right.toggle("Highest first", True, key="gallery_descending")
left, middle, right = st.columns(3)
classes = left.multiselect("Classes", class_names, key="gallery_classes")
groups = middle.multiselect(
    "Importance groups", ["top", "middle", "bottom"], key="gallery_groups"
)
limit = right.slider("Samples shown", 10, 200, 40, step=10, key="gallery_limit")

table = analysis.per_sample_table(result, attack)
table.insert(2, "class", [class_names[label] for label in table["label"]])
if classes:
    table = table[table["class"].isin(classes)]
if groups:
    table = table[table["group"].isin(groups)]
table = table.sort_values(sort, ascending=not descending)

st.download_button(
    "Download the full per-sample table (CSV)",
    data=analysis.per_sample_table(result, attack).to_csv(index=False),
    file_name=f"valuerisk-samples-{spec.dataset}.csv",
    mime="text/csv",
    key="gallery_csv",
)
st.caption(f"{len(table):,} members match; showing the first {min(limit, len(table))}.")

# -- The table ------------------------------------------------------------------------
shown = table.head(limit).reset_index(drop=True)
columns = {
    "rank": st.column_config.NumberColumn("importance rank", help="1 = most valuable"),
    "caught_at_1pct_fpr": st.column_config.CheckboxColumn("caught at 1% FPR"),
    "importance": st.column_config.NumberColumn(format="%.2e"),
    "membership_score": st.column_config.NumberColumn("risk score", format="%.3f"),
}
if info.kind == "image":
    shown.insert(0, "image", thumbnails(ctx, shown["index"].to_numpy()))
    columns["image"] = st.column_config.ImageColumn("sample", width="small")
selection = st.dataframe(
    shown.drop(columns=["label"]),
    column_config=columns,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="gallery_table",
)

# -- The selected sample and its neighbours -------------------------------------------
rows = selection.selection.rows if selection else []
if not rows:
    st.caption("Select a row to see the sample and its nearest training neighbours.")
    st.stop()
row = shown.iloc[rows[0]]
sample = int(row["index"])
st.subheader(f"Sample {sample}: {row['class']}")
neighbours = nearest_members(ctx, sample, k=6)
if info.kind == "image":
    left, right = st.columns([1, 2])
    left.image(data_url(to_image(ctx.data.x[sample])), caption=f"label: {row['class']}")
    with right:
        cells = st.columns(3)
        for i, neighbour in enumerate(neighbours.itertuples()):
            cells[i % 3].image(
                data_url(to_image(ctx.data.x[neighbour.index], 112)),
                caption=f"{class_names[neighbour.label]} (distance "
                f"{neighbour.distance:.2f})",
            )
else:
    st.dataframe(
        ctx.data.x[np.r_[sample, neighbours["index"].to_numpy()]],
        width="stretch",
    )
same = (neighbours["label"] == row["label"]).mean()
st.markdown(
    f"Importance rank **{int(row['rank'])}** of {len(ctx.split.members):,}; "
    f"{same:.0%} of its nearest training neighbours share its label."
)
