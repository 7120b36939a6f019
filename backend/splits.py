"""Disjoint index sets drawn from one dataset with a seed.

A :class:`Split` holds five disjoint arrays of sample indices into the pooled dataset:

- ``members``: the target model's training set (whose importance is computed);
- ``nonmembers``: held-out samples, the negatives of membership inference;
- ``shadow_members`` / ``shadow_nonmembers``: the attacker's own data, for a shadow
  model that calibrates attack thresholds;
- ``reference``: the valuation reference set that KNN-Shapley measures usefulness
  against.

The same seed and sizes always give the same split; the split is stored with every
result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.errors import ValueRiskError
from backend.specs import SplitSpec

__all__ = ["Split", "make_split", "default_sizes", "SPLIT_PARTS"]

SPLIT_PARTS = (
    "members",
    "nonmembers",
    "shadow_members",
    "shadow_nonmembers",
    "reference",
)

# Share of the pool each part takes when its size is left at 0. Members get the largest
# share; non-members and the reference set are large enough for TPR at 1% FPR to mean
# something on the smallest built-in dataset.
_DEFAULT_SHARES = {
    "members": 0.40,
    "nonmembers": 0.15,
    "shadow_members": 0.20,
    "shadow_nonmembers": 0.10,
    "reference": 0.15,
}

# Sizes chosen per dataset where the study (or its nearest analogue) fixes them.
_DATASET_DEFAULTS = {
    "fashion-mnist": (40_000, 10_000, 10_000, 5_000, 5_000),  # 70,000 in the pool
    "cifar10": (30_000, 10_000, 10_000, 5_000, 5_000),  # 60,000 in the pool
}


@dataclass(frozen=True, eq=False)
class Split:
    """Disjoint index arrays (int64) into a pooled dataset."""

    members: np.ndarray
    nonmembers: np.ndarray
    shadow_members: np.ndarray
    shadow_nonmembers: np.ndarray
    reference: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in SPLIT_PARTS}

    def to_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in SPLIT_PARTS}


def default_sizes(dataset: str, n_pool: int) -> dict[str, int]:
    """The size of each part when the spec leaves it at 0."""
    fixed = _DATASET_DEFAULTS.get(dataset)
    if fixed is not None and sum(fixed) <= n_pool:
        return dict(zip(SPLIT_PARTS, fixed, strict=True))
    return {name: int(share * n_pool) for name, share in _DEFAULT_SHARES.items()}


def make_split(spec: SplitSpec, *, dataset: str, n_pool: int) -> Split:
    """Draw the split for a dataset of ``n_pool`` samples.

    Args:
        spec: requested sizes (0 = the dataset's default) and the seed.
        dataset: registry name, which selects per-dataset defaults.
        n_pool: the number of samples in the pooled dataset.

    Raises:
        ValueRiskError: if the parts do not fit in the pool or a part would be empty.
    """
    defaults = default_sizes(dataset, n_pool)
    sizes = {name: getattr(spec, name) or defaults[name] for name in SPLIT_PARTS}
    for name, size in sizes.items():
        if size < 1:
            raise ValueRiskError(
                f"split part {name!r} would be empty (dataset {dataset!r} has {n_pool} "
                "samples); use a larger dataset or set the sizes explicitly."
            )
    total = sum(sizes.values())
    if total > n_pool:
        raise ValueRiskError(
            f"the split asks for {total} samples ({sizes}) but dataset {dataset!r} has "
            f"{n_pool}; reduce the sizes so that they add up to at most {n_pool}."
        )

    # One permutation, cut into consecutive slices: disjoint by construction.
    order = np.random.default_rng(spec.seed).permutation(n_pool)
    parts, start = {}, 0
    for name in SPLIT_PARTS:
        parts[name] = np.sort(order[start : start + sizes[name]]).astype(np.int64)
        start += sizes[name]
    return Split(**parts)
