"""Every number the attack pages, the CLI and the report show is computed here, once.

Conventions: ``scores`` are membership scores (higher means "more likely a member") and
``labels`` are 1 for members and 0 for non-members.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from backend.errors import SmallGroupWarning, ValueRiskError

__all__ = [
    "roc",
    "tpr_at_fpr",
    "min_negatives_for",
    "auc",
    "advantage",
    "max_advantage",
    "threshold_at_fpr",
    "rank_bins",
    "top_bottom_masks",
    "binned_means",
]


def _check(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    if scores.shape != labels.shape:
        raise ValueRiskError(
            f"scores and labels must have the same shape, got {scores.shape} and "
            f"{labels.shape}."
        )
    if labels.all() or not labels.any():
        raise ValueRiskError(
            "a ROC needs both members (label 1) and non-members (label 0); "
            f"got {int(labels.sum())} members of {len(labels)}."
        )
    return scores, labels


def roc(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every threshold (scikit-learn's
    ``roc_curve``)."""
    scores, labels = _check(scores, labels)
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    return fpr, tpr


def min_negatives_for(fpr: float) -> int:
    """The fewest non-members with which an FPR of ``fpr`` is measurable."""
    return math.ceil(1.0 / fpr - 1e-9)


def tpr_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float) -> float:
    """The largest TPR whose FPR is at most ``fpr``.

    Returns NaN (and warns with :class:`SmallGroupWarning`) when there are fewer than
    ``1/fpr`` non-members, since such an FPR cannot be measured.
    """
    scores, labels = _check(scores, labels)
    negatives = int((~labels).sum())
    if negatives < min_negatives_for(fpr):
        warnings.warn(
            f"TPR at {fpr:.3%} FPR needs at least {min_negatives_for(fpr)} "
            f"non-members; only {negatives} are available.",
            SmallGroupWarning,
            stacklevel=2,
        )
        return float("nan")
    fprs, tprs = roc(scores, labels)
    return float(tprs[fprs <= fpr + 1e-12].max())


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve."""
    scores, labels = _check(scores, labels)
    return float(roc_auc_score(labels, scores))


def advantage(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Membership advantage of hard decisions: TPR − FPR (Yeom et al., 2018)."""
    predictions = np.asarray(predictions).astype(bool)
    _, labels = _check(np.zeros(len(predictions)), labels)
    return float(predictions[labels].mean() - predictions[~labels].mean())


def max_advantage(scores: np.ndarray, labels: np.ndarray) -> float:
    """The best advantage over all thresholds: max(TPR − FPR)."""
    fprs, tprs = roc(scores, labels)
    return float(np.max(tprs - fprs))


def threshold_at_fpr(negative_scores: np.ndarray, fpr: float) -> float:
    """The lowest threshold ``t`` with at most ``fpr`` of negatives scoring above it.

    A sample is flagged as a member when its score is strictly greater than ``t``.
    """
    negative_scores = np.sort(np.asarray(negative_scores, dtype=np.float64))
    if len(negative_scores) == 0:
        raise ValueRiskError("threshold_at_fpr needs at least one non-member score.")
    allowed = int(math.floor(fpr * len(negative_scores) + 1e-9))
    # With `allowed` negatives above t, t is the (n - allowed)-th smallest score.
    return float(negative_scores[len(negative_scores) - allowed - 1])


def rank_bins(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-size bins by rank: 0 holds the lowest values, ``n_bins - 1`` the highest.

    Ties are broken by position, so bin sizes differ by at most one.
    """
    values = np.asarray(values)
    if n_bins < 1 or n_bins > len(values):
        raise ValueRiskError(
            f"n_bins must be between 1 and the number of samples ({len(values)}), "
            f"got {n_bins}."
        )
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[np.argsort(values, kind="stable")] = np.arange(len(values))
    return (ranks * n_bins) // len(values)


def top_bottom_masks(
    values: np.ndarray, fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the top and bottom ``fraction`` of samples by value."""
    values = np.asarray(values)
    count = max(1, int(round(fraction * len(values))))
    order = np.argsort(values, kind="stable")
    top, bottom = np.zeros(len(values), bool), np.zeros(len(values), bool)
    top[order[-count:]] = True
    bottom[order[:count]] = True
    return top, bottom


def binned_means(order_by: np.ndarray, values: np.ndarray, n_bins: int) -> np.ndarray:
    """Mean of ``values`` in each of ``n_bins`` equal-size bins of ``order_by``'s ranks.

    Returns an array of length ``n_bins``, lowest ``order_by`` first; NaN values are
    ignored (a bin of only NaN gives NaN).
    """
    bins = rank_bins(order_by, n_bins)
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    sums = np.bincount(bins[finite], weights=values[finite], minlength=n_bins)
    counts = np.bincount(bins[finite], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts
