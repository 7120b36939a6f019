"""Target models trained on one importance group of the members each.

The attribute-inference and reconstruction studies ask whether a model trained on more
valuable data leaks more. They split the target members into ``n_groups`` equal-size
groups by importance (group 0 holds the least important members, group
``n_groups - 1`` the most important; with the default 5 these are quintiles) and train
one target model per group, with the same architecture and training recipe. Every
group model is a cached stage of its own, so a job that stops half-way keeps the
groups it finished.

A group is a fifth of the members, so the recipe's epochs are raised until each model
sees at least ``min_steps`` optimiser steps (see :func:`group_train_spec`); otherwise
a group of 140 digits would get 30 steps and an untrained model.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from backend import metrics
from backend.errors import ValueRiskError
from backend.models import Classifier
from backend.pipeline import Context, cached, importance, importance_inputs
from backend.specs import TrainSpec
from backend.training import (
    Progress,
    accuracy,
    model_from_bytes,
    model_to_bytes,
    train_model,
)

__all__ = [
    "VERSION",
    "MAX_EPOCHS",
    "GroupSpec",
    "group_label",
    "group_labels",
    "group_index",
    "group_train_spec",
    "group_study_inputs",
    "group_model",
    "group_models",
    "groups_computed",
]

VERSION = 1  # code version of the "group-model" stage
MAX_EPOCHS = 200  # cap on the raised epochs of a small group


@dataclass(frozen=True)
class GroupSpec:
    """How the members are split by importance and how each group model trains."""

    n_groups: int = 5  # equal-size groups by importance rank: quintiles
    min_steps: int = 200  # optimiser steps each group model gets at least

    def __post_init__(self) -> None:
        if not 2 <= self.n_groups <= 20:
            raise ValueRiskError(
                f"n_groups must be between 2 and 20, got {self.n_groups}; use 5 for "
                "quintiles of the members by importance."
            )
        if self.min_steps < 0:
            raise ValueRiskError(
                f"min_steps must be 0 or more, got {self.min_steps}; use 200."
            )


def group_label(group: int, n_groups: int) -> str:
    """A short name for a group: ``"1 (least important)"`` ... ``"5 (most ...)"``."""
    if group == 0:
        return f"{group + 1} (least important)"
    if group == n_groups - 1:
        return f"{group + 1} (most important)"
    return str(group + 1)


def group_labels(n_groups: int) -> list[str]:
    """Every group's label, least important first."""
    return [group_label(g, n_groups) for g in range(n_groups)]


def group_index(ctx: Context, spec: GroupSpec) -> list[np.ndarray]:
    """Pooled-dataset indices of each group's members, least important group first.

    Raises:
        ValueRiskError: a group would hold fewer than two members.
        pipeline.NotComputed: the importance is missing and ``ctx`` is read-only.
    """
    members = ctx.split.members
    if len(members) < 2 * spec.n_groups:
        raise ValueRiskError(
            f"{len(members)} members cannot make {spec.n_groups} groups of at least "
            "two; use fewer groups or more members."
        )
    bins = metrics.rank_bins(importance(ctx), spec.n_groups)
    return [members[bins == g] for g in range(spec.n_groups)]


def group_train_spec(train: TrainSpec, n: int, min_steps: int) -> TrainSpec:
    """The training recipe, with its epochs raised so ``n`` samples get ``min_steps``.

    The epochs never drop below the recipe's, and never exceed :data:`MAX_EPOCHS`.
    """
    steps_per_epoch = max(1, -(-n // train.batch_size))
    epochs = max(train.epochs, -(-min_steps // steps_per_epoch))
    return dataclasses.replace(train, epochs=min(epochs, max(MAX_EPOCHS, train.epochs)))


def group_study_inputs(ctx: Context, spec: GroupSpec) -> dict:
    """What every group model reads: the importance, the model, the recipe, the
    grouping. A study built on the group models adds its own settings to these."""
    return {
        **importance_inputs(ctx),
        "model": dataclasses.asdict(ctx.spec.model),
        "train": dataclasses.asdict(ctx.spec.train),
        "groups": dataclasses.asdict(spec),
    }


def _group_inputs(ctx: Context, spec: GroupSpec, group: int) -> dict:
    return {**group_study_inputs(ctx, spec), "group": group}


def group_model(
    ctx: Context, spec: GroupSpec, group: int, *, progress: Progress | None = None
) -> tuple[Classifier, dict]:
    """The target model trained on one group's members only, trained once, then loaded.

    Args:
        ctx: the analysis context.
        spec: the grouping.
        group: 0 (least important) to ``spec.n_groups - 1`` (most important).
        progress: ``progress(fraction, message)`` while training.

    Returns:
        The model (eval mode, CPU) and a dict with ``n`` (training samples),
        ``epochs``, ``train_accuracy``, ``test_accuracy`` (on the non-members) and
        ``seconds`` (wall time of the training, when it ran).
    """
    if not 0 <= group < spec.n_groups:
        raise ValueRiskError(f"group must lie in [0, {spec.n_groups}), got {group}.")
    info = ctx.data.info

    def compute() -> dict:
        started = time.perf_counter()
        index = group_index(ctx, spec)[group]
        train = group_train_spec(ctx.spec.train, len(index), spec.min_steps)
        x, y = ctx.data.features(index), ctx.data.y[index]
        model = train_model(
            ctx.spec.model,
            train,
            x,
            y,
            num_classes=info.num_classes,
            kind=info.kind,
            progress=progress,
        )
        test = ctx.split.nonmembers
        return {
            "state": model_to_bytes(model),
            "n": int(len(index)),
            "epochs": int(train.epochs),
            "train_accuracy": accuracy(model, x, y),
            "test_accuracy": accuracy(model, ctx.data.features(test), ctx.data.y[test]),
            "seconds": time.perf_counter() - started,
        }

    payload = cached(
        ctx, "group-model", VERSION, _group_inputs(ctx, spec, group), compute
    )
    model = model_from_bytes(
        payload["state"],
        ctx.spec.model,
        input_shape=info.input_shape,
        num_classes=info.num_classes,
        kind=info.kind,
    )
    scores = {k: v for k, v in payload.items() if k != "state"}
    return model, scores


def group_models(
    ctx: Context, spec: GroupSpec, *, progress: Progress | None = None
) -> list[tuple[Classifier, dict]]:
    """Every group's model, least important group first (see :func:`group_model`)."""
    progress = progress or (lambda fraction, message: None)
    out = []
    for g in range(spec.n_groups):

        def report(fraction: float, message: str, g: int = g) -> None:
            progress((g + fraction) / spec.n_groups, f"group {g + 1}: {message}")

        out.append(group_model(ctx, spec, g, progress=report))
    return out


def groups_computed(ctx: Context, spec: GroupSpec) -> int:
    """How many of the spec's group models are already stored."""
    return sum(
        ctx.store.has("group-model", VERSION, _group_inputs(ctx, spec, g))
        for g in range(spec.n_groups)
    )
