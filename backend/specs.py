"""Frozen specifications of every job, and their stable hash.

A spec says exactly what a stage reads. Its hash is the sha256 of its canonical JSON
(sorted keys, no whitespace), so it is the same in every process and on every machine.
The result store keys results by the stage name, the stage's code version and this hash.

The top-level :class:`RunSpec` bundles the sub-specs that one analysis needs; a stage
takes only the sub-specs it reads, so changing an attack parameter never retrains a
model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from backend.errors import ValueRiskError
from backend.settings import DEFAULT_DATASET, DEFAULT_K

__all__ = [
    "SplitSpec",
    "ModelSpec",
    "TrainSpec",
    "ValuationSpec",
    "AttackSpec",
    "RunSpec",
    "PRESETS",
    "canonical_json",
    "spec_hash",
    "spec_from_dict",
    "make_runspec",
]

REPRESENTATIONS = ("raw", "embedding")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace; dataclasses become dicts."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    raise TypeError(f"cannot hash a value of type {type(value).__name__}: {value!r}")


def spec_hash(value: Any) -> str:
    """The sha256 hex digest of a value's canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@dataclass(frozen=True)
class SplitSpec:
    """Sizes of the disjoint index sets drawn from one dataset.

    A size of 0 means "choose from the dataset's size" (see
    :func:`backend.splits.make_split`).
    """

    members: int = 0  # training set of the target model
    nonmembers: int = 0  # held out; the attack's negatives
    shadow_members: int = 0  # training set of the attacker's shadow model
    shadow_nonmembers: int = 0  # the shadow model's negatives
    reference: int = 0  # valuation reference (test) set of KNN-Shapley
    seed: int = 0


@dataclass(frozen=True)
class ModelSpec:
    """An architecture from :data:`backend.models.ARCHITECTURES`."""

    arch: str = "small-cnn"


@dataclass(frozen=True)
class TrainSpec:
    """How a model is trained (SGD with momentum and a cosine schedule)."""

    epochs: int = 15
    batch_size: int = 128  # as in the study
    lr: float = 0.05  # the study used 0.1 for ResNets on CIFAR-10
    momentum: float = 0.9
    weight_decay: float = 5e-4
    augment: bool = False  # random crop and flip (images only)
    seed: int = 0


@dataclass(frozen=True)
class ValuationSpec:
    """How importance (exact KNN-Shapley) is computed."""

    k: int = DEFAULT_K
    # "raw" (flattened inputs) or "embedding" (the target model's penultimate layer)
    representation: str = "raw"


@dataclass(frozen=True)
class AttackSpec:
    """Settings of the membership-inference analysis."""

    group_fraction: float = 0.2  # top and bottom 20% of members (10,000 of 50,000)
    n_bins: int = 5  # importance bins for the advantage chart
    boundary_steps: int = 50  # iterative gradient-sign steps of the boundary search
    boundary_step_size: float = (
        0.01  # ℓ∞ size of one step, as a share of the input range
    )
    paper_protocol: bool = False  # fit thresholds on evaluated data (an upper bound)


@dataclass(frozen=True)
class RunSpec:
    """Everything one analysis of one dataset and one model depends on."""

    dataset: str = DEFAULT_DATASET
    split: SplitSpec = field(default_factory=SplitSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    valuation: ValuationSpec = field(default_factory=ValuationSpec)
    attack: AttackSpec = field(default_factory=AttackSpec)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def key(self) -> str:
        return spec_hash(self)

    def __post_init__(self) -> None:
        _check_positive("train.epochs", self.train.epochs)
        _check_positive("train.batch_size", self.train.batch_size)
        _check_positive("valuation.k", self.valuation.k)
        if self.valuation.representation not in REPRESENTATIONS:
            raise ValueRiskError(
                f"valuation.representation must be one of {REPRESENTATIONS}, "
                f"got {self.valuation.representation!r}."
            )
        if not 0 < self.attack.group_fraction <= 0.5:
            raise ValueRiskError(
                "attack.group_fraction must be in (0, 0.5], got "
                f"{self.attack.group_fraction}; use 0.2 for the top and bottom fifth."
            )
        if self.train.lr <= 0:
            raise ValueRiskError(f"train.lr must be positive, got {self.train.lr}.")


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueRiskError(f"{name} must be a positive integer, got {value}.")


_SUBSPECS = {
    "split": SplitSpec,
    "model": ModelSpec,
    "train": TrainSpec,
    "valuation": ValuationSpec,
    "attack": AttackSpec,
}


def spec_from_dict(data: dict) -> RunSpec:
    """Rebuild a RunSpec from :meth:`RunSpec.to_dict` output (or a partial dict)."""
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name in _SUBSPECS:
            cls = _SUBSPECS[name]
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = set(value) - known
            if unknown:
                raise ValueRiskError(
                    f"unknown {name} setting(s) {sorted(unknown)}; "
                    f"known: {sorted(known)}."
                )
            kwargs[name] = cls(**value)
        elif name == "dataset":
            kwargs[name] = value
        else:
            raise ValueRiskError(f"unknown RunSpec field {name!r}.")
    return RunSpec(**kwargs)


# Scale presets. "quick" is a demo in seconds on 2 CPU cores; "paper" follows the
# study's settings (lr 0.1, batch 128, augmentation on, longer training).
PRESETS: dict[str, dict[str, Any]] = {
    "quick": {"train": {"epochs": 15, "lr": 0.05, "augment": False}},
    "paper": {"train": {"epochs": 50, "lr": 0.1, "augment": True}},
}


def make_runspec(
    dataset: str = DEFAULT_DATASET,
    *,
    preset: str = "quick",
    seed: int = 0,
    **overrides: dict[str, Any],
) -> RunSpec:
    """Build a RunSpec from a preset, a seed and per-section overrides.

    Example: ``make_runspec("digits", seed=1, valuation={"k": 5})``.
    """
    if preset not in PRESETS:
        raise ValueRiskError(
            f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}."
        )
    sections: dict[str, dict[str, Any]] = {
        "split": {"seed": seed},
        "train": {"seed": seed},
    }
    for section, values in PRESETS[preset].items():
        sections.setdefault(section, {}).update(values)
    for section, values in overrides.items():
        sections.setdefault(section, {}).update(values)
    return spec_from_dict({"dataset": dataset, **sections})
