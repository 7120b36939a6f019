"""Raising chosen members' importance by adding wrong-label copies of them.

Each target member gets ``copies`` exact copies that all carry one wrong label, and
every member is valued again. This is how membership poisoning (Tramèr et al., "Truth
Serum", CCS 2022) plants its targets.

Why the target rises under KNN-Shapley: its copies lie at distance 0 and count as
farther than the target (equal distances are ordered by row, and copies come after
every original). For a test point near the target, the target is then the one
correctly labelled point in front of a wall of wrong labels, and its marginal
contribution grows. Every point behind the copies moves back by their number. A
correctly labelled neighbour that was among the k nearest of a test point of its label
drops out of them and loses that credit; one that was farther back loses less to the
matching points behind it, and can gain. Which wins depends on the data: in a tight,
well-separated cluster the neighbours fall; on Fashion-MNIST (40,000 members, 16
copies of 50 targets) most of them rose, by less than the targets
(``benchmarks/studies.py``). Three groups are reported:

- ``targets``: the poisoned members;
- ``neighbours``: each target's k nearest other members of its own label, in the
  valuation's representation;
- ``controls``: every other member, whose median change stays small.

The exposure check retrains the target model on the poisoned set and scores the
targets (with their true labels) before and after; with ``in_out`` it also trains
both models without the targets and measures how well a target's score tells "in"
from "out" (see :mod:`backend.studies.exposure`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from backend import pipeline
from backend.dataset_edits import TrainingView, add_copies, remove, wrong_labels
from backend.errors import ValueRiskError
from backend.jobs import staged
from backend.pipeline import Context
from backend.selection import select
from backend.studies.changes import change_shares, percent_change
from backend.studies.exposure import (
    exposure_rows,
    in_out_row,
    retrain,
    shadow_scorer,
)
from backend.studies.revaluation import Valuer, members_view, valuer_for
from backend.studies.specs import DuplicatesSpec
from backend.training import Progress

__all__ = [
    "GROUPS",
    "choose_targets",
    "neighbour_mask",
    "duplicate_effect",
    "compute",
    "summarize",
    "summary_table",
]

GROUPS = ("targets", "neighbours", "controls")
_DISTANCE_ROWS = 64  # targets whose distances to every member are held at once


def _quiet(fraction: float, message: str) -> None:
    return None


def choose_targets(
    members: np.ndarray, before: np.ndarray, spec: DuplicatesSpec
) -> np.ndarray:
    """Positions (into ``members``) of the targets, sorted ascending.

    Hand-picked ``spec.targets`` (dataset indices) win; otherwise ``spec.n_targets``
    members at random (at most all of them), drawn with ``spec.seed``.

    Raises:
        ValueRiskError: a hand-picked index is not a member.
    """
    if spec.targets:
        wanted = np.asarray(spec.targets, dtype=np.int64)
        found = np.isin(wanted, members)
        if not found.all():
            missing = wanted[~found][:10].tolist()
            raise ValueRiskError(
                f"targets must be dataset indices of members (the target model's "
                f"training set); {int((~found).sum())} are not, e.g. {missing}. Pick "
                "indices from the importance table of the members."
            )
        position = {int(index): p for p, index in enumerate(members)}
        return np.sort([position[int(index)] for index in wanted]).astype(np.int64)
    n = min(spec.n_targets, len(members))
    return select(before, n, "random", seed=spec.seed)


def neighbour_mask(
    x: np.ndarray, labels: np.ndarray, targets: np.ndarray, k: int
) -> np.ndarray:
    """Each target's ``k`` nearest other non-target rows of its label, as a mask.

    Args:
        x: the rows in the valuation's representation, (n, d).
        labels: their labels, (n,).
        targets: positions of the targets, (m,).
        k: neighbours per target.

    Returns:
        Boolean mask (n,), never true at a target.
    """
    x = np.asarray(x, dtype=np.float32)  # orders neighbours; float32 is enough
    is_target = np.zeros(len(x), dtype=bool)
    is_target[targets] = True
    mask = np.zeros(len(x), dtype=bool)
    norms = (x**2).sum(axis=1)
    for start in range(0, len(targets), _DISTANCE_ROWS):
        rows = targets[start : start + _DISTANCE_ROWS]
        # Squared distances from these targets to every row, (rows, n)
        dist = norms[rows, None] - 2.0 * x[rows] @ x.T + norms[None, :]
        dist[:, is_target] = np.inf
        dist[labels[rows, None] != labels[None, :]] = np.inf
        nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
        reachable = np.take_along_axis(np.isfinite(dist), nearest, axis=1)
        mask[nearest[reachable]] = True
    return mask


def duplicate_effect(
    valuer: Valuer,
    view: TrainingView,
    targets: np.ndarray,
    labels: np.ndarray,
    *,
    copies: int,
    progress: Progress | None = None,
) -> tuple[TrainingView, np.ndarray]:
    """The poisoned view and the importance of the view's own rows in it.

    Args:
        valuer: values a view against the reference set.
        view: the training set, (n rows).
        targets: positions of the targets, (m,).
        labels: the wrong label of each target's copies, (m,).
        copies: copies per target.

    Returns:
        The poisoned view (the n original rows, then the copies) and the importance
        of the n original rows in it, (n,).
    """
    poisoned = add_copies(view, targets, copies=copies, labels=labels)
    return poisoned, valuer(poisoned, progress=progress)[: len(view)]


def compute(ctx: Context, spec: DuplicatesSpec, *, progress: Progress | None = None):
    """The duplication study of a context (see the module docstring); the payload."""
    progress = progress or _quiet
    stages = [("importance", 1.0), ("poisoned importance", 1.5)]
    if spec.retrain:
        stages += [("shadow model", 2.0), ("target model", 2.0), ("retraining", 3.0)]
        if spec.in_out:
            stages += [("training without the targets", 6.0)]
    stage = staged(progress, stages)

    # Targets, their wrong labels, and the importance of every member after poisoning
    before = pipeline.importance(ctx, progress=stage("importance"))
    view, valuer = members_view(ctx), valuer_for(ctx)
    targets = choose_targets(ctx.split.members, before, spec)
    wrong = wrong_labels(view.y[targets], ctx.data.info.num_classes, seed=spec.seed)
    poisoned, after = duplicate_effect(
        valuer,
        view,
        targets,
        wrong,
        copies=spec.copies,
        progress=stage("poisoned importance"),
    )
    neighbours = neighbour_mask(
        valuer.represent(view.features()), view.y, targets, ctx.spec.valuation.k
    )
    payload = {
        "before": before,
        "after": after,
        "index": ctx.split.members,
        "labels": view.y,
        "targets": targets,
        "wrong_labels": wrong,
        "neighbours": neighbours,
        "copies": spec.copies,
        "exposure": None,
        "in_out": None,
        "target_scores": None,
    }
    if spec.retrain:
        payload.update(_exposure(ctx, spec, view, poisoned, payload, stage))
    return payload


def _exposure(ctx, spec, view, poisoned, payload, stage) -> dict:
    targets = payload["targets"]
    is_target = np.zeros(len(view), dtype=bool)
    is_target[targets] = True
    groups = {"targets": is_target, "controls": ~is_target & ~payload["neighbours"]}

    # Membership scores under the clean and the poisoned model, true labels throughout
    scorer = shadow_scorer(ctx, spec.attack, progress=stage("shadow model"))
    clean, _ = pipeline.trained_model(ctx, "target", progress=stage("target model"))
    dirty = retrain(ctx, poisoned, progress=stage("retraining"))
    x, y = view.features(), view.y
    outside = ctx.split.nonmembers
    x_out, y_out = ctx.data.features(outside), ctx.data.y[outside]
    rows, scores_in = [], {}
    for name, model in (("before", clean), ("after", dirty)):
        scores = scorer(model, x, y)
        scores_in[name] = scores[targets]
        rows += exposure_rows(
            name,
            scores,
            scorer.decide(scores, y),
            groups,
            scorer(model, x_out, y_out),
            fpr=spec.fpr,
        )
    table = pd.DataFrame(
        {
            "index": view.origin[targets],
            "in_before": scores_in["before"],
            "in_after": scores_in["after"],
        }
    )
    result = {"exposure": pd.DataFrame(rows), "target_scores": table}
    if not spec.in_out:
        return result

    # The same two training sets without the targets: the "out" side of the game
    out_stage = staged(
        stage("training without the targets"), [("clean", 1), ("poisoned", 1)]
    )
    clean_out = retrain(ctx, remove(view, targets), progress=out_stage("clean"))
    dirty_out = retrain(ctx, remove(poisoned, targets), progress=out_stage("poisoned"))
    x_t, y_t = x[targets], y[targets]
    table["out_before"] = scorer(clean_out, x_t, y_t)
    table["out_after"] = scorer(dirty_out, x_t, y_t)
    result["in_out"] = pd.DataFrame(
        [
            in_out_row(name, table[f"in_{name}"], table[f"out_{name}"])
            for name in ("before", "after")
        ]
    )
    return result


def group_masks(payload: dict) -> dict[str, np.ndarray]:
    """Boolean masks (n,) of the targets, their neighbours and the controls."""
    is_target = np.zeros(len(payload["before"]), dtype=bool)
    is_target[payload["targets"]] = True
    neighbours = payload["neighbours"]
    return {
        "targets": is_target,
        "neighbours": neighbours,
        "controls": ~is_target & ~neighbours,
    }


def summary_table(payload: dict) -> pd.DataFrame:
    """One row per group: how many rose, and by how much."""
    before, after = payload["before"], payload["after"]
    scale = float(np.abs(before).max())
    rows = []
    for group, mask in group_masks(payload).items():
        shares = change_shares(before[mask], after[mask], scale=scale)
        pct = percent_change(before[mask], after[mask])
        finite = pct[np.isfinite(pct)]
        rows.append(
            {
                "group": group,
                "n": int(mask.sum()),
                "rose": int(round(shares["gained"] * mask.sum())) if mask.any() else 0,
                "share_rose": shares["gained"],
                # the group's mean importance, relative: robust to single samples
                # whose importance before was near zero
                "mean_rise_pct": float(
                    percent_change(before[mask].mean(), after[mask].mean())
                )
                if mask.any()
                else np.nan,
                "mean_pct_change": float(finite.mean()) if len(finite) else np.nan,
                "median_pct_change": float(np.median(finite))
                if len(finite)
                else np.nan,
                "mean_change": shares["mean_change"],
            }
        )
    return pd.DataFrame(rows)


def summarize(payload: dict) -> dict:
    """The study's headline numbers, JSON-able."""
    summary = {"copies": int(payload["copies"])}
    for row in summary_table(payload).to_dict("records"):
        group = row.pop("group")
        summary.update({f"{group}_{key}": value for key, value in row.items()})
    if payload["exposure"] is not None:
        table = payload["exposure"]
        targets = table[table["group"] == "targets"].set_index("model")
        for model in ("before", "after"):
            summary[f"targets_tpr_{model}"] = float(targets.loc[model, "tpr"])
            summary[f"targets_mean_score_{model}"] = float(
                targets.loc[model, "mean_score"]
            )
    if payload["in_out"] is not None:
        in_out = payload["in_out"].set_index("model")
        for model in ("before", "after"):
            summary[f"in_out_auc_{model}"] = float(in_out.loc[model, "auc"])
            summary[f"in_out_gap_{model}"] = float(in_out.loc[model, "mean_gap"])
    return {
        key: (float(value) if isinstance(value, float | np.floating) else value)
        for key, value in summary.items()
    }


def change_frame(payload: dict) -> pd.DataFrame:
    """Every member's % change in importance, with its group."""
    pct = percent_change(payload["before"], payload["after"])
    group = np.full(len(pct), "controls", dtype=object)
    for name, mask in group_masks(payload).items():
        group[mask] = name
    return pd.DataFrame({"group": group, "pct_change": pct})


def targets_frame(payload: dict) -> pd.DataFrame:
    """One row per target: its label, wrong label, importance and % change."""
    targets = payload["targets"]
    before, after = payload["before"][targets], payload["after"][targets]
    frame = pd.DataFrame(
        {
            "index": payload["index"][targets],
            "label": payload["labels"][targets],
            "copies_label": payload["wrong_labels"],
            "before": before,
            "after": after,
            "pct_change": percent_change(before, after),
        }
    )
    return frame.sort_values("pct_change", ascending=False, ignore_index=True)


def findings(payload: dict) -> list[str]:
    """The result in plain sentences."""
    table = summary_table(payload).set_index("group")
    t, nb, c = table.loc["targets"], table.loc["neighbours"], table.loc["controls"]
    lines = [
        f"With {payload['copies']} wrong-label copies each, {int(t['rose'])} of "
        f"{int(t['n'])} targets rose in importance; their mean importance changed by "
        f"{t['mean_rise_pct']:+.1f}% (per target: median {t['median_pct_change']:+.1f}%"
        f", mean {t['mean_pct_change']:+.1f}%).",
        f"Their {int(nb['n']):,} nearest same-label neighbours: {nb['share_rose']:.0%} "
        f"rose, median change {nb['median_pct_change']:+.1f}%. The other "
        f"{int(c['n']):,} members: median change {c['median_pct_change']:+.2f}%.",
    ]
    if payload["exposure"] is not None:
        s = summarize(payload)
        lines.append(
            "Retrained on the poisoned set, the targets' TPR went from "
            f"{s['targets_tpr_before']:.3f} to {s['targets_tpr_after']:.3f} and their "
            f"mean membership score from {s['targets_mean_score_before']:+.2f} to "
            f"{s['targets_mean_score_after']:+.2f}."
        )
        if payload["in_out"] is not None:
            lines.append(
                "Telling a model trained with a target from one without it (AUC of "
                f"in- against out-scores): {s['in_out_auc_before']:.3f} before, "
                f"{s['in_out_auc_after']:.3f} after poisoning."
            )
    return lines
