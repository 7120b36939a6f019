"""Model stealing with query sets chosen by importance.

Threat model: the attacker can query the target model as a black box and sees its
output probabilities; it knows the task (input shape and classes) and holds some data
of its own. It sends n queries, and trains a surrogate model to match the target's
answers. It succeeds when the surrogate is accurate on the task (accuracy) and agrees
with the target (fidelity, the share of test inputs where both predict the same class).

The question is whether the attacker's choice of queries matters: queries taken from
the top of an importance ranking, from the bottom, or at random (the baseline a reader
needs to judge the other two). The study ("Understanding Data Importance in Machine
Learning Attacks", NDSS 2025) queried with the target's own training data ordered by
its true importance; here that is the ``"members"`` pool. By default the attacker
queries with data it actually holds:

- ``"attacker"`` (default): the split's shadow members, the attacker's own data from
  the same distribution. It values them by KNN-Shapley against the shadow non-members,
  its own labelled held-out data, on raw inputs (a black-box attacker has no access to
  the target's embedding).
- ``"members"``: the target's training members and their true importance (the study's
  setting; an attacker rarely holds these).
- ``"cross"``: another image dataset, resized and channel-converted to the target's
  input shape, ordered by its own importance (KNN-Shapley with its own labels against
  its own reference set, on its own raw inputs).

The surrogate is trained on the target's outputs, either the probabilities with a KL
divergence (``"kl"``) or the logits with an L1 distance (``"l1"``, as in the study's
code; it assumes an interface that returns logits, a stronger one than the threat model
above). Test accuracy and fidelity are measured on the target's non-members.

Each query set's class entropy is reported against its uniform maximum: a top-n set
crowded into a few classes would teach the surrogate less for that reason alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from backend.attacks import sweeps
from backend.attacks.sweeps import Sweep, SweepPoint
from backend.datasets import dataset_info, list_datasets, load_dataset
from backend.device import default_device
from backend.errors import ValueRiskError
from backend.jobs import register_job, staged
from backend.models import Classifier, architecture_names, build_model
from backend.pipeline import (
    Context,
    NotComputed,
    cached,
    importance,
    importance_inputs,
    make_context,
    model_inputs,
    trained_model,
)
from backend.selection import select
from backend.specs import ModelSpec, RunSpec
from backend.store import Store
from backend.training import Progress, predict_logits
from backend.valuation import knn_shapley

__all__ = [
    "VERSIONS",
    "POOLS",
    "LOSSES",
    "METRICS",
    "StealSpec",
    "QueryPool",
    "default_cross_dataset",
    "cross_candidates",
    "convert_images",
    "query_pool",
    "pool_description",
    "pool_size",
    "default_budgets",
    "fit_surrogate",
    "agreement",
    "steal_point",
    "steal_sweep",
    "steal_results",
    "steal_job",
    "accuracy_chart",
    "fidelity_chart",
    "entropy_chart",
]

# Code version of each stage: bump one when its output for the same inputs changes.
VERSIONS = {"steal-pool-importance": 1, "steal-point": 1}

POOLS = ("attacker", "members", "cross")
LOSSES = ("kl", "l1")

# Per-point numbers, and their titles in tables.
METRICS = {
    "accuracy": "surrogate accuracy",
    "fidelity": "agreement with target",
    "label_entropy": "class entropy (bits)",
}

# The cross-distribution pairs of the study, and the fallback for any other target.
_CROSS_DEFAULTS = {"digits": "fashion-mnist", "fashion-mnist": "digits"}

# Luminance weights for turning RGB queries into greyscale (ITU-R BT.601).
_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class StealSpec:
    """How the attacker picks its queries and trains its surrogate."""

    pool: str = "attacker"  # where queries come from: one of POOLS
    cross_dataset: str = ""  # "cross" pool: another image dataset; "" = a default
    cross_pool: int = 5000  # "cross": candidates drawn from it (at most all but ref.)
    cross_reference: int = 1000  # "cross": its own reference set (at most a quarter)
    balanced: bool = False  # class-balanced top/bottom-n; the study took plain top-n
    surrogate_arch: str = ""  # any registered architecture; "" = the target's
    loss: str = "kl"  # "kl" on probabilities, or "l1" on logits (the study's code)
    epochs: int = 30  # passes over the query set ...
    min_steps: int = 100  # ... but at least this many optimiser steps (small budgets)
    batch_size: int = 64
    lr: float = 0.05  # SGD, momentum 0.9, cosine schedule, weight decay 5e-4

    def __post_init__(self) -> None:
        if self.pool not in POOLS:
            raise ValueRiskError(
                f"unknown query pool {self.pool!r}; choose one of {POOLS}."
            )
        if self.loss not in LOSSES:
            raise ValueRiskError(
                f"unknown surrogate loss {self.loss!r}; choose one of {LOSSES}."
            )
        for name in ("cross_pool", "cross_reference", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueRiskError(
                    f"steal.{name} must be a positive integer, got "
                    f"{getattr(self, name)}."
                )
        if self.min_steps < 0 or self.lr <= 0:
            raise ValueRiskError(
                f"steal.min_steps must be ≥ 0 and steal.lr positive, got "
                f"{self.min_steps} and {self.lr}."
            )

    def to_params(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True, eq=False)
class QueryPool:
    """The samples the attacker can query with, in the target's input shape.

    Attributes:
        x: float32 queries in [0, 1], (m, *target input shape).
        labels: each candidate's own class, (m,); for a cross pool, a class of the
            other dataset.
        num_label_classes: number of classes ``labels`` range over.
        importance: the attacker's importance of each candidate, float64 (m,).
        description: one sentence on where the pool comes from.
    """

    x: np.ndarray
    labels: np.ndarray
    num_label_classes: int
    importance: np.ndarray
    description: str


# -- query pools ----------------------------------------------------------------------


def default_cross_dataset(target: str) -> str:
    """The other dataset a cross-distribution attacker queries with by default."""
    return _CROSS_DEFAULTS.get(target, "digits")


def cross_candidates(target: str) -> list[str]:
    """Available image datasets, other than the target, that can serve as queries."""
    return [
        s.info.name
        for s in list_datasets()
        if s.available and s.info.kind == "image" and s.info.name != target
    ]


def _cross_name(ctx: Context, spec: StealSpec) -> str:
    name = spec.cross_dataset or default_cross_dataset(ctx.spec.dataset)
    if name == ctx.spec.dataset:
        raise ValueRiskError(
            f"the cross-distribution pool must be another dataset than the target's "
            f"({name!r}); choose one of {cross_candidates(ctx.spec.dataset)}."
        )
    if ctx.data.info.kind != "image" or dataset_info(name).kind != "image":
        raise ValueRiskError(
            "cross-distribution queries need image data on both sides; got target "
            f"{ctx.spec.dataset!r} ({ctx.data.info.kind}) and queries {name!r} "
            f"({dataset_info(name).kind}). Use the 'attacker' or 'members' pool."
        )
    return name


def convert_images(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Images resized and channel-converted to another input shape.

    Args:
        x: float32 images in [0, 1], (n, C, H, W).
        shape: the wanted (C', H', W'); C' and C must each be 1 or 3 unless equal.

    Returns:
        float32 (n, C', H', W') in [0, 1]: RGB becomes greyscale by luminance,
        greyscale becomes RGB by repetition; sizes change by bilinear interpolation,
        antialiased when shrinking.
    """
    channels, height, width = shape
    xt = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)
    if xt.shape[1] != channels:
        if xt.shape[1] == 3 and channels == 1:
            weights = torch.tensor(_LUMA).view(1, 3, 1, 1)
            xt = (xt * weights).sum(1, keepdim=True)
        elif xt.shape[1] == 1:
            xt = xt.expand(-1, channels, -1, -1)
        else:
            raise ValueRiskError(
                f"cannot convert images with {xt.shape[1]} channels to {channels}; "
                "use datasets with 1 or 3 channels."
            )
    if tuple(xt.shape[2:]) != (height, width):
        shrinking = height < xt.shape[2] or width < xt.shape[3]
        xt = F.interpolate(
            xt, size=(height, width), mode="bilinear", antialias=shrinking
        )
    return xt.clamp(0.0, 1.0).numpy().astype(np.float32)


def _cross_layout(n_other: int, spec: StealSpec) -> tuple[int, int]:
    reference = min(spec.cross_reference, n_other // 4)
    return min(spec.cross_pool, n_other - reference), reference


def _pool_inputs(ctx: Context, spec: StealSpec) -> dict:
    inputs = {**ctx.base_inputs(), "pool": spec.pool, "k": ctx.spec.valuation.k}
    if spec.pool == "members":
        inputs.update(importance_inputs(ctx))
    if spec.pool == "cross":
        other = load_dataset(_cross_name(ctx, spec))
        size, reference = _cross_layout(len(other), spec)
        inputs.update(
            cross_dataset=other.info.name,
            cross_fingerprint=other.fingerprint,
            cross_pool=size,
            cross_reference=reference,
        )
    return inputs


def query_pool(
    ctx: Context, spec: StealSpec, *, progress: Progress | None = None
) -> QueryPool:
    """The attacker's candidate queries and their importance (cached where costly)."""
    shape = ctx.data.info.input_shape
    k = ctx.spec.valuation.k

    # The study's setting: the target's members, valued against the reference set.
    if spec.pool == "members":
        index = ctx.split.members
        return QueryPool(
            x=ctx.data.features(index),
            labels=ctx.data.y[index],
            num_label_classes=ctx.data.info.num_classes,
            importance=importance(ctx, progress=progress),
            description=pool_description(ctx, spec),
        )

    # The attacker's own data: shadow members valued against the shadow non-members.
    if spec.pool == "attacker":
        index, reference = ctx.split.shadow_members, ctx.split.shadow_nonmembers
        x = ctx.data.features(index)

        def compute() -> np.ndarray:
            return knn_shapley(
                x.reshape(len(x), -1),
                ctx.data.y[index],
                ctx.data.features(reference).reshape(len(reference), -1),
                ctx.data.y[reference],
                k=k,
                progress=progress,
            )

        values = cached(
            ctx,
            "steal-pool-importance",
            VERSIONS["steal-pool-importance"],
            _pool_inputs(ctx, spec),
            compute,
        )
        return QueryPool(
            x=x,
            labels=ctx.data.y[index],
            num_label_classes=ctx.data.info.num_classes,
            importance=values,
            description=pool_description(ctx, spec),
        )

    # Another dataset: its own labels, its own reference set, its own raw inputs.
    other = load_dataset(_cross_name(ctx, spec))
    size, n_reference = _cross_layout(len(other), spec)
    order = np.random.default_rng(ctx.spec.split.seed).permutation(len(other))
    reference, index = order[:n_reference], np.sort(order[n_reference:][:size])
    raw = other.features(index)

    def compute_cross() -> np.ndarray:
        return knn_shapley(
            raw.reshape(len(raw), -1),
            other.y[index],
            other.features(reference).reshape(len(reference), -1),
            other.y[reference],
            k=k,
            progress=progress,
        )

    values = cached(
        ctx,
        "steal-pool-importance",
        VERSIONS["steal-pool-importance"],
        _pool_inputs(ctx, spec),
        compute_cross,
    )
    return QueryPool(
        x=convert_images(raw, shape),
        labels=other.y[index],
        num_label_classes=other.info.num_classes,
        importance=values,
        description=pool_description(ctx, spec),
    )


def pool_description(ctx: Context, spec: StealSpec) -> str:
    """One sentence on where the spec's queries come from (computes nothing)."""
    if spec.pool == "members":
        return (
            f"the target's {len(ctx.split.members):,} training members, by their true "
            "importance (the study's setting)"
        )
    if spec.pool == "attacker":
        return (
            f"the attacker's {len(ctx.split.shadow_members):,} samples from the same "
            f"distribution, valued against its own "
            f"{len(ctx.split.shadow_nonmembers):,} held-out samples"
        )
    other = load_dataset(_cross_name(ctx, spec))
    size, reference = _cross_layout(len(other), spec)
    shape = "×".join(map(str, ctx.data.info.input_shape))
    return (
        f"{size:,} images of {other.info.title}, converted to {shape} and valued "
        f"with their own labels against {reference:,} of their own"
    )


def pool_size(ctx: Context, spec: StealSpec) -> int:
    """How many candidate queries the spec's pool holds (without valuing them)."""
    if spec.pool == "members":
        return len(ctx.split.members)
    if spec.pool == "attacker":
        return len(ctx.split.shadow_members)
    return _cross_layout(len(load_dataset(_cross_name(ctx, spec))), spec)[0]


def default_budgets(available: int, *, count: int = 4) -> list[int]:
    """A demo-sized sweep: the largest ``count`` ladder budgets up to 60% of the pool
    (always a subset of :func:`backend.attacks.sweeps.budget_options`)."""
    options = sweeps.ladder(int(0.6 * available), minimum=10)
    return options[-count:] or sweeps.budget_options(available)[-1:]


# -- surrogate training ---------------------------------------------------------------


def fit_surrogate(
    model_spec: ModelSpec,
    x: np.ndarray,
    teacher_logits: np.ndarray,
    *,
    num_classes: int,
    kind: str,
    loss: str = "kl",
    epochs: int = 30,
    min_steps: int = 100,
    batch_size: int = 64,
    lr: float = 0.05,
    seed: int = 0,
    device: str | None = None,
) -> Classifier:
    """Train a fresh model to reproduce a teacher's outputs on x.

    Args:
        model_spec: the surrogate's architecture.
        x: float32 queries, (n, ...).
        teacher_logits: the target's logits on x, (n, num_classes).
        num_classes: classes of the task.
        kind: "image" or "tabular".
        loss: "kl" (KL divergence from the teacher's probabilities to the
            surrogate's, i.e. soft labels) or "l1" (mean absolute logit difference).
        epochs: passes over x, raised so that at least ``min_steps`` steps are taken.
        batch_size: queries per step.
        lr: peak learning rate of SGD (momentum 0.9, weight decay 5e-4) with a
            cosine schedule.
        seed: seed of the initialisation and of the batch order.
        device: torch device; CUDA when available by default.

    Returns:
        The surrogate in eval mode on the CPU.
    """
    if loss not in LOSSES:
        raise ValueRiskError(
            f"unknown surrogate loss {loss!r}; choose one of {LOSSES}."
        )
    dev = default_device(device)

    # Seeded initialisation without touching the caller's global RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(
            model_spec.arch, input_shape=x.shape[1:], num_classes=num_classes, kind=kind
        )
    model.to(dev)
    xt = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=dev)
    teacher = torch.as_tensor(teacher_logits, dtype=torch.float32, device=dev)
    log_p = F.log_softmax(teacher, dim=1)  # (n, num_classes)

    # Enough epochs that a small query set still gets min_steps updates.
    n = len(xt)
    batch_size = min(batch_size, n)
    steps_per_epoch = -(-n // batch_size)
    epochs = max(epochs, -(-min_steps // steps_per_epoch))
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=epochs * steps_per_epoch
    )
    generator = torch.Generator().manual_seed(seed)

    for _ in range(epochs):
        model.train()
        order = torch.randperm(n, generator=generator).to(dev)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            if len(batch) < 2 and n >= 2:  # BatchNorm needs two samples
                continue
            out = model(xt[batch])
            if loss == "kl":
                value = F.kl_div(
                    F.log_softmax(out, dim=1),
                    log_p[batch],
                    log_target=True,
                    reduction="batchmean",
                )
            else:
                value = (out - teacher[batch]).abs().mean()
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()
            scheduler.step()
    model.eval()
    return model.cpu()


def agreement(logits_a: np.ndarray, logits_b: np.ndarray) -> float:
    """Fidelity: the share of inputs on which two models predict the same class.

    Args:
        logits_a: (n, C) outputs of one model (logits or probabilities).
        logits_b: (n, C) outputs of the other, on the same inputs.
    """
    a, b = np.asarray(logits_a), np.asarray(logits_b)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueRiskError(
            f"agreement needs two (n, C) output arrays of the same shape; got "
            f"{a.shape} and {b.shape}."
        )
    if len(a) == 0:
        return float("nan")
    return float((a.argmax(1) == b.argmax(1)).mean())


# -- one point of the sweep -----------------------------------------------------------


# StealSpec fields that _pool_inputs and _surrogate_spec resolve: a blank default and
# the value it stands for must give the same key.
_RESOLVED_FIELDS = (
    "pool",
    "cross_dataset",
    "cross_pool",
    "cross_reference",
    "surrogate_arch",
)


def _point_inputs(ctx: Context, spec: StealSpec, point: SweepPoint) -> dict:
    settings = spec.to_params()
    for name in _RESOLVED_FIELDS:
        del settings[name]
    return {
        **model_inputs(ctx, "target"),
        "pool_inputs": _pool_inputs(ctx, spec),
        "steal": settings,
        "surrogate": _surrogate_spec(ctx, spec).arch,
        "point": point.to_dict(),
    }


def _surrogate_spec(ctx: Context, spec: StealSpec) -> ModelSpec:
    arch = spec.surrogate_arch or ctx.spec.model.arch
    kind = ctx.data.info.kind
    if arch not in architecture_names(kind):
        raise ValueRiskError(
            f"surrogate architecture {arch!r} does not exist or does not accept "
            f"{kind} data; choose one of {architecture_names(kind)}."
        )
    return ModelSpec(arch=arch)


class _Attack:
    """What every point of one sweep shares, loaded once: target, pool, test set."""

    def __init__(self, ctx: Context, spec: StealSpec, progress: Progress) -> None:
        stage = staged(progress, [("target model", 3.0), ("query pool", 1.0)])
        self.target, scores = trained_model(
            ctx, "target", progress=stage("target model")
        )
        self.target_accuracy = scores["test_accuracy"]
        self.pool = query_pool(ctx, spec, progress=stage("query pool"))
        self.answers = predict_logits(self.target, self.pool.x)  # (m, C) float64
        test = ctx.split.nonmembers
        self.x_test, self.y_test = ctx.data.features(test), ctx.data.y[test]
        self.test_logits = predict_logits(self.target, self.x_test)


def steal_point(
    ctx: Context,
    spec: StealSpec,
    point: SweepPoint,
    *,
    attack: _Attack | None = None,
) -> dict:
    """Steal the target with one query set, and measure the surrogate (cached).

    Returns:
        ``accuracy`` and ``fidelity`` of the surrogate on the target's non-members,
        ``label_entropy`` and ``max_entropy`` of the query set's own classes (bits),
        ``answer_entropy`` and ``answer_max_entropy`` of the classes the target
        answered, and ``target_accuracy``.
    """

    def compute() -> dict:
        shared = attack or _Attack(ctx, spec, lambda f, m: None)
        pool = shared.pool
        sweeps.check_budget(point.budget, len(pool.importance), "the query pool")

        # Choose the queries and ask the target.
        labels = pool.labels if spec.balanced else None
        chosen = select(
            pool.importance,
            point.budget,
            point.selection,
            labels=labels,
            seed=point.seed,
        )
        answers = shared.answers[chosen]

        # Train the surrogate on the answers and test it.
        info = ctx.data.info
        surrogate = fit_surrogate(
            _surrogate_spec(ctx, spec),
            pool.x[chosen],
            answers,
            num_classes=info.num_classes,
            kind=info.kind,
            loss=spec.loss,
            epochs=spec.epochs,
            min_steps=spec.min_steps,
            batch_size=spec.batch_size,
            lr=spec.lr,
            seed=point.seed,
        )
        logits = predict_logits(surrogate, shared.x_test)
        entropy, top = sweeps.class_entropy(pool.labels[chosen], pool.num_label_classes)
        answer_entropy, answer_top = sweeps.class_entropy(
            answers.argmax(1), info.num_classes
        )
        return {
            "accuracy": float((logits.argmax(1) == shared.y_test).mean()),
            "fidelity": agreement(logits, shared.test_logits),
            "label_entropy": entropy,
            "max_entropy": top,
            "answer_entropy": answer_entropy,
            "answer_max_entropy": answer_top,
            "target_accuracy": float(shared.target_accuracy),
        }

    return cached(
        ctx,
        "steal-point",
        VERSIONS["steal-point"],
        _point_inputs(ctx, spec, point),
        compute,
    )


# -- the sweep ------------------------------------------------------------------------


def steal_sweep(
    ctx: Context, spec: StealSpec, sweep: Sweep, *, progress: Progress | None = None
) -> dict:
    """Compute every missing point of the sweep; stored points are reused.

    Returns:
        ``{"points", "computed", "reused"}`` counts.
    """
    progress = progress or (lambda f, m: None)
    sweep.check_fits(pool_size(ctx, spec), "the query pool")
    _surrogate_spec(ctx, spec)  # fail before any training on a bad architecture
    points = sweep.points()
    has = ctx.store.has
    stored = {
        p: has("steal-point", VERSIONS["steal-point"], _point_inputs(ctx, spec, p))
        for p in points
    }
    stage = staged(progress, [("preparing", 1.0), ("points", 4.0)])
    shared: list[_Attack] = []

    def compute(point: SweepPoint) -> dict:
        if not shared:  # load the target and the pool only when a point is missing
            shared.append(_Attack(ctx, spec, stage("preparing")))
        return steal_point(ctx, spec, point, attack=shared[0])

    return sweeps.run_points(
        points, done=stored.__getitem__, compute=compute, progress=stage("points")
    )


@dataclass(frozen=True, eq=False)
class StealResults:
    """What is stored of a sweep.

    Attributes:
        points: one row per stored point: selection, budget, seed and the numbers of
            :func:`steal_point`.
        summary: mean ± std over seeds per (selection, budget), see
            :func:`backend.attacks.sweeps.summarise`.
        missing: the points not stored yet.
        target_accuracy: the target's test accuracy (NaN when no point is stored).
    """

    points: pd.DataFrame
    summary: pd.DataFrame
    missing: list[SweepPoint]
    target_accuracy: float

    def table(self) -> pd.DataFrame:
        """The summary as ``mean ± std`` text columns."""
        return sweeps.summary_table(self.summary, METRICS)


def steal_results(ctx: Context, spec: StealSpec, sweep: Sweep) -> StealResults:
    """Read the sweep's stored points; never computes (works on a read-only context).

    Raises:
        ValueRiskError: if the spec cannot describe a pool for this dataset.
    """

    def read(point: SweepPoint) -> dict:
        inputs = _point_inputs(ctx, spec, point)
        entry = ctx.store.get(
            "steal-point",
            VERSIONS["steal-point"],
            inputs,
            fingerprint=ctx.data.fingerprint,
        )
        if entry is None:
            raise NotComputed("steal-point")
        return entry.payload

    frame, missing = sweeps.collect(sweep.points(), read)
    metrics = [*METRICS, "answer_entropy"]
    summary = sweeps.summarise(frame, metrics)
    target = float(frame["target_accuracy"].iloc[0]) if len(frame) else float("nan")
    return StealResults(frame, summary, missing, target)


@register_job("steal", "model stealing with top, bottom and random query sets")
def steal_job(spec: RunSpec, store: Store, progress: Progress, **params) -> dict:
    """Job: run a stealing sweep. ``params``: a StealSpec's fields plus the sweep's
    ``budgets``, ``seeds`` and ``selections``."""
    steal, sweep = params_to_specs(params)
    ctx = make_context(spec, store=store)
    return steal_sweep(ctx, steal, sweep, progress=progress)


def params_to_specs(params: dict) -> tuple[StealSpec, Sweep]:
    """Split job params into the StealSpec and the Sweep."""
    sweep_keys = ("budgets", "seeds", "selections")
    steal = StealSpec(**{k: v for k, v in params.items() if k not in sweep_keys})
    return steal, Sweep.from_params(params)


def job_params(spec: StealSpec, sweep: Sweep) -> dict:
    """The job params of a StealSpec and a Sweep (see :func:`params_to_specs`)."""
    return {**spec.to_params(), **sweep.to_params()}


# -- charts ---------------------------------------------------------------------------


def accuracy_chart(results: StealResults):
    """Surrogate test accuracy against the number of queries."""
    return sweeps.curve_chart(
        results.summary,
        "accuracy",
        title="Accuracy of the stolen model",
        y_title="surrogate test accuracy",
        x_title="queries (budget)",
        reference=results.target_accuracy,
        reference_label="target's test accuracy",
    )


def fidelity_chart(results: StealResults):
    """Surrogate agreement with the target against the number of queries."""
    return sweeps.curve_chart(
        results.summary,
        "fidelity",
        title="Agreement of the stolen model with the target",
        y_title="fidelity (same prediction as target)",
        x_title="queries (budget)",
    )


def entropy_chart(results: StealResults, *, of: str = "labels"):
    """Class entropy of the query sets, with the uniform maximum as a rule.

    Args:
        results: the stored sweep.
        of: "labels" (the queries' own classes) or "answers" (the classes the target
            answered).
    """
    metric, top_column = {
        "labels": ("label_entropy", "max_entropy"),
        "answers": ("answer_entropy", "answer_max_entropy"),
    }[of]
    top = results.points[top_column].max() if len(results.points) else None
    return sweeps.curve_chart(
        results.summary,
        metric,
        title="Class balance of the query sets"
        + (" (target's answers)" if of == "answers" else " (their own classes)"),
        y_title="class entropy (bits)",
        x_title="queries (budget)",
        reference=top,
        reference_label="uniform maximum, log2(classes)",
    )
