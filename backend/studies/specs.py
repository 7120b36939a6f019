"""Settings of each data-change study: one frozen dataclass per study.

This module imports neither torch nor scikit-learn, so the command line can build its
options from these classes without loading them; the names it lists are pinned to
their registries by the tests.

A study's spec holds only its own settings; the data, split, model and valuation come
from the :class:`~backend.specs.RunSpec` it runs on. Every field carries a ``help``
text (in its metadata) that the CLI and the page show. Lists given as JSON arrays or
comma-separated text become tuples, so a spec rebuilt from a job's parameters equals
the spec that made them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from backend.errors import ValueRiskError

__all__ = [
    "OUTPUT_ATTACKS",
    "PARTIAL_SETTINGS",
    "TRANSFORM_NAMES",
    "OnionSpec",
    "DuplicatesSpec",
    "AugmentationSpec",
    "PartialSpec",
    "STUDY_SPECS",
    "make_study_spec",
    "study_params",
    "study_name",
]

# Attacks the exposure checks can run: those of backend.attacks.membership that read
# the model's output. The label-only boundary attack needs a gradient search per
# sample, too slow to repeat for every retrained model.
OUTPUT_ATTACKS = ("confidence", "entropy", "modified_entropy")

# The transforms of backend.dataset_edits.TRANSFORMS, in its order.
TRANSFORM_NAMES = ("color_jitter", "grayscale", "hflip", "vflip")

# Who computes importance from partial data, and against what (see
# :mod:`backend.studies.partial`).
PARTIAL_SETTINGS = {
    "owner": "the held members, valued against the owner's reference set",
    "attacker-pool": (
        "the held members plus the attacker's shadow members, valued against the "
        "attacker's shadow non-members"
    ),
    "attacker-reference": (
        "the held members alone, valued against the attacker's shadow members"
    ),
}


def _param(default: Any, help: str) -> Any:
    """A field with its default and the help text the CLI and the page show."""
    return field(default=default, metadata={"help": help})


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueRiskError(message)


def _as_tuple(spec: Any, name: str, cast: type) -> None:
    """Coerce a list, tuple or comma-separated text field to a tuple of ``cast``."""
    value = getattr(spec, name)
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    try:
        items = tuple(cast(item) for item in value)
    except (TypeError, ValueError) as error:
        raise ValueRiskError(
            f"{name} must be a list of {cast.__name__} values; received {value!r}."
        ) from error
    object.__setattr__(spec, name, items)


def _check_attack(attack: str, fpr: float) -> None:
    _check(
        attack in OUTPUT_ATTACKS,
        f"attack must be one of {list(OUTPUT_ATTACKS)}; received {attack!r}.",
    )
    _check(0 < fpr < 0.5, f"fpr must lie in (0, 0.5); received {fpr}.")


@dataclass(frozen=True)
class OnionSpec:
    """Remove the most (or least) important members and value the rest again."""

    # The study removed 10,000 of 50,000 members: a fifth.
    fraction: float = _param(
        0.2, "share of members removed from the top (or the bottom), at most 1/3"
    )
    retrain: bool = _param(
        True, "retrain the target without the top and compare membership exposure"
    )
    attack: str = _param("confidence", f"exposure attack, one of {OUTPUT_ATTACKS}")
    fpr: float = _param(0.01, "false-positive rate at which exposure TPR is read")

    def __post_init__(self) -> None:
        # The middle band (ranks fraction..2*fraction from the top) must survive the
        # removal of the bottom fraction too: 3 * fraction <= 1.
        _check(
            0 < self.fraction <= 1 / 3,
            f"fraction must lie in (0, 1/3] so that the band below the removed top "
            f"survives both removals; received {self.fraction}. Use 0.2 for a fifth.",
        )
        _check_attack(self.attack, self.fpr)


@dataclass(frozen=True)
class DuplicatesSpec:
    """Add wrong-label copies of target members and value everything again."""

    n_targets: int = _param(50, "targets chosen at random when none are listed")
    copies: int = _param(16, "wrong-label copies added per target")
    targets: tuple[int, ...] = _param(
        (), "hand-picked targets: dataset indices of members (empty: random)"
    )
    seed: int = _param(0, "seed of the targets, their wrong labels and the controls")
    retrain: bool = _param(
        True, "retrain the target on the poisoned set and compare membership exposure"
    )
    in_out: bool = _param(
        True, "also train without the targets, to measure the gap between in and out"
    )
    attack: str = _param("confidence", f"exposure attack, one of {OUTPUT_ATTACKS}")
    fpr: float = _param(0.01, "false-positive rate at which exposure TPR is read")

    def __post_init__(self) -> None:
        _as_tuple(self, "targets", int)
        _check(self.n_targets >= 1, f"n_targets must be >= 1; got {self.n_targets}.")
        _check(self.copies >= 1, f"copies must be >= 1; received {self.copies}.")
        _check(
            len(set(self.targets)) == len(self.targets),
            f"targets must not repeat an index; received {list(self.targets)}.",
        )
        _check_attack(self.attack, self.fpr)


@dataclass(frozen=True)
class AugmentationSpec:
    """Replace or extend members with augmented versions and value again."""

    transforms: tuple[str, ...] = _param(
        TRANSFORM_NAMES, f"transforms to try, any of {list(TRANSFORM_NAMES)}"
    )
    n_samples: int = _param(
        1000, "members augmented per transform (clipped to the member count)"
    )
    seed: int = _param(0, "seed of the chosen samples and the transforms' parameters")

    def __post_init__(self) -> None:
        _as_tuple(self, "transforms", str)
        unknown = [t for t in self.transforms if t not in TRANSFORM_NAMES]
        _check(
            not unknown and len(self.transforms) > 0,
            f"transforms must be a non-empty list of {list(TRANSFORM_NAMES)}; received "
            f"{list(self.transforms)}.",
        )
        _check(self.n_samples >= 1, f"n_samples must be >= 1; got {self.n_samples}.")


@dataclass(frozen=True)
class PartialSpec:
    """Value members from only a fraction of the training set."""

    fractions: tuple[float, ...] = _param(
        (0.02, 0.05, 0.2, 0.5), "shares of the members the party holds, each in (0, 1]"
    )
    n_seeds: int = _param(3, "random draws of the held members per fraction")
    settings: tuple[str, ...] = _param(
        tuple(PARTIAL_SETTINGS), f"who values, any of {list(PARTIAL_SETTINGS)}"
    )
    seed: int = _param(0, "seed of the first draw (draw i uses seed + i)")

    def __post_init__(self) -> None:
        _as_tuple(self, "fractions", float)
        _as_tuple(self, "settings", str)
        _check(
            len(self.fractions) > 0 and all(0 < f <= 1 for f in self.fractions),
            f"fractions must be a non-empty list of numbers in (0, 1]; received "
            f"{list(self.fractions)}.",
        )
        unknown = [s for s in self.settings if s not in PARTIAL_SETTINGS]
        _check(
            not unknown and len(self.settings) > 0,
            f"settings must be a non-empty list of {list(PARTIAL_SETTINGS)}; "
            f"received {list(self.settings)}.",
        )
        _check(self.n_seeds >= 1, f"n_seeds must be >= 1; received {self.n_seeds}.")


STUDY_SPECS: dict[str, type] = {
    "onion": OnionSpec,
    "duplicates": DuplicatesSpec,
    "augmentation": AugmentationSpec,
    "partial": PartialSpec,
}


def make_study_spec(name: str, **params: Any) -> Any:
    """The spec of study ``name`` with the given settings (others at their defaults).

    Raises:
        ValueRiskError: unknown study or setting, or a setting out of range.
    """
    if name not in STUDY_SPECS:
        raise ValueRiskError(
            f"unknown study {name!r}; choose one of {list(STUDY_SPECS)}."
        )
    cls = STUDY_SPECS[name]
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueRiskError(
            f"unknown setting(s) {unknown} for study {name!r}; known: {known}."
        )
    return cls(**params)


def study_name(spec: Any) -> str:
    """The registry name of a study spec's study."""
    for name, cls in STUDY_SPECS.items():
        if isinstance(spec, cls):
            return name
    raise ValueRiskError(f"not a study spec: {type(spec).__name__}.")


def study_params(spec: Any) -> dict:
    """The spec's settings as JSON-able job parameters (tuples become lists)."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in dataclasses.asdict(spec).items()
    }
