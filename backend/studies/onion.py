"""The privacy onion effect on importance: peel off the most important layer of
members, and the layer below becomes the most important.

Carlini et al. ("The privacy onion effect", NeurIPS 2022) showed it for membership
exposure; the data-importance study showed it for KNN-Shapley importance by removing
the top 10,000 of 50,000 members. Here:

1. Rank the members by importance, remove the top ``fraction`` and value the rest
   again against the same reference set. The cut-off is the smallest importance among
   the removed; the headline number is the share of remaining members now above it.
2. Controlled comparison: remove the bottom ``fraction`` instead. The middle band,
   ranks ``fraction`` to ``2 * fraction`` from the top, survives both removals, which
   shrink the set equally; a difference between the two removals' effect on the band
   therefore does not come from the set's size.
3. Exposure: retrain the target without the top. The new top layer (the top
   ``fraction`` of the remaining members by their new importance) is scored by the
   same membership attack under the original and the retrained model, beside the
   rest of the remaining members as the control.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from backend import metrics, pipeline
from backend.dataset_edits import TrainingView, remove
from backend.errors import ValueRiskError
from backend.jobs import staged
from backend.pipeline import Context
from backend.studies.changes import change_shares
from backend.studies.exposure import exposure_rows, retrain, shadow_scorer
from backend.studies.revaluation import Valuer, members_view, valuer_for
from backend.studies.specs import OnionSpec
from backend.training import Progress

__all__ = ["onion_effect", "compute", "summarize", "summary_table"]

REMOVALS = ("top", "bottom")


def _quiet(fraction: float, message: str) -> None:
    return None


def onion_effect(
    valuer: Valuer,
    view: TrainingView,
    before: np.ndarray,
    fraction: float,
    *,
    progress: Progress | None = None,
) -> dict:
    """Importance after removing the top, or the bottom, ``fraction`` of the view.

    Args:
        valuer: values a view against the reference set.
        view: the training set, (n rows).
        before: importance of the view's rows, (n,).
        fraction: share removed from each end, with ``3 * round(fraction * n) <= n``.

    Returns:
        ``before``; ``after_top`` and ``after_bottom`` (n,), NaN at removed rows;
        boolean masks (n,) ``top``, ``bottom`` (the removed rows) and ``band`` (ranks
        ``count`` to ``2 * count`` from the top); ``cutoff``, the smallest importance
        among the top.

    Raises:
        ValueRiskError: when the band would overlap the bottom.
    """
    progress = progress or _quiet
    before = np.asarray(before, dtype=np.float64)
    n = len(before)

    # The removed ends and the middle band just below the top, by rank
    top, bottom = metrics.top_bottom_masks(before, fraction)
    count = int(top.sum())
    if 3 * count > n:
        raise ValueRiskError(
            f"removing {count} of {n} members from each end leaves no band that "
            "survives both removals; lower the fraction to at most 1/3 or use more "
            "members."
        )
    ascending = np.argsort(before, kind="stable")  # the same order top_bottom uses
    band = np.zeros(n, dtype=bool)
    band[ascending[n - 2 * count : n - count]] = True

    # Value what remains after each removal
    stage = staged(progress, [(f"without the {end}", 1.0) for end in REMOVALS])
    after = {}
    for end, removed in (("top", top), ("bottom", bottom)):
        values = np.full(n, np.nan)
        values[~removed] = valuer(
            remove(view, removed), progress=stage(f"without the {end}")
        )
        after[end] = values
    return {
        "before": before,
        "after_top": after["top"],
        "after_bottom": after["bottom"],
        "top": top,
        "bottom": bottom,
        "band": band,
        "cutoff": float(before[top].min()),
    }


def compute(ctx: Context, spec: OnionSpec, *, progress: Progress | None = None):
    """The onion study of a context (see the module docstring); the cached payload."""
    progress = progress or _quiet
    stages = [("importance", 1.0), ("removals", 4.0)]
    if spec.retrain:
        stages += [("shadow model", 2.0), ("target model", 2.0), ("retraining", 3.0)]
    stage = staged(progress, stages)

    # Importance before, and after each removal
    before = pipeline.importance(ctx, progress=stage("importance"))
    view = members_view(ctx)
    effect = onion_effect(
        valuer_for(ctx), view, before, spec.fraction, progress=stage("removals")
    )
    payload = {
        **effect,
        "index": ctx.split.members,
        "labels": ctx.data.y[ctx.split.members],
        "fraction": spec.fraction,
        "exposure": None,
        "new_top": None,
    }
    if spec.retrain:
        payload.update(_exposure(ctx, spec, view, effect, stage))
    return payload


def _exposure(ctx: Context, spec: OnionSpec, view: TrainingView, effect, stage):
    # The new top layer: the top fraction of the remaining members by new importance
    remaining = ~effect["top"]
    new_top = np.zeros(len(view), dtype=bool)
    top_of_rest, _ = metrics.top_bottom_masks(
        effect["after_top"][remaining], spec.fraction
    )
    new_top[np.flatnonzero(remaining)[top_of_rest]] = True
    groups = {"new top layer": new_top, "rest of the remaining": remaining & ~new_top}

    # Score both groups and the non-members under the original and retrained model
    scorer = shadow_scorer(ctx, spec.attack, progress=stage("shadow model"))
    original, _ = pipeline.trained_model(ctx, "target", progress=stage("target model"))
    retrained = retrain(ctx, remove(view, effect["top"]), progress=stage("retraining"))
    x, y = view.features(), view.y
    x_out, y_out = (
        ctx.data.features(ctx.split.nonmembers),
        ctx.data.y[ctx.split.nonmembers],
    )
    rows = []
    for name, model in (("before", original), ("after", retrained)):
        scores = scorer(model, x, y)
        rows += exposure_rows(
            name,
            scores,
            scorer.decide(scores, y),
            groups,
            scorer(model, x_out, y_out),
            fpr=spec.fpr,
        )
    return {"new_top": new_top, "exposure": pd.DataFrame(rows)}


def summarize(payload: dict) -> dict:
    """The study's headline numbers, JSON-able."""
    before, top, band = payload["before"], payload["top"], payload["band"]
    scale = float(np.abs(before).max())
    rest = ~top
    summary = {
        "members": int(len(before)),
        "removed": int(top.sum()),
        "cutoff": payload["cutoff"],
        "above_cutoff_before": float((before[rest] > payload["cutoff"]).mean()),
        "above_cutoff_after": float(
            (payload["after_top"][rest] > payload["cutoff"]).mean()
        ),
        "band": int(band.sum()),
    }
    for end in REMOVALS:
        shares = change_shares(before[band], payload[f"after_{end}"][band], scale=scale)
        summary[f"band_gained_without_{end}"] = shares["gained"]
        summary[f"band_lost_without_{end}"] = shares["lost"]
        summary[f"band_mean_change_without_{end}"] = shares["mean_change"]
    exposure = payload["exposure"]
    if exposure is not None:
        layer = exposure[exposure["group"] == "new top layer"].set_index("model")
        for model in ("before", "after"):
            summary[f"new_top_tpr_{model}"] = float(layer.loc[model, "tpr"])
            summary[f"new_top_mean_score_{model}"] = float(
                layer.loc[model, "mean_score"]
            )
    return summary


def summary_table(payload: dict) -> pd.DataFrame:
    """The middle band's change under each removal: one row per removal."""
    before, band = payload["before"], payload["band"]
    scale = float(np.abs(before).max())
    rows = []
    for end in REMOVALS:
        shares = change_shares(before[band], payload[f"after_{end}"][band], scale=scale)
        rows.append({"removed": f"{end} {payload['fraction']:.0%}", **shares})
    return pd.DataFrame(rows)


def distribution_frame(payload: dict) -> pd.DataFrame:
    """Importance before (all members) and after removing the top (the rest)."""
    after = payload["after_top"]
    return pd.concat(
        [
            pd.DataFrame({"importance": payload["before"], "when": "before"}),
            pd.DataFrame({"importance": after[np.isfinite(after)], "when": "after"}),
        ],
        ignore_index=True,
    )


def band_frame(payload: dict) -> pd.DataFrame:
    """Each band member's change in importance under each removal."""
    band, before = payload["band"], payload["before"]
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "change": payload[f"after_{end}"][band] - before[band],
                    "removal": f"without the {end}",
                }
            )
            for end in REMOVALS
        ],
        ignore_index=True,
    )


def findings(payload: dict) -> list[str]:
    """The result in plain sentences."""
    s = summarize(payload)
    lines = [
        f"Removing the top {payload['fraction']:.0%} ({s['removed']:,} members) left "
        f"{s['above_cutoff_after']:.1%} of the remaining members above the old "
        f"cut-off ({s['cutoff']:.3g}); before the removal, "
        f"{s['above_cutoff_before']:.1%} were."
    ]
    gained_top, gained_bottom = (
        s["band_gained_without_top"],
        s["band_gained_without_bottom"],
    )
    verdict = (
        "so losing the top, not the smaller set, lifts them"
        if gained_top > gained_bottom
        else "so the rise is no larger than the set's shrinking alone explains"
    )
    lines.append(
        f"Of the {s['band']:,} members just below the top, {gained_top:.1%} gained "
        f"importance when the top was removed and {gained_bottom:.1%} when the bottom "
        f"was removed, {verdict}."
    )
    exposure = payload["exposure"]
    if exposure is not None:
        rest = exposure[exposure["group"] == "rest of the remaining"].set_index("model")
        lines.append(
            "Retrained without the top, the new top layer's TPR went from "
            f"{s['new_top_tpr_before']:.3f} to {s['new_top_tpr_after']:.3f} (the rest "
            f"of the remaining: {rest.loc['before', 'tpr']:.3f} to "
            f"{rest.loc['after', 'tpr']:.3f})."
        )
    return lines
