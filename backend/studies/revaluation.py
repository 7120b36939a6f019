"""Importance of an edited training set, measured the way the pipeline measures it.

A :class:`Valuer` holds a fixed reference set and the representation that KNN-Shapley
measures distances on, and values any :class:`~backend.dataset_edits.TrainingView`
against it. :func:`valuer_for` builds the valuer of a context, so that valuing the
unedited members gives exactly :func:`backend.pipeline.importance`.

With the "embedding" representation, edited samples are embedded by the target model
trained on the unedited members: the representation stays fixed while the data
changes, so a change in importance comes from the data alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backend import pipeline
from backend.dataset_edits import TrainingView
from backend.pipeline import Context
from backend.training import Progress, embed
from backend.valuation import knn_shapley

__all__ = ["Valuer", "flatten", "valuer_for", "members_view"]


def flatten(x: np.ndarray) -> np.ndarray:
    """Model inputs (n, ...) as the raw representation, (n, d) float32."""
    return np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), -1)


@dataclass(frozen=True, eq=False)
class Valuer:
    """Exact KNN-Shapley of a training view against one fixed reference set.

    Attributes:
        reference_x: the reference set in the representation, (m, d) float32.
        reference_y: its labels, (m,).
        k: neighbours of the KNN utility.
        represent: maps model inputs (n, ...) float32 to the representation (n, d).
    """

    reference_x: np.ndarray
    reference_y: np.ndarray
    k: int
    represent: Callable[[np.ndarray], np.ndarray] = flatten

    def __call__(
        self, view: TrainingView, *, progress: Progress | None = None
    ) -> np.ndarray:
        """Importance of every row of the view, (len(view),) float64, in row order."""
        return knn_shapley(
            self.represent(view.features()),
            np.array(view.y),  # a writable copy: torch warns on read-only arrays
            self.reference_x,
            self.reference_y,
            k=self.k,
            progress=progress,
        )


def valuer_for(ctx: Context, *, reference: str = "reference") -> Valuer:
    """The valuer of a context: its representation, k and a reference set.

    Args:
        ctx: the pipeline context.
        reference: the split part used as the reference set, default ``"reference"``
            (the owner's valuation set); an attacker would use ``"shadow_members"``
            or ``"shadow_nonmembers"``.
    """
    index = getattr(ctx.split, reference)
    represent = flatten
    if ctx.spec.valuation.representation == "embedding":
        model, _ = pipeline.trained_model(ctx, "target")

        def represent(x: np.ndarray) -> np.ndarray:
            return embed(model, x)

    return Valuer(
        reference_x=pipeline.representation(ctx, index),
        reference_y=ctx.data.y[index],
        k=ctx.spec.valuation.k,
        represent=represent,
    )


def members_view(ctx: Context) -> TrainingView:
    """The target model's training set (the split's members) as a view."""
    return TrainingView.from_dataset(ctx.data, ctx.split.members)
