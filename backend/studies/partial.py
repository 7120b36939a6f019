"""Importance from partial data: how well a party that holds only part of the
training set ranks the members it holds.

For each fraction f, a random f of the members is drawn (draw i uses ``seed + i``, the
same draws for every setting), valued by the party, and the held members' values are
correlated (Pearson and Spearman) with their values computed on the full training set
against the owner's reference set. Results are the mean ± the sample standard
deviation (ddof = 1) over the draws. Who values, and against what:

- ``owner``: the held members alone, against the owner's reference set. A data owner
  (or an insider) with part of the records.
- ``attacker-pool``: the held members plus the attacker's own shadow members as the
  training set, against the attacker's shadow non-members as the reference. The
  attacker has no access to the reference set; its own data stand in for the members
  it lacks, so the neighbourhoods are about as dense as in the full set.
- ``attacker-reference``: the held members alone, against the attacker's shadow
  members as the reference (how :func:`backend.analysis.attacker_importance` values
  candidates, here with partial holdings).

A party holds at least 3 members, the fewest for which a correlation is defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from backend import pipeline
from backend.jobs import staged
from backend.pipeline import Context
from backend.selection import select
from backend.studies.changes import correlations
from backend.studies.specs import PARTIAL_SETTINGS, PartialSpec
from backend.training import Progress
from backend.valuation import knn_shapley

__all__ = ["MIN_HELD", "Party", "held_count", "partial_correlations", "compute"]

MIN_HELD = 3  # the fewest held members a correlation is defined on


def _quiet(fraction: float, message: str) -> None:
    return None


@dataclass(frozen=True, eq=False)
class Party:
    """What a party values with, beside the members it holds (all in the
    valuation's representation).

    Attributes:
        extra_x: training rows the party adds to its held members, (e, d); e may be 0.
        extra_y: their labels, (e,).
        reference_x: the party's reference set, (m, d).
        reference_y: its labels, (m,).
    """

    extra_x: np.ndarray
    extra_y: np.ndarray
    reference_x: np.ndarray
    reference_y: np.ndarray


def held_count(fraction: float, n: int) -> int:
    """Members held for a fraction of n: round(fraction · n), at least 3, at most n."""
    return int(min(n, max(MIN_HELD, round(fraction * n))))


def partial_correlations(
    full: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    parties: dict[str, Party],
    fractions: tuple[float, ...],
    seeds: list[int],
    *,
    k: int,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Correlation of partial-data importance with full-data importance.

    Args:
        full: full-data importance of every member, (n,).
        x: the members in the valuation's representation, (n, d).
        y: their labels, (n,).
        parties: setting name -> what that party values with.
        fractions: shares of the members held.
        seeds: one seed per draw of held members.
        k: neighbours of the KNN utility.

    Returns:
        One row per setting, fraction and draw: ``setting``, ``fraction``, ``seed``,
        ``held``, ``pearson``, ``spearman``.
    """
    progress = progress or _quiet
    rows, total = [], len(fractions) * len(seeds) * len(parties)
    for fraction in fractions:
        m = held_count(fraction, len(full))
        for seed in seeds:
            held = select(full, m, "random", seed=seed)  # (m,) positions
            for setting, party in parties.items():
                values = knn_shapley(
                    np.concatenate([x[held], party.extra_x]),
                    np.concatenate([y[held], party.extra_y]),
                    party.reference_x,
                    party.reference_y,
                    k=k,
                )[:m]
                pearson, spearman = correlations(values, full[held])
                rows.append(
                    {
                        "setting": setting,
                        "fraction": fraction,
                        "seed": seed,
                        "held": m,
                        "pearson": pearson,
                        "spearman": spearman,
                    }
                )
                progress(len(rows) / total, f"{setting}, {fraction:.0%}, draw {seed}")
    return pd.DataFrame(rows)


def _parties(ctx: Context, settings: tuple[str, ...], d: int) -> dict[str, Party]:
    """Each setting's party; ``d`` is the representation's width."""

    def part(name: str) -> tuple[np.ndarray, np.ndarray]:
        index = getattr(ctx.split, name)
        return pipeline.representation(ctx, index), ctx.data.y[index]

    none = (np.zeros((0, d), np.float32), np.zeros(0, np.int64))
    recipes = {
        "owner": lambda: Party(*none, *part("reference")),
        "attacker-pool": lambda: Party(
            *part("shadow_members"), *part("shadow_nonmembers")
        ),
        "attacker-reference": lambda: Party(*none, *part("shadow_members")),
    }
    return {setting: recipes[setting]() for setting in settings}


def compute(ctx: Context, spec: PartialSpec, *, progress: Progress | None = None):
    """The partial-data study of a context (see the module docstring); the payload."""
    progress = progress or _quiet
    stage = staged(progress, [("importance", 1.0), ("partial importance", 3.0)])
    full = pipeline.importance(ctx, progress=stage("importance"))
    x = pipeline.representation(ctx, ctx.split.members)
    rows = partial_correlations(
        full,
        x,
        ctx.data.y[ctx.split.members],
        _parties(ctx, spec.settings, x.shape[1]),
        spec.fractions,
        [spec.seed + i for i in range(spec.n_seeds)],
        k=ctx.spec.valuation.k,
        progress=stage("partial importance"),
    )
    return {"rows": rows, "members": int(len(full)), "settings": list(spec.settings)}


def summary_table(payload: dict) -> pd.DataFrame:
    """Mean and standard deviation (ddof=1) over draws, per setting and fraction."""
    rows = payload["rows"]
    table = (
        rows.groupby(["setting", "fraction"], sort=False)
        .agg(
            held=("held", "first"),
            draws=("seed", "size"),
            pearson_mean=("pearson", "mean"),
            pearson_std=("pearson", "std"),
            spearman_mean=("spearman", "mean"),
            spearman_std=("spearman", "std"),
        )
        .reset_index()
    )
    return table


def summarize(payload: dict) -> dict:
    """Mean ± std of each correlation per setting and fraction, JSON-able."""
    summary: dict = {"members": payload["members"]}
    for row in summary_table(payload).to_dict("records"):
        prefix = f"{row['setting']}_{row['fraction']:g}"
        for key in ("pearson_mean", "pearson_std", "spearman_mean", "spearman_std"):
            summary[f"{prefix}_{key}"] = float(row[key])
    return summary


def describe(setting: str) -> str:
    """One line on who values, and against what."""
    return PARTIAL_SETTINGS[setting]


def findings(payload: dict) -> list[str]:
    """The result in plain sentences, one per setting."""
    table = summary_table(payload)
    lines = []
    for setting, rows in table.groupby("setting", sort=False):
        parts = [
            f"{row.fraction:.0%}: {row.spearman_mean:.2f} ± {row.spearman_std:.2f}"
            for row in rows.itertuples()
        ]
        lines.append(
            f"{setting} ({describe(setting)}): Spearman correlation with full-data "
            "importance, by share held: " + "; ".join(parts) + "."
        )
    return lines
