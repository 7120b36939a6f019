"""How much importance moved: shares that gained or lost, relative change,
correlation, and share histograms for groups of different sizes.

Every study reports its changes through these functions, so "gained" means the same
thing on every chart and in every table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import ConstantInputWarning, pearsonr, spearmanr

__all__ = [
    "GAIN_TOLERANCE",
    "change_shares",
    "percent_change",
    "correlations",
    "share_histogram",
]

# A change smaller than this fraction of the largest |importance| before the edit
# counts as no change: exact KNN-Shapley sums rounding errors near 1e-16 of that scale.
GAIN_TOLERANCE = 1e-9


def change_shares(
    before: np.ndarray, after: np.ndarray, *, scale: float | None = None
) -> dict[str, float]:
    """Shares of samples whose importance rose, fell, or stayed.

    Args:
        before: importance before the edit, (n,).
        after: importance after the edit, (n,), aligned with ``before``.
        scale: the magnitude the tolerance is relative to; default ``max|before|``.

    Returns:
        ``{"n", "gained", "lost", "unchanged", "mean_change", "median_change"}``;
        shares are in [0, 1], and NaN when n is 0.
    """
    before = np.asarray(before, dtype=np.float64)
    delta = np.asarray(after, dtype=np.float64) - before
    n = len(delta)
    if n == 0:
        nan = float("nan")
        return dict.fromkeys(
            ("gained", "lost", "unchanged", "mean_change", "median_change"), nan
        ) | {"n": 0}
    scale = float(np.abs(before).max()) if scale is None else scale
    tolerance = GAIN_TOLERANCE * scale
    return {
        "n": n,
        "gained": float((delta > tolerance).mean()),
        "lost": float((delta < -tolerance).mean()),
        "unchanged": float((np.abs(delta) <= tolerance).mean()),
        "mean_change": float(delta.mean()),
        "median_change": float(np.median(delta)),
    }


def percent_change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """100 · (after − before) / |before|, (n,) float64; NaN where before is 0.

    The denominator is |before| so that a rise reads as positive even for a sample
    whose importance was negative.
    """
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = 100.0 * (after - before) / np.abs(before)
    return np.where(before != 0, change, np.nan)


def correlations(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Pearson and Spearman correlation; NaN for fewer than 3 samples or a constant."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantInputWarning)
        return float(pearsonr(a, b).statistic), float(spearmanr(a, b).statistic)


def share_histogram(
    groups: dict[str, np.ndarray], *, bins: int = 40, clip: float = 0.005
) -> pd.DataFrame:
    """Histograms of several groups on common bins, as shares of each group.

    Groups of very different sizes (50 targets against 40,000 controls) stay
    comparable because each bar is the share of its own group. The bins span the
    ``clip`` to ``1 - clip`` quantiles of all values together; values outside fall
    into the first or last bin, so a few extreme samples cannot squash the rest.

    Args:
        groups: group name -> values (NaN values are left out).
        bins: number of bins, default 40.
        clip: quantile cut at each end, default 0.005.

    Returns:
        DataFrame with ``group``, ``start``, ``end``, ``share``, ``count``.
    """
    finite = {
        name: np.asarray(v, dtype=np.float64)[np.isfinite(v)]
        for name, v in groups.items()
    }
    pooled = np.concatenate([v for v in finite.values()] or [np.zeros(0)])
    if len(pooled) == 0:
        return pd.DataFrame(columns=["group", "start", "end", "share", "count"])
    low, high = np.quantile(pooled, [clip, 1 - clip])
    if high <= low:  # all (clipped) values equal: one narrow bin around them
        low, high = low - 0.5 * (abs(low) or 1.0), high + 0.5 * (abs(high) or 1.0)
    edges = np.linspace(low, high, bins + 1)
    frames = []
    for name, values in finite.items():
        counts, _ = np.histogram(np.clip(values, low, high), bins=edges)
        frames.append(
            pd.DataFrame(
                {
                    "group": name,
                    "start": edges[:-1],
                    "end": edges[1:],
                    "share": counts / max(1, len(values)),
                    "count": counts,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
