"""Plain-language findings for people who are not ML specialists.

Each finding is one sentence with its number, built from the stored results of a spec.
The wording avoids jargon where it can ("the attacker finds" rather than "TPR") and
says when a number cannot be measured instead of printing a misleading one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backend import analysis, pipeline
from backend.attacks.membership import ATTACKS
from backend.metrics import min_negatives_for

__all__ = ["Finding", "HEADLINE_ATTACK", "findings", "ratio", "missing_results"]

HEADLINE_ATTACK = "confidence"  # the attack the headline sentences quote
HEADLINE_FPR = 0.01


@dataclass(frozen=True)
class Finding:
    """One plain-language finding."""

    title: str
    text: str
    kind: str = "result"  # "headline", "result" or "caveat"


def ratio(high: float, low: float) -> float:
    """high / low, with inf when only ``low`` is 0 and NaN when both are 0 or NaN."""
    if not (math.isfinite(high) and math.isfinite(low)):
        return float("nan")
    if low == 0:
        return float("inf") if high > 0 else float("nan")
    return high / low


def missing_results(ctx: pipeline.Context) -> list[str]:
    """Plain names of the results not yet computed for the spec."""
    done = pipeline.stage_status(ctx) | analysis.analysis_status(ctx)
    return [name for name, present in done.items() if not present]


def findings(ctx: pipeline.Context, *, attack: str = HEADLINE_ATTACK) -> list[Finding]:
    """The findings that the stored results support (nothing is computed here)."""
    out: list[Finding] = []
    try:
        result = analysis.membership(ctx)
    except pipeline.NotComputed:
        result = None
    if result is not None:
        out += _membership_findings(result, attack, ctx.spec.attack.group_fraction)
    try:
        out += _validity_findings(analysis.validity(ctx))
    except pipeline.NotComputed:
        pass
    missing = missing_results(ctx)
    if missing:
        out.append(
            Finding(
                "Not computed yet",
                "These results are not computed for this choice yet: "
                + ", ".join(missing)
                + ". Use “Compute what is missing” in the sidebar.",
                "caveat",
            )
        )
    return out


def _share(fraction: float) -> str:
    names = {0.2: "fifth", 0.1: "tenth", 0.25: "quarter", 0.5: "half"}
    return names.get(round(fraction, 4), f"{fraction:.0%}")


def _membership_findings(result: dict, attack: str, fraction: float) -> list[Finding]:
    groups = result["groups"].set_index(["attack", "group"])
    top, bottom = groups.loc[(attack, "top")], groups.loc[(attack, "bottom")]
    share = _share(fraction)
    column = f"tpr@{HEADLINE_FPR:g}"
    out = []

    # Headline: how many more of the valuable members the attacker finds.
    if int(top["nonmembers"]) < min_negatives_for(HEADLINE_FPR):
        auc_gap = top["auc"] - bottom["auc"]
        out.append(
            Finding(
                "Valuable samples are easier to expose",
                f"With {int(top['nonmembers'])} non-members, a 1% false-positive rate "
                "cannot be measured (it needs at least 100). Instead: the attack's AUC "
                f"is {top['auc']:.3f} on the most valuable {share} of the training set "
                f"and {bottom['auc']:.3f} on the least valuable {share}, a difference "
                f"of {auc_gap:+.3f} (0.5 is a coin flip).",
                "headline",
            )
        )
    else:
        times = ratio(float(top[column]), float(bottom[column]))
        if math.isinf(times):
            text = (
                f"At a 1% false-positive rate, the attacker finds {top[column]:.1%} of "
                f"the most valuable {share} of the training set, and none of the "
                f"least valuable {share}."
            )
        elif math.isnan(times):
            text = (
                f"At a 1% false-positive rate the {ATTACKS[attack].title.lower()} "
                "attack finds none of the most or least valuable "
                f"{share} of the training set."
            )
        else:
            text = (
                f"At a 1% false-positive rate, the attacker finds {times:.1f} times "
                f"more of the most valuable {share} of the training set "
                f"({top[column]:.1%} of them) than of the least valuable {share} "
                f"({bottom[column]:.1%})."
            )
        out.append(Finding("Valuable samples are easier to expose", text, "headline"))

    # How the advantage grows across importance bins.
    bins = result["bins"][result["bins"]["attack"] == attack].sort_values("bin")
    first, last = bins.iloc[0], bins.iloc[-1]
    out.append(
        Finding(
            "Exposure grows with importance",
            f"Sorted into {len(bins)} equal groups by importance, the attacker's "
            f"advantage (share of members caught minus share of outsiders wrongly "
            f"flagged) goes from {first['advantage']:.3f} in the least valuable group "
            f"to {last['advantage']:.3f} in the most valuable.",
        )
    )

    # Learning characteristics: loss and distance to the decision boundary.
    table = result["per_sample"]
    members = table[table["member"]]
    top_rows, bottom_rows = (
        members[members["group"] == "top"],
        members[members["group"] == "bottom"],
    )
    out.append(
        Finding(
            "The model fits valuable samples differently",
            f"The median training loss is {top_rows['loss'].median():.3g} for the most "
            f"valuable {share} and {bottom_rows['loss'].median():.3g} for the least "
            f"valuable; the median distance to the decision boundary (ℓ2) is "
            f"{top_rows['l2'].median():.3g} and {bottom_rows['l2'].median():.3g}.",
        )
    )

    # The attacker can estimate importance on its own.
    estimate = result["estimate"]
    out.append(
        Finding(
            "An attacker can estimate importance",
            "Importance that an attacker computes from its own data agrees with the "
            f"true importance (Spearman correlation {estimate['spearman']:.2f}), so it "
            "can aim at the valuable samples.",
        )
    )
    if result["censored"]:
        out.append(
            Finding(
                "Some distances are lower bounds",
                f"{result['censored']} samples did not cross the decision boundary "
                "within the search budget; their distances are lower bounds.",
                "caveat",
            )
        )
    return out


def _validity_findings(frame: pd.DataFrame) -> list[Finding]:
    smallest = frame[frame["n"] == frame["n"].min()].set_index("selection")["accuracy"]
    n = int(frame["n"].min())
    top, bottom = smallest.get("top", np.nan), smallest.get("bottom", np.nan)
    return [
        Finding(
            "Importance measures usefulness",
            f"A model trained on only the {n} most valuable samples reaches "
            f"{top:.1%} test accuracy, against {bottom:.1%} for the {n} least "
            f"valuable and {smallest.get('random', np.nan):.1%} for {n} random ones.",
        )
    ]
