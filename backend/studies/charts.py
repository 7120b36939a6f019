"""Charts of the data-change studies: a DataFrame in, an Altair chart out.

The frames come from the study modules (``distribution_frame``, ``band_frame``,
``change_frame``, ...) and :func:`backend.studies.changes.share_histogram`; nothing
here computes a statistic.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from backend.charts import WIDTH, histogram

__all__ = [
    "distribution_chart",
    "band_chart",
    "exposure_chart",
    "share_histogram_chart",
    "targets_chart",
    "partial_chart",
]

# Before / after colours shared by every before-and-after chart.
WHEN_COLORS = alt.Scale(domain=["before", "after"], range=["#7f7f7f", "#d62728"])


def distribution_chart(frame: pd.DataFrame, cutoff: float) -> alt.Chart:
    """Importance before and after removing the top, with the old cut-off marked."""
    return histogram(
        frame,
        "importance",
        title="Importance before and after removing the top (dashed: old cut-off)",
        color="when",
        rule=cutoff,
    )


def band_chart(frame: pd.DataFrame) -> alt.Chart:
    """The middle band's change in importance under each removal (dashed: 0)."""
    return histogram(
        frame,
        "change",
        title="Change in importance of the middle band, per removal",
        color="removal",
        rule=0.0,
    )


def exposure_chart(
    frame: pd.DataFrame, metric: str = "tpr", *, title: str
) -> alt.Chart:
    """One exposure metric per group of members, before and after retraining."""
    names = {
        "tpr": "TPR at the chosen FPR",
        "auc": "AUC",
        "flagged": "share flagged as members",
        "mean_score": "mean membership score",
    }
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("group:N", title=None),
            xOffset=alt.XOffset("model:N", sort=["before", "after"]),
            y=alt.Y(f"{metric}:Q", title=names.get(metric, metric)),
            color=alt.Color(
                "model:N", scale=WHEN_COLORS, title="model", sort=["before", "after"]
            ),
            tooltip=[
                "group",
                "model",
                "n",
                alt.Tooltip("tpr:Q", format=".3f"),
                alt.Tooltip("auc:Q", format=".3f"),
                alt.Tooltip("flagged:Q", format=".3f"),
                alt.Tooltip("mean_score:Q", format=".3f"),
            ],
        )
        .properties(title=title, width=WIDTH, height=260)
    )


def share_histogram_chart(
    frame: pd.DataFrame, *, title: str, x_title: str, zero: bool = True
) -> alt.Chart:
    """Overlaid histograms from :func:`~backend.studies.changes.share_histogram`:
    each bar is the share of its own group."""
    bars = (
        alt.Chart(frame)
        .mark_bar(opacity=0.55)
        .encode(
            x=alt.X("start:Q", title=x_title),
            x2="end:Q",
            y=alt.Y("share:Q", title="share of the group", stack=None),
            color=alt.Color("group:N", title="samples"),
            tooltip=[
                "group",
                alt.Tooltip("start:Q", format=".3g"),
                alt.Tooltip("end:Q", format=".3g"),
                alt.Tooltip("share:Q", format=".3f"),
                "count",
            ],
        )
    )
    if zero:
        rule = (
            alt.Chart(pd.DataFrame({"x": [0.0]}))
            .mark_rule(color="black", strokeDash=[4, 3])
            .encode(x="x:Q")
        )
        bars = bars + rule
    return bars.properties(title=title, width=WIDTH, height=240)


def targets_chart(frame: pd.DataFrame) -> alt.Chart:
    """Each target's % change in importance, largest first."""
    data = frame.reset_index(drop=True).assign(rank=lambda f: f.index + 1)
    return (
        alt.Chart(data)
        .mark_bar(color="#d62728")
        .encode(
            x=alt.X("rank:O", title="target (largest rise first)", axis=None),
            y=alt.Y("pct_change:Q", title="change in importance (%)"),
            tooltip=[
                "index",
                "label",
                "copies_label",
                alt.Tooltip("before:Q", format=".3g"),
                alt.Tooltip("after:Q", format=".3g"),
                alt.Tooltip("pct_change:Q", format=".1f"),
            ],
        )
        .properties(title="Change in each target's importance", width=WIDTH, height=240)
    )


def partial_chart(frame: pd.DataFrame, metric: str = "spearman") -> alt.Chart:
    """Mean correlation with full-data importance against the share held, ± std."""
    data = frame.assign(
        low=frame[f"{metric}_mean"] - frame[f"{metric}_std"].fillna(0.0),
        high=frame[f"{metric}_mean"] + frame[f"{metric}_std"].fillna(0.0),
    )
    x = alt.X(
        "fraction:Q",
        title="share of the members held",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(format="%"),
    )
    color = alt.Color("setting:N", title="who values")
    line = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y(
                f"{metric}_mean:Q",
                title=f"{metric.capitalize()} correlation with full data",
            ),
            color=color,
            tooltip=[
                "setting",
                alt.Tooltip("fraction:Q", format=".0%"),
                "held",
                alt.Tooltip(f"{metric}_mean:Q", format=".3f"),
                alt.Tooltip(f"{metric}_std:Q", format=".3f"),
            ],
        )
    )
    bars = (
        alt.Chart(data).mark_errorbar().encode(x=x, y="low:Q", y2="high:Q", color=color)
    )
    return (line + bars).properties(
        title="Importance from partial data against full data (mean ± std over draws)",
        width=WIDTH,
        height=300,
    )
