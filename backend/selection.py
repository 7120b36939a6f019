"""Choosing n samples by importance: the top, the bottom, or at random.

Every experiment that compares "valuable" with "less valuable" data (the validity check,
model stealing, backdoor poisoning) picks its samples here, so the rule is the same
everywhere. With ``labels`` given, the choice is class-balanced: about n / C samples are
taken from each class, ranked within the class. This rules out class balance as the
explanation of a gap, which matters because the most valuable samples of a dataset often
crowd into a few classes.
"""

from __future__ import annotations

import numpy as np

from backend.errors import ValueRiskError

__all__ = ["SELECTIONS", "select"]

SELECTIONS = ("top", "bottom", "random")


def select(
    values: np.ndarray,
    n: int,
    how: str,
    *,
    labels: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Positions (into ``values``) of the n chosen samples, sorted ascending.

    Args:
        values: importance of each candidate, (m,).
        n: how many to choose, 1 ≤ n ≤ m.
        how: "top" (highest values), "bottom" (lowest) or "random".
        labels: class of each candidate; when given, choose per class (balanced).
        seed: seed of the random choice (also breaks ties between classes' quotas).
    """
    values = np.asarray(values)
    if how not in SELECTIONS:
        raise ValueRiskError(f"unknown selection {how!r}; choose one of {SELECTIONS}.")
    if not 1 <= n <= len(values):
        raise ValueRiskError(
            f"cannot choose {n} samples from {len(values)}; choose between 1 and "
            f"{len(values)}."
        )
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(_rank(values, np.arange(len(values)), n, how, rng))

    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    quotas = _quotas(counts, n, rng)
    chosen = [
        _rank(values, np.flatnonzero(labels == c), q, how, rng)
        for c, q in zip(classes, quotas, strict=True)
        if q > 0
    ]
    return np.sort(np.concatenate(chosen))


def _rank(values, positions, n, how, rng) -> np.ndarray:
    if how == "random":
        return rng.choice(positions, size=n, replace=False)
    order = positions[np.argsort(values[positions], kind="stable")]
    return order[-n:] if how == "top" else order[:n]


def _quotas(counts: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Split n as evenly as possible over classes, never above a class's size."""
    quotas = np.zeros(len(counts), dtype=np.int64)
    remaining = n
    open_classes = np.arange(len(counts))
    while remaining > 0 and len(open_classes):
        share = remaining // len(open_classes)
        if share == 0:
            # Fewer samples left than classes: one each to a random subset.
            lucky = rng.choice(open_classes, size=remaining, replace=False)
            quotas[lucky] += 1
            break
        room = counts[open_classes] - quotas[open_classes]
        give = np.minimum(room, share)
        quotas[open_classes] += give
        remaining -= int(give.sum())
        open_classes = open_classes[quotas[open_classes] < counts[open_classes]]
    return quotas
