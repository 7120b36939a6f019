"""The stages of one analysis, each cached in the result store.

A stage reads a few sub-specs of a :class:`~backend.specs.RunSpec`, computes, and stores
its result under a key made of its name, its code version (``VERSIONS``) and exactly
those sub-specs plus the data's content fingerprint. Changing an attack setting
therefore reuses the trained models and the importance values; changing the training
recomputes what depends on it.

Stages take a :class:`Context` (the spec, the loaded data, its split and the store) and
a progress callback, and return plain NumPy arrays, models or dicts. A read-only context
(``make_context(spec, read_only=True)``, which pages use) never computes: a stage whose
result is missing raises :class:`NotComputed` instead, so a page run stays fast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from backend.datasets import Dataset, load_dataset
from backend.models import Classifier
from backend.specs import RunSpec
from backend.splits import Split, make_split
from backend.store import Store, open_store
from backend.training import (
    Progress,
    accuracy,
    embed,
    model_from_bytes,
    model_to_bytes,
    train_model,
)
from backend.valuation import knn_shapley

__all__ = [
    "VERSIONS",
    "NotComputed",
    "Context",
    "cached",
    "model_inputs",
    "importance_inputs",
    "make_context",
    "trained_model",
    "importance",
    "representation",
    "stage_status",
]

# Code version of each stage: bump one when its output for the same inputs changes.
# A stage's inputs include the versions of the stages it reads, so a bump here also
# recomputes everything downstream.
VERSIONS = {"model": 2, "importance": 1}

ROLES = ("target", "shadow")


def _quiet(fraction: float, message: str) -> None:
    return None


class NotComputed(LookupError):
    """A read-only context asked for a result that is not in the store yet."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"{stage} is not computed yet")
        self.stage = stage


@dataclass(frozen=True, eq=False)
class Context:
    """What every stage of one RunSpec needs: spec, data, split and store."""

    spec: RunSpec
    data: Dataset
    split: Split
    store: Store
    read_only: bool = False  # raise NotComputed instead of computing

    def base_inputs(self) -> dict:
        """The inputs every stage shares: which data, and which split of it."""
        return {
            "dataset": self.spec.dataset,
            "fingerprint": self.data.fingerprint,
            "split": dataclasses.asdict(self.spec.split),
        }


def make_context(
    spec: RunSpec, *, store: Store | None = None, read_only: bool = False
) -> Context:
    """Load the spec's dataset and draw its split."""
    data = load_dataset(spec.dataset)
    split = make_split(spec.split, dataset=spec.dataset, n_pool=len(data))
    return Context(
        spec=spec,
        data=data,
        split=split,
        store=store or open_store(),
        read_only=read_only,
    )


def cached(ctx: Context, stage: str, version: int, inputs: dict, compute):
    """The stage's stored result; computed and stored first unless ``ctx`` is read-only.

    Raises:
        NotComputed: the result is missing and the context is read-only.
    """
    entry = ctx.store.get(stage, version, inputs, fingerprint=ctx.data.fingerprint)
    if entry is not None:
        return entry.payload
    if ctx.read_only:
        raise NotComputed(stage)
    payload = compute()
    ctx.store.put(stage, version, inputs, payload, fingerprint=ctx.data.fingerprint)
    return payload


def model_inputs(ctx: Context, role: str) -> dict:
    """What a trained model depends on: the data, the split, the recipe, the role.

    Stages that read a model include these in their own inputs.
    """
    return {
        **ctx.base_inputs(),
        "role": role,
        "model": dataclasses.asdict(ctx.spec.model),
        "train": dataclasses.asdict(ctx.spec.train),
        "model_version": VERSIONS["model"],
    }


def trained_model(
    ctx: Context, role: str = "target", *, progress: Progress | None = None
) -> tuple[Classifier, dict]:
    """The target (or shadow) model of the spec, trained once and then loaded.

    The target trains on the split's members and is tested on its non-members; the
    shadow trains on the shadow members and is tested on the shadow non-members.

    Returns:
        The model in eval mode on the CPU, and a dict with ``train_accuracy`` and
        ``test_accuracy``.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    train_idx, test_idx = (
        (ctx.split.members, ctx.split.nonmembers)
        if role == "target"
        else (ctx.split.shadow_members, ctx.split.shadow_nonmembers)
    )
    info = ctx.data.info

    def compute() -> dict:
        model = train_model(
            ctx.spec.model,
            ctx.spec.train,
            ctx.data.features(train_idx),
            ctx.data.y[train_idx],
            num_classes=info.num_classes,
            kind=info.kind,
            progress=progress,
        )
        return {
            "state": model_to_bytes(model),
            "train_accuracy": accuracy(
                model, ctx.data.features(train_idx), ctx.data.y[train_idx]
            ),
            "test_accuracy": accuracy(
                model, ctx.data.features(test_idx), ctx.data.y[test_idx]
            ),
        }

    payload = cached(ctx, "model", VERSIONS["model"], model_inputs(ctx, role), compute)
    model = model_from_bytes(
        payload["state"],
        ctx.spec.model,
        input_shape=info.input_shape,
        num_classes=info.num_classes,
        kind=info.kind,
    )
    scores = {k: payload[k] for k in ("train_accuracy", "test_accuracy")}
    return model, scores


def representation(
    ctx: Context, index: np.ndarray, *, progress: Progress | None = None
) -> np.ndarray:
    """The features KNN-Shapley measures distances on, (len(index), d) float32.

    "raw": the inputs flattened (images scaled to [0, 1]); "embedding": the target
    model's penultimate layer.
    """
    if ctx.spec.valuation.representation == "embedding":
        model, _ = trained_model(ctx, "target", progress=progress)
        return embed(model, ctx.data.features(index))
    return ctx.data.features(index).reshape(len(index), -1).astype(np.float32)


def importance_inputs(ctx: Context) -> dict:
    """What the members' importance depends on (stages reading it include these)."""
    inputs = {
        **ctx.base_inputs(),
        "valuation": dataclasses.asdict(ctx.spec.valuation),
        "importance_version": VERSIONS["importance"],
    }
    if ctx.spec.valuation.representation == "embedding":
        inputs.update(model_inputs(ctx, "target"))
    return inputs


def importance(ctx: Context, *, progress: Progress | None = None) -> np.ndarray:
    """Exact KNN-Shapley value of every target member against the reference set.

    Returns:
        float64 array aligned with ``ctx.split.members``.
    """
    progress = progress or _quiet

    def compute() -> np.ndarray:
        members, reference = ctx.split.members, ctx.split.reference
        x_train = representation(ctx, members)
        x_test = representation(ctx, reference)
        return knn_shapley(
            x_train,
            ctx.data.y[members],
            x_test,
            ctx.data.y[reference],
            k=ctx.spec.valuation.k,
            progress=progress,
        )

    return cached(
        ctx, "importance", VERSIONS["importance"], importance_inputs(ctx), compute
    )


def stage_status(ctx: Context) -> dict[str, bool]:
    """Which stages of the spec are already in the store."""
    has = ctx.store.has
    return {
        "target model": has("model", VERSIONS["model"], model_inputs(ctx, "target")),
        "shadow model": has("model", VERSIONS["model"], model_inputs(ctx, "shadow")),
        "importance": has("importance", VERSIONS["importance"], importance_inputs(ctx)),
    }
