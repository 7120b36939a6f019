"""Membership inference, split by the importance of the members.

Threat model: the attacker queries the target model on a candidate sample with its true
label and sees the output probabilities (metric-based attacks) or only the predicted
label (the boundary-distance attack, which probes the model with perturbed inputs). It
also holds data from the same distribution, disjoint from the target's, on which it
trains a shadow model of the same kind to calibrate its thresholds.

Attacks:

- metric-based (Song & Mittal, USENIX Security 2021): confidence, entropy and modified
  entropy, each with one threshold per class;
- label-only boundary distance (Choquette-Choo et al., ICML 2021): samples farther from
  the decision boundary are more likely members; a misclassified sample has distance 0.

Thresholds are fitted on the shadow model's members and non-members (the standard
protocol). The "paper protocol" fits them on the evaluated target data itself, which no
real attacker can do: its numbers are an upper bound.

Every score here is oriented so that higher means "more likely a member". Hard decisions
(and the advantage computed from them) use the class-dependent thresholds; ROC curves,
TPR at a fixed FPR and AUC sweep one global threshold over the continuous score.
Shifting each class's scores by its own threshold before sweeping would make the
cross-class ranking depend on how well each threshold transferred from the shadow model,
which on small shadow sets is little better than noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from backend.errors import ValueRiskError

__all__ = [
    "ATTACKS",
    "Attack",
    "attack_names",
    "raw_scores",
    "fit_thresholds",
    "decide",
]


@dataclass(frozen=True)
class Attack:
    """One attack: which signal it reads, and its orientation."""

    name: str
    title: str
    signal: str  # a column of the signals table
    sign: float  # +1 if a larger signal means "member", −1 if smaller does
    label_only: bool = False


# The confidence attack reads the logit-scaled confidence, which orders samples exactly
# like p_y but does not collapse to ties at p_y = 1.0 in floating point.
ATTACKS: dict[str, Attack] = {
    a.name: a
    for a in (
        Attack("confidence", "Confidence", "scaled_confidence", +1.0),
        Attack("entropy", "Entropy", "entropy", -1.0),
        Attack("modified_entropy", "Modified entropy", "modified_entropy", -1.0),
        Attack("boundary", "Boundary distance (label-only)", "boundary", +1.0, True),
    )
}


def attack_names() -> list[str]:
    return list(ATTACKS)


def _attack(name: str) -> Attack:
    if name not in ATTACKS:
        raise ValueRiskError(
            f"unknown attack {name!r}; choose one of {attack_names()}."
        )
    return ATTACKS[name]


def raw_scores(signals: pd.DataFrame, attack: str, *, norm: str = "l2") -> np.ndarray:
    """The attack's signal, oriented so that higher means "member", (n,) float64.

    Args:
        signals: a table from :mod:`backend.signals` with the columns the attack reads
            (and ``correct``, ``linf``/``l2``/``l1`` for the boundary attack).
        attack: a name in :data:`ATTACKS`.
        norm: which boundary distance the label-only attack uses.
    """
    spec = _attack(attack)
    if spec.signal == "boundary":
        distance = signals[norm].to_numpy(np.float64)
        return np.where(signals["correct"].to_numpy(bool), distance, 0.0)
    return spec.sign * signals[spec.signal].to_numpy(np.float64)


def fit_thresholds(
    scores: np.ndarray, is_member: np.ndarray, labels: np.ndarray, num_classes: int
) -> np.ndarray:
    """One threshold per class, maximising TPR − FPR on the given samples.

    Classes without both members and non-members fall back to the threshold fitted on
    all samples.

    Returns:
        float64 array of shape (num_classes,); a sample is flagged a member when its
        score is at least its class's threshold.
    """
    scores = np.asarray(scores, dtype=np.float64)
    is_member = np.asarray(is_member, dtype=bool)
    labels = np.asarray(labels)
    overall = _best_threshold(scores, is_member)
    thresholds = np.full(num_classes, overall)
    for c in range(num_classes):
        mask = labels == c
        if is_member[mask].any() and (~is_member[mask]).any():
            thresholds[c] = _best_threshold(scores[mask], is_member[mask])
    return thresholds


def _best_threshold(scores: np.ndarray, is_member: np.ndarray) -> float:
    if is_member.all() or not is_member.any():
        raise ValueRiskError(
            "fitting a threshold needs both members and non-members; got "
            f"{int(is_member.sum())} members of {len(is_member)} samples."
        )
    fpr, tpr, thresholds = roc_curve(is_member, scores)
    best = int(np.argmax(tpr - fpr))
    threshold = thresholds[best]
    return float(threshold) if np.isfinite(threshold) else float(scores.max()) + 1.0


def decide(
    scores: np.ndarray, labels: np.ndarray, thresholds: np.ndarray
) -> np.ndarray:
    """Class-dependent decisions: True where a score reaches its class's threshold."""
    return np.asarray(scores, dtype=np.float64) >= thresholds[np.asarray(labels)]
