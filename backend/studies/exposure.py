"""Membership exposure of chosen members, before and after the training set changes.

Threat model (as in :mod:`backend.attacks.membership`): the attacker queries a model
with a candidate and its true label and sees the output probabilities. It holds data
of its own, trains a shadow model of the same kind on it, and fits one threshold per
class there (the standard protocol). The same thresholds score the original target
model and every retrained one, so a change in exposure is a change in the models, not
in the attacker.

Two readings of exposure:

- against the population: a group's scores against the split's non-members under the
  same model: TPR at a fixed FPR, AUC, the share the shadow thresholds flag, and the
  mean score (:func:`exposure_rows`);
- in against out (for targets a change is aimed at): each target's score under a model
  trained with it against a model trained without it, all else equal (the
  distinguishing game of Tramèr et al., "Truth Serum", CCS 2022, with one model on
  each side): the mean gap, the share scored higher when in, and the AUC of in-scores
  against out-scores (:func:`in_out_row`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from backend import metrics, pipeline
from backend.attacks import membership as mia
from backend.dataset_edits import TrainingView
from backend.errors import SmallGroupWarning
from backend.models import Classifier
from backend.pipeline import Context
from backend.signals import output_signals
from backend.training import Progress, predict_logits, train_model

__all__ = ["Scorer", "shadow_scorer", "retrain", "exposure_rows", "in_out_row"]


@dataclass(frozen=True, eq=False)
class Scorer:
    """Membership scores of one output attack (higher: member), and its decisions.

    Attributes:
        attack: a name in :data:`backend.attacks.membership.ATTACKS` that reads the
            model's output.
        thresholds: one threshold per class, (num_classes,), from the shadow model.
    """

    attack: str
    thresholds: np.ndarray

    def __call__(self, model: Classifier, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Scores of samples ``x`` (model inputs) with labels ``y``, (n,) float64."""
        table = output_signals(predict_logits(model, x), y)
        return mia.raw_scores(table, self.attack)

    def decide(self, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The class-dependent "member" decisions of the scores, (n,) bool."""
        return mia.decide(scores, y, self.thresholds)


def shadow_scorer(
    ctx: Context, attack: str, *, progress: Progress | None = None
) -> Scorer:
    """The attack with per-class thresholds fitted on the spec's shadow model."""
    model, _ = pipeline.trained_model(ctx, "shadow", progress=progress)
    inside, outside = ctx.split.shadow_members, ctx.split.shadow_nonmembers
    index = np.concatenate([inside, outside])
    x, y = ctx.data.features(index), ctx.data.y[index]
    is_member = np.r_[np.ones(len(inside), bool), np.zeros(len(outside), bool)]
    raw = mia.raw_scores(output_signals(predict_logits(model, x), y), attack)
    thresholds = mia.fit_thresholds(raw, is_member, y, ctx.data.info.num_classes)
    return Scorer(attack=attack, thresholds=thresholds)


def retrain(
    ctx: Context, view: TrainingView, *, progress: Progress | None = None
) -> Classifier:
    """A fresh target model trained on the view, with the spec's model and recipe."""
    return train_model(
        ctx.spec.model,
        ctx.spec.train,
        view.features(),
        np.array(view.y),  # a writable copy: torch warns on read-only arrays
        num_classes=ctx.data.info.num_classes,
        kind=ctx.data.info.kind,
        progress=progress,
    )


def exposure_rows(
    model: str,
    scores: np.ndarray,
    flags: np.ndarray,
    groups: dict[str, np.ndarray],
    nonmember_scores: np.ndarray,
    *,
    fpr: float,
) -> list[dict]:
    """One row per group of members: its exposure against the non-members.

    Args:
        model: a name for the model that produced the scores ("before", "after").
        scores: the model's membership scores of all candidate members, (n,).
        flags: the attack's decisions on them (shadow thresholds), (n,) bool.
        groups: group name -> boolean mask (n,) of its members.
        nonmember_scores: the same model's scores of the non-members, (n_out,).
        fpr: the false-positive rate at which the TPR is read.

    Returns:
        Rows with ``model``, ``group``, ``n``, ``mean_score``, ``flagged`` (share the
        shadow thresholds call members), ``tpr`` (at ``fpr``, one threshold swept
        over all classes; NaN when there are fewer than 1/fpr non-members) and
        ``auc``.
    """
    rows = []
    for group, mask in groups.items():
        group_scores = scores[mask]
        n = int(mask.sum())
        row = {"model": model, "group": group, "n": n}
        row["mean_score"] = float(group_scores.mean()) if n else float("nan")
        row["flagged"] = float(flags[mask].mean()) if n else float("nan")
        row["tpr"] = row["auc"] = float("nan")
        if n and len(nonmember_scores):
            s = np.concatenate([group_scores, nonmember_scores])
            y = np.r_[np.ones(n, bool), np.zeros(len(nonmember_scores), bool)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallGroupWarning)  # NaN says it
                row["tpr"] = metrics.tpr_at_fpr(s, y, fpr)
            row["auc"] = metrics.auc(s, y)
        rows.append(row)
    return rows


def in_out_row(model: str, scores_in: np.ndarray, scores_out: np.ndarray) -> dict:
    """How well each target's score tells a model trained with it from one without.

    Args:
        model: a name for the pair of models ("before", "after").
        scores_in: each target's score under the model trained with it, (m,).
        scores_out: the same targets under the model trained without them, (m,).

    Returns:
        ``model``, ``n``, ``mean_gap`` (mean of in − out), ``higher_in`` (share of
        targets scored higher when in) and ``auc`` (in-scores against out-scores).
    """
    scores_in = np.asarray(scores_in, dtype=np.float64)
    scores_out = np.asarray(scores_out, dtype=np.float64)
    labels = np.r_[np.ones(len(scores_in), bool), np.zeros(len(scores_out), bool)]
    return {
        "model": model,
        "n": int(len(scores_in)),
        "mean_gap": float(np.mean(scores_in - scores_out)),
        "higher_in": float(np.mean(scores_in > scores_out)),
        "auc": metrics.auc(np.concatenate([scores_in, scores_out]), labels),
    }
