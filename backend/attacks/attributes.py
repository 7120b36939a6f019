"""Attribute inference from a model's embeddings, by importance group of its data.

Threat model: the attacker sees the target model's embedding (its penultimate layer)
of a training sample and wants an attribute of the sample that is not the task's
label (is the face smiling, is the digit drawn with heavy ink). It holds auxiliary data
of the same distribution, disjoint from the target's training data, with the attribute
known. It learns a two-layer MLP from embeddings to the attribute, then applies it to
the target's embeddings of its training samples. This follows the attribute-inference
setting of ML-Doctor (Liu et al., USENIX Security 2022), as the data-importance study
(NDSS 2025) uses it.

Two protocols are offered (``PROTOCOLS``):

- ``"shadow"``: the attacker trains a shadow model of the same kind on its auxiliary
  data and fits the attack on the shadow model's embeddings. The attack never touches
  the target until it is applied. Embedding spaces of two separately trained models
  need not line up, so this can understate what the embedding reveals.
- ``"target"``: the attacker feeds its auxiliary data through the target model itself
  (it can see the target's embeddings, so it can query them) and fits the attack on
  those. This measures what the target's embedding space encodes, with one attack per
  target model. It is the stronger attack.

One target model is trained per importance group (:mod:`backend.attacks.groups`), and
each is attacked on its own training samples. The score is the attack's accuracy
relative to the majority-class baseline of the attribute on the same samples: 1.0 means
no better than always guessing the most common value.

Attributes: the columns a dataset declares (CelebA's 40, a CSV's attribute columns).
Datasets without attributes get *stand-ins*: simple image (or feature) properties such
as "brighter than the median image", thresholded at the median over the whole dataset
(see :data:`STAND_INS`). They are not the label, but they are not demographic
attributes either, and they may correlate with the class.

:func:`attribute_importance` also values the members for each attribute as if it were
the label (KNN-Shapley with the attribute as the class) and correlates these values
with the task's importance: does a sample that is valuable for one task stay valuable
for another?
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd
import torch
from scipy.stats import pearsonr, spearmanr
from torch import nn

from backend.attacks.groups import (
    GroupSpec,
    group_index,
    group_labels,
    group_models,
    group_study_inputs,
    groups_computed,
)
from backend.datasets import Dataset
from backend.errors import ValueRiskError
from backend.jobs import register_job, staged
from backend.pipeline import (
    Context,
    cached,
    importance,
    importance_inputs,
    make_context,
    model_inputs,
    representation,
    trained_model,
)
from backend.specs import RunSpec
from backend.store import Store
from backend.training import Progress, embed
from backend.valuation import knn_shapley

__all__ = [
    "VERSIONS",
    "PROTOCOLS",
    "PAPER_CELEBA_ATTRIBUTES",
    "STAND_INS",
    "ATTRIBUTE_PRESETS",
    "AttributeSpec",
    "make_attribute_spec",
    "attribute_spec_from_dict",
    "attribute_names",
    "default_attributes",
    "uses_stand_ins",
    "describe_attribute",
    "attribute_codes",
    "AttackClassifier",
    "fit_attack_classifier",
    "attribute_inference",
    "attribute_importance",
    "attribute_report",
    "attribute_status",
    "attribute_job",
    "METRICS",
    "attribute_chart",
    "correlation_chart",
]

VERSIONS = {"attributes": 1, "attribute-importance": 1}

PROTOCOLS = {
    "shadow": "attack fitted on a shadow model's embeddings (the study's protocol)",
    "target": "attack fitted on the target's embeddings of the attacker's own data",
}

# The eight CelebA attributes the study attacks.
PAPER_CELEBA_ATTRIBUTES = (
    "Arched_Eyebrows",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Smiling",
    "Wavy_Hair",
    "Wearing_Lipstick",
)

ATTACK_VALIDATION = 0.2  # share of the attacker's data held out to check its attack
_CHUNK = 8192  # rows per chunk when stand-ins are computed over a whole dataset


# -- stand-in attributes --------------------------------------------------------------


@dataclass(frozen=True)
class StandIn:
    """A binary property computed from the inputs: ``score > median(score)``."""

    description: str
    kinds: tuple[str, ...]  # data kinds it applies to
    score: Callable[[np.ndarray], np.ndarray]  # float32 inputs (n, ...) -> (n,)


def _halves(x: np.ndarray, axis: int) -> np.ndarray:
    """(mass of the first half − mass of the second) / total mass along ``axis``."""
    size = x.shape[axis]
    first = np.take(x, np.arange(size // 2), axis=axis)
    second = np.take(x, np.arange(size - size // 2, size), axis=axis)
    total = x.reshape(len(x), -1).sum(1) + 1e-6
    return (first.reshape(len(x), -1).sum(1) - second.reshape(len(x), -1).sum(1)) / (
        total
    )


STAND_INS: dict[str, StandIn] = {
    "bright": StandIn(
        "mean pixel value (the amount of ink or light) above the dataset's median",
        ("image",),
        lambda x: x.reshape(len(x), -1).mean(1),
    ),
    "left_heavy": StandIn(
        "more of the image's mass in its left half than the median image has",
        ("image",),
        lambda x: _halves(x, 3),
    ),
    "top_heavy": StandIn(
        "more of the image's mass in its top half than the median image has",
        ("image",),
        lambda x: _halves(x, 2),
    ),
    "high_total": StandIn(
        "sum of the features above the dataset's median",
        ("tabular",),
        lambda x: x.sum(1),
    ),
    "first_half_heavy": StandIn(
        "more weight in the first half of the feature columns than the median row",
        ("tabular",),
        lambda x: _halves(np.abs(x), 1),
    ),
}


# -- settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeSpec:
    """Settings of the attribute-inference study (beside the RunSpec)."""

    attributes: tuple[str, ...] = ()  # empty: the dataset's default set
    groups: GroupSpec = field(default_factory=GroupSpec)
    protocol: str = "shadow"  # see PROTOCOLS
    hidden: int = 64  # width of the attack MLP's hidden layer
    epochs: int = 60  # passes of the attack MLP over the attacker's data
    batch_size: int = 128  # attack MLP batch
    lr: float = 1e-3  # Adam learning rate of the attack MLP
    max_attack_samples: int = 5000  # attacker samples used at most (0: all)
    correlation: bool = True  # also correlate importance across attribute tasks
    seed: int = 0  # attack MLP initialisation, batches and subsampling

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueRiskError(
                f"protocol must be one of {sorted(PROTOCOLS)}, got {self.protocol!r}."
            )
        for name in ("hidden", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueRiskError(
                    f"{name} must be a positive integer, got {getattr(self, name)}."
                )
        if self.lr <= 0:
            raise ValueRiskError(f"lr must be positive, got {self.lr}.")
        if self.max_attack_samples < 0:
            raise ValueRiskError(
                "max_attack_samples must be 0 (all) or more, got "
                f"{self.max_attack_samples}."
            )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# "demo" runs in seconds on a CPU; "paper" trains the attack longer on all the
# attacker's data, as the study does.
ATTRIBUTE_PRESETS: dict[str, dict] = {
    "demo": {},
    "paper": {"epochs": 200, "max_attack_samples": 0, "hidden": 128},
}


def attribute_spec_from_dict(data: dict) -> AttributeSpec:
    """Rebuild an :class:`AttributeSpec` from :meth:`AttributeSpec.to_dict` output."""
    known = {f.name for f in dataclasses.fields(AttributeSpec)}
    unknown = set(data) - known
    if unknown:
        raise ValueRiskError(
            f"unknown attribute-inference setting(s) {sorted(unknown)}; known: "
            f"{sorted(known)}."
        )
    values = dict(data)
    if "attributes" in values:
        values["attributes"] = tuple(values["attributes"])
    if isinstance(values.get("groups"), dict):
        values["groups"] = GroupSpec(**values["groups"])
    return AttributeSpec(**values)


def make_attribute_spec(preset: str = "demo", **overrides) -> AttributeSpec:
    """An :class:`AttributeSpec` from a preset (``ATTRIBUTE_PRESETS``) and overrides.

    ``groups`` may be given as a :class:`GroupSpec` or a dict of its fields.
    """
    if preset not in ATTRIBUTE_PRESETS:
        raise ValueRiskError(
            f"unknown preset {preset!r}; choose one of {sorted(ATTRIBUTE_PRESETS)}."
        )
    values = {**ATTRIBUTE_PRESETS[preset], **overrides}
    if isinstance(values.get("groups"), GroupSpec):
        values["groups"] = dataclasses.asdict(values["groups"])
    return attribute_spec_from_dict(values)


# -- which attributes a dataset has ---------------------------------------------------


def uses_stand_ins(data: Dataset) -> bool:
    """True when the dataset declares no attributes, so stand-ins are used."""
    return not data.info.attributes


def attribute_names(data: Dataset) -> list[str]:
    """Every attribute that can be attacked: declared columns, else stand-ins."""
    if not uses_stand_ins(data):
        return list(data.info.attributes)
    return [n for n, s in STAND_INS.items() if data.info.kind in s.kinds]


def default_attributes(data: Dataset) -> tuple[str, ...]:
    """The default set: the study's eight on CelebA, else every available attribute."""
    names = attribute_names(data)
    paper = [n for n in PAPER_CELEBA_ATTRIBUTES if n in names]
    return tuple(paper) if len(paper) == len(PAPER_CELEBA_ATTRIBUTES) else tuple(names)


def describe_attribute(data: Dataset, name: str) -> str:
    """One line on what an attribute is."""
    if uses_stand_ins(data) and name in STAND_INS:
        return f"stand-in: {STAND_INS[name].description}"
    return f"declared attribute column {name!r}"


def _resolve(data: Dataset, spec: AttributeSpec) -> tuple[str, ...]:
    names = spec.attributes or default_attributes(data)
    available = attribute_names(data)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueRiskError(
            f"unknown attribute(s) {unknown} for dataset {data.info.name!r}; choose "
            f"from {available}."
        )
    if not names:
        raise ValueRiskError(
            f"dataset {data.info.name!r} has no attribute to attack; declare attribute "
            "columns in the CSV."
        )
    return tuple(dict.fromkeys(names))


def attribute_codes(data: Dataset, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Every sample's value of each attribute as a code 0..m-1, int64 (N, len(names)).

    Declared attributes are encoded by their sorted distinct values over the whole
    dataset; stand-ins are 1 where the property's score exceeds its median over the
    whole dataset, else 0.
    """
    codes = np.zeros((len(data), len(names)), dtype=np.int64)
    for j, name in enumerate(names):
        if not uses_stand_ins(data):
            column = data.attributes[name].to_numpy()
            codes[:, j] = np.unique(column, return_inverse=True)[1]
            continue
        score = np.concatenate(
            [
                STAND_INS[name].score(
                    data.features(np.arange(s, min(s + _CHUNK, len(data))))
                )
                for s in range(0, len(data), _CHUNK)
            ]
        )
        codes[:, j] = score > np.median(score)
    return codes


# -- the attack classifier ------------------------------------------------------------


class AttackClassifier:
    """A two-layer MLP from standardised embeddings to an attribute's value code."""

    def __init__(
        self, net: nn.Module | None, mean: np.ndarray, scale: np.ndarray, constant: int
    ) -> None:
        self.net = net  # None when the training data held one value only
        self.mean = mean
        self.scale = scale
        self.constant = constant

    @torch.no_grad()
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted value codes, int64 (n,), for embeddings ``x`` (n, d)."""
        if self.net is None:
            return np.full(len(x), self.constant, dtype=np.int64)
        z = torch.as_tensor((x - self.mean) / self.scale, dtype=torch.float32)
        return self.net(z).argmax(1).numpy().astype(np.int64)


def fit_attack_classifier(
    x: np.ndarray,
    y: np.ndarray,
    *,
    hidden: int = 64,
    epochs: int = 60,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> AttackClassifier:
    """Fit the attack: Linear(d, hidden) → ReLU → Linear(hidden, m), trained with Adam.

    Args:
        x: embeddings, float (n, d); standardised with their own mean and spread.
        y: value codes, int (n,) in [0, m).
        hidden: width of the hidden layer, default 64.
        epochs: passes over the data, default 60.
        batch_size: default 128.
        lr: Adam learning rate, default 1e-3.
        seed: initialisation and batch order.

    Returns:
        The fitted classifier; a constant one when ``y`` holds a single value.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if len(x) != len(y) or len(x) == 0:
        raise ValueRiskError(
            f"the attack needs as many embeddings as values, at least one; got "
            f"{len(x)} embeddings and {len(y)} values."
        )
    mean = x.mean(0)
    scale = x.std(0) + 1e-6
    values = np.unique(y)
    if len(values) == 1:
        return AttackClassifier(None, mean, scale, int(values[0]))

    # Seeded initialisation and batch order, leaving the global RNG alone.
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nn.Sequential(
            nn.Linear(x.shape[1], hidden),
            nn.ReLU(),
            nn.Linear(hidden, int(y.max()) + 1),
        )
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-4)
    xt = torch.as_tensor((x - mean) / scale)
    yt = torch.as_tensor(y)

    # Mini-batch training, a fresh order each epoch.
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=generator)
        for start in range(0, len(xt), batch_size):
            batch = order[start : start + batch_size]
            loss = nn.functional.cross_entropy(net(xt[batch]), yt[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    net.eval()
    return AttackClassifier(net, mean, scale, int(np.bincount(y).argmax()))


def _majority_share(codes: np.ndarray) -> float:
    """Accuracy of always guessing the most common value."""
    return float(np.bincount(codes).max() / len(codes))


# -- the study ------------------------------------------------------------------------


def _attacker_index(ctx: Context, spec: AttributeSpec) -> np.ndarray:
    """The attacker's auxiliary samples: the shadow model's training set for the
    shadow protocol, all shadow data for the target protocol; at most
    ``max_attack_samples``, chosen with the spec's seed."""
    split = ctx.split
    index = (
        split.shadow_members
        if spec.protocol == "shadow"
        else np.concatenate([split.shadow_members, split.shadow_nonmembers])
    )
    if spec.max_attack_samples and len(index) > spec.max_attack_samples:
        rng = np.random.default_rng(spec.seed)
        index = np.sort(rng.choice(index, spec.max_attack_samples, replace=False))
    return index


def _fit_checked(
    emb: np.ndarray, codes: np.ndarray, spec: AttributeSpec, seed: int
) -> tuple[AttackClassifier, float]:
    """Fit on the attacker's data less a held-out share; return the attack and its
    accuracy on that share (what the attacker can check on its own)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(emb))
    n_check = max(1, int(round(ATTACK_VALIDATION * len(emb))))
    check, fit = order[:n_check], order[n_check:]
    attack = fit_attack_classifier(
        emb[fit],
        codes[fit],
        hidden=spec.hidden,
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        lr=spec.lr,
        seed=seed,
    )
    return attack, float((attack.predict(emb[check]) == codes[check]).mean())


def _inputs(ctx: Context, spec: AttributeSpec, names: tuple[str, ...]) -> dict:
    return {
        **group_study_inputs(ctx, spec.groups),
        "shadow": model_inputs(ctx, "shadow"),
        "attribute_spec": {**spec.to_dict(), "attributes": list(names)},
    }


def attribute_inference(
    ctx: Context, spec: AttributeSpec, *, progress: Progress | None = None
) -> dict:
    """Attribute inference against one target model per importance group.

    Returns a dict:

    - ``table``: one row per group and attribute: ``group`` (0 = least important),
      ``group_label``, ``attribute``, ``n`` (attacked samples: the group's members),
      ``accuracy``, ``baseline`` (majority-class share on the same samples),
      ``relative`` (accuracy / baseline), ``gain`` (accuracy − baseline),
      ``attack_check`` (the attack's accuracy on the attacker's held-out data).
    - ``groups``: one row per group: ``group``, ``group_label``, ``n``,
      ``mean_importance``, ``train_accuracy``, ``test_accuracy``, ``epochs``,
      ``train_seconds`` (wall time of the group model's training, when it ran),
      ``mean_relative`` (over attributes).
    - ``attributes`` (names), ``descriptions`` (name -> line), ``stand_ins`` (bool),
      ``protocol``, ``attacker_samples``, ``seconds`` (wall time of each step when it
      ran), ``correlation`` (see :func:`attribute_importance`; None when turned off).

    Raises:
        ValueRiskError: unknown attributes, or too few members for the groups.
        pipeline.NotComputed: the result is missing and ``ctx`` is read-only.
    """
    progress = progress or (lambda fraction, message: None)
    names = _resolve(ctx.data, spec)

    def compute() -> dict:
        stage = staged(
            progress,
            [
                ("group models", 6.0),
                ("shadow model", 1.5 if spec.protocol == "shadow" else 0.0),
                ("attack", 1.0),
                ("importance by attribute", 1.0 if spec.correlation else 0.0),
            ],
        )
        seconds: dict[str, float] = {}
        codes = attribute_codes(ctx.data, names)

        # One target model per importance group.
        started = time.perf_counter()
        members = group_index(ctx, spec.groups)
        models = group_models(ctx, spec.groups, progress=stage("group models"))
        seconds["group models"] = time.perf_counter() - started

        # The attacker's data and, in the shadow protocol, its shadow model's attack.
        started = time.perf_counter()
        aux = _attacker_index(ctx, spec)
        x_aux = ctx.data.features(aux)
        shared: dict[str, tuple[AttackClassifier, float]] = {}
        if spec.protocol == "shadow":
            shadow, _ = trained_model(ctx, "shadow", progress=stage("shadow model"))
            emb_aux = embed(shadow, x_aux)
            for j, name in enumerate(names):
                shared[name] = _fit_checked(emb_aux, codes[aux, j], spec, spec.seed + j)
        seconds["shadow model and attack fit"] = time.perf_counter() - started

        # Attack each group's model on its own training samples.
        started = time.perf_counter()
        values = importance(ctx)
        labels = group_labels(spec.groups.n_groups)
        rows, group_rows = [], []
        attack_progress = stage("attack")
        for g, ((model, scores), index) in enumerate(zip(models, members, strict=True)):
            emb = embed(model, ctx.data.features(index))
            emb_aux_g = embed(model, x_aux) if spec.protocol == "target" else None
            for j, name in enumerate(names):
                if spec.protocol == "shadow":
                    attack, check = shared[name]
                else:
                    attack, check = _fit_checked(
                        emb_aux_g, codes[aux, j], spec, spec.seed + j
                    )
                truth = codes[index, j]
                accuracy = float((attack.predict(emb) == truth).mean())
                baseline = _majority_share(truth)
                rows.append(
                    {
                        "group": g,
                        "group_label": labels[g],
                        "attribute": name,
                        "n": int(len(index)),
                        "accuracy": accuracy,
                        "baseline": baseline,
                        "relative": accuracy / baseline,
                        "gain": accuracy - baseline,
                        "attack_check": check,
                    }
                )
            in_group = np.isin(ctx.split.members, index)
            group_rows.append(
                {
                    "group": g,
                    "group_label": labels[g],
                    "n": int(len(index)),
                    "mean_importance": float(values[in_group].mean()),
                    "train_accuracy": scores["train_accuracy"],
                    "test_accuracy": scores["test_accuracy"],
                    "epochs": scores["epochs"],
                    "train_seconds": scores.get("seconds", float("nan")),
                }
            )
            attack_progress((g + 1) / len(models), f"group {g + 1} attacked")
        table = pd.DataFrame(rows)
        groups = pd.DataFrame(group_rows)
        groups["mean_relative"] = table.groupby("group")["relative"].mean().to_numpy()
        seconds["attack"] = time.perf_counter() - started

        # Does importance carry over between tasks?
        correlation = None
        if spec.correlation:
            started = time.perf_counter()
            correlation = attribute_importance(
                ctx, names, progress=stage("importance by attribute")
            )["correlation"]
            seconds["importance by attribute"] = time.perf_counter() - started

        return {
            "table": table,
            "groups": groups,
            "attributes": list(names),
            "descriptions": {n: describe_attribute(ctx.data, n) for n in names},
            "stand_ins": uses_stand_ins(ctx.data),
            "protocol": spec.protocol,
            "attacker_samples": int(len(aux)),
            "seconds": seconds,
            "correlation": correlation,
        }

    return cached(
        ctx, "attributes", VERSIONS["attributes"], _inputs(ctx, spec, names), compute
    )


def _attribute_importance_inputs(ctx: Context, names: tuple[str, ...]) -> dict:
    return {**importance_inputs(ctx), "attributes": list(names)}


def attribute_importance(
    ctx: Context,
    names: tuple[str, ...] | list[str],
    *,
    progress: Progress | None = None,
) -> dict:
    """Importance of the members for each attribute task, and how tasks correlate.

    Each attribute in turn plays the label: KNN-Shapley of the members against the
    reference set, with the attribute's value as the class, on the same representation
    and k as the task's importance.

    Returns:
        ``values``: DataFrame with the members' ``index`` and one column per task
        (``"label"`` for the task itself, then each attribute); ``correlation``: one
        row per pair of tasks with ``task_a``, ``task_b``, ``spearman``, ``pearson``.
    """
    progress = progress or (lambda fraction, message: None)
    names = tuple(names)

    def compute() -> dict:
        members, reference = ctx.split.members, ctx.split.reference
        x_train = representation(ctx, members)
        x_test = representation(ctx, reference)
        codes = attribute_codes(ctx.data, names)
        columns = {"index": members, "label": importance(ctx)}
        for j, name in enumerate(names):
            columns[name] = knn_shapley(
                x_train,
                codes[members, j],
                x_test,
                codes[reference, j],
                k=ctx.spec.valuation.k,
            )
            progress((j + 1) / len(names), f"importance for {name}")
        values = pd.DataFrame(columns)
        tasks = ["label", *names]
        rows = []
        for a in tasks:
            for b in tasks:
                rows.append(
                    {
                        "task_a": a,
                        "task_b": b,
                        "spearman": _correlation(spearmanr, values[a], values[b]),
                        "pearson": _correlation(pearsonr, values[a], values[b]),
                    }
                )
        return {"values": values, "correlation": pd.DataFrame(rows)}

    inputs = _attribute_importance_inputs(ctx, names)
    return cached(
        ctx, "attribute-importance", VERSIONS["attribute-importance"], inputs, compute
    )


def _correlation(fn, a: pd.Series, b: pd.Series) -> float:
    """A correlation coefficient, NaN when either side is constant."""
    if np.ptp(a.to_numpy()) == 0 or np.ptp(b.to_numpy()) == 0:
        return float("nan")
    return float(fn(a, b).statistic)


def attribute_report(result: dict) -> dict:
    """The result as plain JSON-able data, for the CLI and reports.

    Returns:
        ``by_group``: one record per group with its size, mean importance, the group
        model's test accuracy and training time, the mean accuracy, baseline and
        relative accuracy over the attributes, and ``relative_<attribute>`` for each;
        ``correlation``: Spearman correlation of each attribute task's importance
        with the label's (when computed); ``protocol``, ``attributes``,
        ``stand_ins``, ``seconds``.
    """
    table, groups = result["table"], result["groups"]
    means = table.groupby("group")[["accuracy", "baseline", "relative"]].mean()
    relative = table.pivot(index="group", columns="attribute", values="relative")
    records = []
    for _, row in groups.iterrows():
        g = row["group"]
        record = {
            "group": row["group_label"],
            "n": int(row["n"]),
            "mean_importance": float(row["mean_importance"]),
            "model_test_accuracy": float(row["test_accuracy"]),
            "model_train_seconds": float(row["train_seconds"]),
            "accuracy": float(means.loc[g, "accuracy"]),
            "baseline": float(means.loc[g, "baseline"]),
            "relative": float(means.loc[g, "relative"]),
        }
        for name in result["attributes"]:
            record[f"relative_{name}"] = float(relative.loc[g, name])
        records.append(record)
    correlation = None
    if result["correlation"] is not None:
        frame = result["correlation"]
        frame = frame[(frame["task_a"] == "label") & (frame["task_b"] != "label")]
        correlation = dict(zip(frame["task_b"], frame["spearman"], strict=True))
    return {
        "protocol": result["protocol"],
        "attributes": result["attributes"],
        "stand_ins": result["stand_ins"],
        "by_group": records,
        "correlation_with_label": correlation,
        "seconds": result["seconds"],
    }


def attribute_status(ctx: Context, spec: AttributeSpec) -> dict[str, bool]:
    """Which parts of the study are stored: each group model, and the result."""
    names = _resolve(ctx.data, spec)
    n = spec.groups.n_groups
    done = groups_computed(ctx, spec.groups)
    return {
        f"group models ({done} of {n})": done == n,
        "attribute-inference result": ctx.store.has(
            "attributes", VERSIONS["attributes"], _inputs(ctx, spec, names)
        ),
    }


@register_job(
    "attributes", "attribute inference against one model per importance group"
)
def attribute_job(
    spec: RunSpec, store: Store, progress: Progress, settings: dict | None = None
) -> dict:
    """Run :func:`attribute_inference` for the RunSpec and the settings (a dict of
    :class:`AttributeSpec` fields); returns the mean relative accuracy per group."""
    aspec = attribute_spec_from_dict(settings or {})
    ctx = make_context(spec, store=store)
    result = attribute_inference(ctx, aspec, progress=progress)
    groups = result["groups"]
    return {
        "mean_relative_accuracy": dict(
            zip(groups["group_label"], groups["mean_relative"], strict=True)
        ),
        "seconds": result["seconds"],
    }


# -- charts ---------------------------------------------------------------------------

METRICS = {
    "relative": ("accuracy ÷ majority baseline", 1.0),
    "gain": ("accuracy − majority baseline", 0.0),
    "accuracy": ("attack accuracy", None),
}


def attribute_chart(table: pd.DataFrame, metric: str = "relative") -> alt.Chart:
    """Grouped bars: per attribute, one bar per importance group; a rule at "no
    better than the baseline" for the relative and gain metrics."""
    if metric not in METRICS:
        raise ValueRiskError(
            f"metric must be one of {sorted(METRICS)}, got {metric!r}."
        )
    title, neutral = METRICS[metric]
    order = list(dict.fromkeys(table.sort_values("group")["group_label"]))
    bars = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("attribute:N", title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("group_label:N", sort=order),
            y=alt.Y(f"{metric}:Q", title=title, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "group_label:N",
                sort=order,
                scale=alt.Scale(scheme="viridis"),
                title="importance group",
            ),
            tooltip=[
                "attribute",
                "group_label",
                "n",
                alt.Tooltip("accuracy:Q", format=".3f"),
                alt.Tooltip("baseline:Q", format=".3f"),
                alt.Tooltip("relative:Q", format=".3f"),
            ],
        )
    )
    chart = bars
    if neutral is not None:
        rule = (
            alt.Chart(pd.DataFrame({metric: [neutral]}))
            .mark_rule(color="black", strokeDash=[4, 3])
            .encode(y=f"{metric}:Q")
        )
        chart = bars + rule
    return chart.properties(
        title="Attribute inference by importance group", width="container", height=320
    )


def correlation_chart(frame: pd.DataFrame, method: str = "spearman") -> alt.Chart:
    """Heatmap of the correlation of importance between tasks, with the values."""
    tasks = list(dict.fromkeys(frame["task_a"]))
    base = alt.Chart(frame).encode(
        x=alt.X("task_a:N", sort=tasks, title=None),
        y=alt.Y("task_b:N", sort=tasks, title=None),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            f"{method}:Q",
            scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True),
            title=method,
        ),
        tooltip=["task_a", "task_b", alt.Tooltip(f"{method}:Q", format=".3f")],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text(f"{method}:Q", format=".2f")
    )
    return (cells + text).properties(
        title="Importance of the same samples for different tasks",
        width="container",
        height=max(200, 40 * len(tasks)),
    )
