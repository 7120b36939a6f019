"""Sweeps of an attack over samples chosen by importance: top-n, bottom-n and random-n.

Model stealing and backdoor poisoning ask the same kind of question: does an attacker
who picks its samples (queries, poisons) from the top of the importance ranking do
better than one who picks from the bottom, or at random? Each answer is a grid of
points, one per (selection, budget, seed), and each point is an expensive, separately
cached result. This module holds what both attacks share:

- :class:`Sweep` and :class:`SweepPoint`: the grid, validated, in a stable order;
- :func:`run_points`: compute the missing points with progress, reusing stored ones, so
  that a stopped sweep resumes and a larger one extends the smaller;
- :func:`collect` and :func:`summarise`: the stored points as a table, and their mean
  ± std over seeds per (selection, budget);
- :func:`class_entropy`: how evenly a chosen set covers the classes, the confound a gap
  between top and bottom can come from;
- :func:`curve_chart`, :func:`summary_table`: the curves and the printed table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from backend.charts import GROUP_COLORS
from backend.errors import ValueRiskError
from backend.pipeline import NotComputed
from backend.selection import SELECTIONS
from backend.training import Progress

__all__ = [
    "DEFAULT_SEEDS",
    "SweepPoint",
    "Sweep",
    "check_budget",
    "ladder",
    "budget_options",
    "run_points",
    "collect",
    "summarise",
    "class_entropy",
    "summary_table",
    "mean_std_text",
    "curve_chart",
]

DEFAULT_SEEDS = (0, 1)  # two runs per point: the fewest that give a spread

# Budgets offered to the user: a 1-2-5 series, cut at what the data allows.
LADDER = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000)


@dataclass(frozen=True)
class SweepPoint:
    """One cell of a sweep: which samples, how many, and the seed of the run."""

    selection: str  # "top", "bottom" or "random" (see backend.selection)
    budget: int  # number of samples the attacker uses (queries, poisons)
    seed: int  # seed of the random choice and of the model trained at this point

    def to_dict(self) -> dict:
        return {"selection": self.selection, "budget": self.budget, "seed": self.seed}

    def label(self) -> str:
        return f"{self.selection}-{self.budget}, seed {self.seed}"


@dataclass(frozen=True)
class Sweep:
    """The grid of a sweep: every selection at every budget, with every seed.

    Attributes:
        budgets: numbers of samples, each ≥ 1; stored sorted and without repeats.
        seeds: seeds of the repeated runs, each ≥ 0, default (0, 1).
        selections: subset of :data:`backend.selection.SELECTIONS`, default all three.
    """

    budgets: tuple[int, ...]
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    selections: tuple[str, ...] = SELECTIONS

    def __post_init__(self) -> None:
        budgets = tuple(sorted({int(b) for b in self.budgets}))
        seeds = tuple(sorted({int(s) for s in self.seeds}))
        selections = tuple(s for s in SELECTIONS if s in set(self.selections))
        if not budgets or budgets[0] < 1:
            raise ValueRiskError(
                f"budgets must be one or more positive integers, got "
                f"{list(self.budgets)}; for example 50,100,200."
            )
        if not seeds or seeds[0] < 0:
            raise ValueRiskError(
                f"seeds must be one or more integers ≥ 0, got {list(self.seeds)}; for "
                "example 0,1,2."
            )
        unknown = set(self.selections) - set(SELECTIONS)
        if unknown or not selections:
            raise ValueRiskError(
                f"selections must be chosen from {SELECTIONS}, got "
                f"{list(self.selections)}."
            )
        object.__setattr__(self, "budgets", budgets)
        object.__setattr__(self, "seeds", seeds)
        object.__setattr__(self, "selections", selections)

    def points(self) -> list[SweepPoint]:
        """Every point, seeds outermost, so a stopped sweep has whole seeds done."""
        return [
            SweepPoint(selection, budget, seed)
            for seed in self.seeds
            for budget in self.budgets
            for selection in self.selections
        ]

    def to_params(self) -> dict:
        """JSON-able form, for a job's params."""
        return {
            "budgets": list(self.budgets),
            "seeds": list(self.seeds),
            "selections": list(self.selections),
        }

    @classmethod
    def from_params(cls, params: dict) -> Sweep:
        return cls(
            budgets=tuple(params["budgets"]),
            seeds=tuple(params.get("seeds", (0, 1))),
            selections=tuple(params.get("selections", SELECTIONS)),
        )

    def check_fits(self, available: int, what: str) -> None:
        """Raise if the largest budget exceeds the ``available`` samples."""
        check_budget(self.budgets[-1], available, what)


def check_budget(budget: int, available: int, what: str) -> None:
    """Raise if a budget asks for more than the ``available`` samples of ``what``."""
    if budget > available:
        raise ValueRiskError(
            f"a budget of {budget} asks for more samples than {what} holds "
            f"({available}); choose budgets of at most {available}."
        )


def ladder(available: int, *, minimum: int = 1) -> list[int]:
    """The budgets of :data:`LADDER` between ``minimum`` and ``available``."""
    return [b for b in LADDER if minimum <= b <= available]


def budget_options(available: int, *, minimum: int = 1) -> list[int]:
    """Budgets to offer: the ladder up to ``available``, and ``available`` itself."""
    options = ladder(available, minimum=minimum)
    return options + (
        [available] if available >= 1 and available not in options else []
    )


def run_points(
    points: Sequence[SweepPoint],
    *,
    done: Callable[[SweepPoint], bool],
    compute: Callable[[SweepPoint], object],
    progress: Progress,
) -> dict:
    """Compute every point that ``done`` says is missing, in order, with progress.

    Each ``compute`` call stores its own point, so stopping the loop at any moment
    keeps every finished point.

    Returns:
        ``{"points": total, "computed": newly computed, "reused": already stored}``.
    """
    computed = reused = 0
    for i, point in enumerate(points):
        if done(point):
            reused += 1
            verb = "stored"
        else:
            compute(point)
            computed += 1
            verb = "computed"
        progress((i + 1) / len(points), f"{point.label()}: {verb}")
    return {"points": len(points), "computed": computed, "reused": reused}


def collect(
    points: Sequence[SweepPoint], read: Callable[[SweepPoint], dict]
) -> tuple[pd.DataFrame, list[SweepPoint]]:
    """The stored points as one row each, and the points that are not stored yet.

    Args:
        points: the sweep's points.
        read: returns a point's stored result dict, or raises
            :class:`backend.pipeline.NotComputed`.
    """
    rows, missing = [], []
    for point in points:
        try:
            rows.append({**point.to_dict(), **read(point)})
        except NotComputed:
            missing.append(point)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["selection", "budget", "seed"])
    return frame, missing


def summarise(frame: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean, std (ddof=1; NaN for one seed) and seed count per (selection, budget).

    Returns:
        One row per (selection, budget) with ``<metric>_mean``, ``<metric>_std`` for
        every metric, and ``seeds``.
    """
    columns = ["selection", "budget", "seeds"]
    columns += [f"{m}_{s}" for m in metrics for s in ("mean", "std")]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = frame.groupby(["selection", "budget"], sort=False)
    out = grouped[list(metrics)].agg(["mean", "std"])
    out.columns = [f"{m}_{s}" for m, s in out.columns]
    out["seeds"] = grouped.size()
    out = out.reset_index()
    order = {s: i for i, s in enumerate(SELECTIONS)}
    out = out.sort_values(
        ["budget", "selection"],
        key=lambda c: c.map(order) if c.name == "selection" else c,
    )
    return out[columns].reset_index(drop=True)


def class_entropy(labels: np.ndarray, num_classes: int) -> tuple[float, float]:
    """Shannon entropy (bits) of a set's class histogram, and its uniform maximum.

    Args:
        labels: class of each chosen sample, (n,) integers in [0, num_classes).
        num_classes: number of classes C; the maximum is log2(C).

    Returns:
        ``(entropy, log2(num_classes))``; the entropy is 0 for an empty set.
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)
    total = counts.sum()
    if total == 0:
        return 0.0, float(np.log2(num_classes))
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum()), float(np.log2(num_classes))


def summary_table(
    summary: pd.DataFrame, metrics: dict[str, str], *, digits: int = 3
) -> pd.DataFrame:
    """A readable table: one ``mean ± std`` text column per metric.

    Args:
        summary: output of :func:`summarise`.
        metrics: metric name -> column title, in display order.
    """
    table = summary[["selection", "budget", "seeds"]].copy()
    for metric, title in metrics.items():
        means, stds = summary[f"{metric}_mean"], summary[f"{metric}_std"]
        table[title] = [
            mean_std_text(m, s, digits=digits) for m, s in zip(means, stds, strict=True)
        ]
    return table


def mean_std_text(mean: float, std: float, *, digits: int = 3, percent: bool = False):
    """``"0.812 ± 0.004"`` (or ``"81.2% ± 0.4%"``); the ± part is left out when the
    std is NaN (a single seed)."""
    fmt = f".{max(digits - 2, 0)}%" if percent else f".{digits}f"
    text = format(mean, fmt)
    return text if np.isnan(std) else f"{text} ± {format(std, fmt)}"


def curve_chart(
    summary: pd.DataFrame,
    metric: str,
    *,
    title: str,
    y_title: str,
    x_title: str,
    reference: float | None = None,
    reference_label: str = "",
) -> alt.Chart:
    """Mean of a metric against budget per selection, with a ±1 std band.

    Args:
        summary: output of :func:`summarise` holding ``<metric>_mean`` / ``_std``.
        metric: the metric to draw.
        reference: an optional horizontal rule (such as the target's accuracy).
        reference_label: the rule's tooltip.
    """
    data = summary.assign(
        mean=summary[f"{metric}_mean"],
        low=summary[f"{metric}_mean"] - summary[f"{metric}_std"].fillna(0.0),
        high=summary[f"{metric}_mean"] + summary[f"{metric}_std"].fillna(0.0),
    )[["selection", "budget", "seeds", "mean", "low", "high"]]
    x = alt.X("budget:Q", title=x_title, scale=alt.Scale(type="log"))
    color = alt.Color("selection:N", scale=GROUP_COLORS, title="chosen from")
    band = (
        alt.Chart(data)
        .mark_area(opacity=0.15)
        .encode(x=x, y=alt.Y("low:Q"), y2="high:Q", color=color)
    )
    line = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("mean:Q", title=y_title, scale=alt.Scale(zero=False)),
            color=color,
            tooltip=[
                "selection",
                "budget",
                "seeds",
                alt.Tooltip("mean:Q", format=".3f"),
                alt.Tooltip("low:Q", format=".3f", title="mean − std"),
                alt.Tooltip("high:Q", format=".3f", title="mean + std"),
            ],
        )
    )
    chart = band + line
    if reference is not None:
        rule = (
            alt.Chart(pd.DataFrame({"value": [reference], "what": [reference_label]}))
            .mark_rule(color="black", strokeDash=[4, 3])
            .encode(y="value:Q", tooltip=["what", alt.Tooltip("value:Q", format=".3f")])
        )
        chart = chart + rule
    return chart.properties(title=title, width="container", height=280)
