"""Chart builders: a DataFrame in, an Altair chart out.

Pages, the exported report and the tests all draw through these functions, so a chart
looks the same wherever it appears. Nothing here computes a statistic: the frames come
from :mod:`backend.analysis` and :mod:`backend.metrics`.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from backend import metrics

__all__ = [
    "GROUP_COLORS",
    "group_scale",
    "histogram",
    "validity_chart",
    "k_sensitivity_chart",
    "trend_frames",
    "trend_chart",
    "roc_chart",
    "bins_chart",
    "calibration_chart",
    "scatter_chart",
]

# One colour per importance group, used by every chart that splits by group.
GROUP_COLORS = alt.Scale(
    domain=["top", "middle", "bottom", "random", "non-member"],
    range=["#d62728", "#7f7f7f", "#1f77b4", "#2ca02c", "#bcbd22"],
)
WIDTH = "container"


def histogram(
    frame: pd.DataFrame,
    column: str,
    *,
    title: str,
    color: str | None = None,
    rule: float | None = None,
    bins: int = 60,
) -> alt.Chart:
    """A histogram of ``frame[column]``, optionally split by ``color``, with an
    optional vertical rule (a cut-off value)."""
    encoding = {
        "x": alt.X(f"{column}:Q", bin=alt.Bin(maxbins=bins), title=column),
        "y": alt.Y("count():Q", title="samples", stack=None),
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=color)
    chart = alt.Chart(frame).mark_bar(opacity=0.6).encode(**encoding)
    if rule is not None:
        line = (
            alt.Chart(pd.DataFrame({column: [rule]}))
            .mark_rule(color="black", strokeDash=[4, 3])
            .encode(x=f"{column}:Q")
        )
        chart = chart + line
    return chart.properties(title=title, width=WIDTH, height=260)


def validity_chart(frame: pd.DataFrame) -> alt.Chart:
    """Test accuracy against n for the top-, bottom- and random-n training subsets."""
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("n:Q", title="training samples (n)", scale=alt.Scale(type="log")),
            y=alt.Y("accuracy:Q", title="test accuracy", scale=alt.Scale(zero=False)),
            color=alt.Color(
                "selection:N", scale=group_scale(frame["selection"]), title="subset"
            ),
            tooltip=["selection", "n", alt.Tooltip("accuracy:Q", format=".3f")],
        )
        .properties(title="Trained on only the top, bottom or random n", width=WIDTH)
    )


def k_sensitivity_chart(frame: pd.DataFrame) -> alt.Chart:
    """Correlation of importance for k with importance for other k."""
    long = frame.melt(
        id_vars=["k", "other_k"], value_vars=["pearson", "spearman"], var_name="type"
    )
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("other_k:O", title="other k"),
            xOffset="type:N",
            y=alt.Y("value:Q", title="correlation", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("type:N", title="correlation"),
            tooltip=["other_k", "type", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(title="Importance for k against k±1 and k±2", width=WIDTH)
    )


def trend_frames(
    importance: np.ndarray,
    signal: np.ndarray,
    *,
    n_bins: int = 200,
    max_points: int = 3000,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Points and per-bin means of a signal against importance order.

    Returns:
        ``points``: a random sample of at most ``max_points`` samples with their
        importance ``rank`` (0 = least important) and ``value``; ``means``: the mean
        value in each of ``n_bins`` equal-size bins of importance order, at the bin's
        centre rank.
    """
    importance = np.asarray(importance)
    signal = np.asarray(signal, dtype=np.float64)
    n = len(importance)
    n_bins = min(n_bins, n)
    ranks = np.empty(n, dtype=np.int64)
    ranks[np.argsort(importance, kind="stable")] = np.arange(n)
    keep = np.random.default_rng(seed).permutation(n)[:max_points]
    points = pd.DataFrame({"rank": ranks[keep], "value": signal[keep]})
    centres = (np.arange(n_bins) + 0.5) * n / n_bins
    means = pd.DataFrame(
        {"rank": centres, "value": metrics.binned_means(importance, signal, n_bins)}
    )
    return points, means


def trend_chart(
    points: pd.DataFrame, means: pd.DataFrame, *, title: str, y_title: str
) -> alt.Chart:
    """A faint scatter of samples and the curve of per-bin means."""
    x = alt.X("rank:Q", title="importance rank (left: least important)")
    scatter = (
        alt.Chart(points)
        .mark_circle(size=8, opacity=0.25, color="#7f7f7f")
        .encode(x=x, y=alt.Y("value:Q", title=y_title))
    )
    line = (
        alt.Chart(means)
        .mark_line(color="#d62728", strokeWidth=2)
        .encode(x=x, y="value:Q", tooltip=[alt.Tooltip("value:Q", format=".4g")])
    )
    return (scatter + line).properties(title=title, width=WIDTH, height=300)


def group_scale(groups) -> alt.Scale:
    """The group colours, restricted to the groups present (a tidy legend)."""
    present = [g for g in GROUP_COLORS.domain if g in set(groups)]
    colors = dict(zip(GROUP_COLORS.domain, GROUP_COLORS.range, strict=True))
    return alt.Scale(domain=present, range=[colors[g] for g in present])


def roc_chart(frame: pd.DataFrame, *, floor: float | None = None) -> alt.Chart:
    """Log-log ROC curves, one per group.

    A log axis with a zero in its data draws nothing, so rates are clipped to ``floor``
    (default: half the smallest non-zero rate in the data, so every measured point
    shows).
    """
    if floor is None:
        rates = frame[["fpr", "tpr"]].to_numpy().ravel()
        positive = rates[rates > 0]
        floor = 0.5 * positive.min() if len(positive) else 1e-5
    data = frame.assign(
        fpr=frame["fpr"].clip(lower=floor), tpr=frame["tpr"].clip(lower=floor)
    )
    scale = alt.Scale(type="log", domain=[floor, 1])
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [floor, 1.0]}))
        .mark_line(color="black", strokeDash=[3, 3], opacity=0.4)
        .encode(x=alt.X("x:Q", scale=scale), y=alt.Y("x:Q", scale=scale))
    )
    curves = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=alt.X("fpr:Q", scale=scale, title="false-positive rate"),
            y=alt.Y("tpr:Q", scale=scale, title="true-positive rate"),
            color=alt.Color(
                "group:N", scale=group_scale(data["group"]), title="members"
            ),
            order="fpr:Q",
        )
    )
    return (diagonal + curves).properties(width=WIDTH, height=320)


def bins_chart(frame: pd.DataFrame) -> alt.Chart:
    """Membership advantage per importance bin, one bar group per attack."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("bin:O", title="importance bin (0 = least important)"),
            xOffset="attack:N",
            y=alt.Y("advantage:Q", title="advantage (TPR − FPR)"),
            color=alt.Color("attack:N", title="attack"),
            tooltip=[
                "attack",
                "bin",
                "members",
                alt.Tooltip("advantage:Q", format=".3f"),
                alt.Tooltip("tpr:Q", format=".3f"),
                alt.Tooltip("fpr:Q", format=".3f"),
            ],
        )
        .properties(title="Advantage by importance bin", width=WIDTH, height=300)
    )


def calibration_chart(frame: pd.DataFrame, metric: str = "max_advantage") -> alt.Chart:
    """An attack metric against λ, the weight of importance in the calibrated score."""
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("lambda:Q", title="λ (weight of importance)"),
            y=alt.Y(f"{metric}:Q", title=metric.replace("_", " ")),
            color=alt.Color("attack:N", title="attack"),
            tooltip=["attack", "lambda", alt.Tooltip(f"{metric}:Q", format=".4f")],
        )
        .properties(title="Importance-calibrated scores", width=WIDTH, height=280)
    )


def scatter_chart(
    frame: pd.DataFrame, x: str, y: str, *, title: str, max_points: int = 3000
) -> alt.Chart:
    """A plain scatter of two columns (sampled to ``max_points``)."""
    data = frame.sample(min(len(frame), max_points), random_state=0)
    return (
        alt.Chart(data)
        .mark_circle(size=10, opacity=0.4)
        .encode(x=alt.X(f"{x}:Q", title=x), y=alt.Y(f"{y}:Q", title=y))
        .properties(title=title, width=WIDTH, height=300)
    )
