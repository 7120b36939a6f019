"""Pure edits of a training set: remove rows, add relabelled copies, augment images.

A :class:`TrainingView` is the training set a study values or trains on: the samples
in their storage form, their labels, and for every row the pooled-dataset index of the
sample it was made from and how it was made (an original, a copy, an augmented
version). Every edit returns a new view and leaves its input untouched: a view's arrays
are read-only, and every edit builds fresh arrays.

Row order is part of the contract, because KNN-Shapley orders equidistant training
points by row: a removal keeps the order of the rows that stay, additions go after all
existing rows (in the order of the positions given), and a replacement keeps its row's
place. The first ``len(view)`` rows of an edit that only adds rows are therefore the
view's own rows, in order.

Augmentations use ``torchvision.transforms.v2`` on uint8 image tensors. A transform
with random parameters (colour jitter) draws them per sample from a seed, inside a
forked torch RNG, so the caller's global RNG is never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from backend.errors import ValueRiskError

__all__ = [
    "EDITS",
    "MODES",
    "TRANSFORMS",
    "Transform",
    "TrainingView",
    "remove",
    "add_copies",
    "augment",
    "apply_transform",
    "transform_applicable",
    "wrong_labels",
]

# How a row was made; ``TrainingView.edit`` holds the position in this tuple.
EDITS = ("original", "copy", "augmented")
ORIGINAL, COPY, AUGMENTED = range(3)

# How augmented versions enter the training set.
MODES = ("replace", "add")

# Colour jitter strengths: the common CIFAR-10 setting.
JITTER = {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.1}


# -- the view --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrainingView:
    """A training set as rows: samples, labels, where each row came from.

    Attributes:
        x: ``uint8 (n, C, H, W)`` images or ``float32 (n, D)`` tabular features.
        y: ``int64 (n,)`` labels.
        origin: ``int64 (n,)`` pooled-dataset index of the sample each row was made
            from (for synthetic data: any id the caller chose).
        edit: ``int8 (n,)`` how each row was made, a position in :data:`EDITS`.
        kind: ``"image"`` or ``"tabular"``.

    The arrays are made read-only on construction.
    """

    x: np.ndarray
    y: np.ndarray
    origin: np.ndarray
    edit: np.ndarray
    kind: str

    def __post_init__(self) -> None:
        n = len(self.y)
        if self.kind not in ("image", "tabular"):
            raise ValueRiskError(
                f"a training view's kind must be 'image' or 'tabular'; received "
                f"{self.kind!r}."
            )
        want_ndim = 4 if self.kind == "image" else 2
        if self.x.ndim != want_ndim or len(self.x) != n:
            raise ValueRiskError(
                f"{self.kind} samples must have {want_ndim} dimensions and one row per "
                f"label ({n}); received shape {self.x.shape}."
            )
        for name in ("origin", "edit"):
            if getattr(self, name).shape != (n,):
                raise ValueRiskError(
                    f"{name} must have shape ({n},); received "
                    f"{getattr(self, name).shape}."
                )
        for array in (self.x, self.y, self.origin, self.edit):
            array.flags.writeable = False

    @classmethod
    def from_arrays(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        *,
        kind: str,
        origin: np.ndarray | None = None,
    ) -> TrainingView:
        """A view of original rows, copying the arrays.

        Args:
            x: ``uint8 (n, C, H, W)`` images or ``float32 (n, D)`` features.
            y: integer labels, (n,).
            kind: ``"image"`` or ``"tabular"``.
            origin: pooled-dataset index of each row; default ``arange(n)``.
        """
        y = np.array(y, dtype=np.int64)
        origin = np.arange(len(y)) if origin is None else origin
        return cls(
            x=np.array(x),
            y=y,
            origin=np.array(origin, dtype=np.int64),
            edit=np.full(len(y), ORIGINAL, dtype=np.int8),
            kind=kind,
        )

    @classmethod
    def from_dataset(cls, data: Any, index: np.ndarray) -> TrainingView:
        """The rows ``index`` of a :class:`~backend.datasets.Dataset`, as originals."""
        index = np.asarray(index, dtype=np.int64)
        return cls.from_arrays(
            data.x[index], data.y[index], kind=data.info.kind, origin=index
        )

    def __len__(self) -> int:
        return len(self.y)

    def features(self) -> np.ndarray:
        """Model inputs: images as float32 in [0, 1] (n, C, H, W); tables as stored."""
        if self.kind == "image":
            return self.x.astype(np.float32) / np.float32(255.0)
        return self.x.astype(np.float32, copy=True)

    def flat_features(self) -> np.ndarray:
        """:meth:`features` flattened to (n, d) float32."""
        return self.features().reshape(len(self), -1)

    def is_original(self) -> np.ndarray:
        """Boolean mask (n,) of the rows that are unedited originals."""
        return self.edit == ORIGINAL


def _replace(view: TrainingView, **arrays: np.ndarray) -> TrainingView:
    fields = {"x": view.x, "y": view.y, "origin": view.origin, "edit": view.edit}
    fields.update(arrays)
    return TrainingView(kind=view.kind, **fields)


def _positions(view: TrainingView, positions: Any, what: str) -> np.ndarray:
    """Row positions as a unique int64 array, checked against the view's length."""
    rows = np.asarray(positions)
    if rows.dtype == bool:
        if rows.shape != (len(view),):
            raise ValueRiskError(
                f"a boolean mask of {what} must have shape ({len(view)},); received "
                f"{rows.shape}."
            )
        return np.flatnonzero(rows)
    if rows.ndim != 1 or not (np.issubdtype(rows.dtype, np.integer) or rows.size == 0):
        raise ValueRiskError(
            f"{what} must be a one-dimensional array of row positions; received dtype "
            f"{rows.dtype} with shape {rows.shape}."
        )
    rows = rows.astype(np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= len(view)):
        raise ValueRiskError(
            f"{what} must lie in [0, {len(view)}) for a view of {len(view)} rows; "
            f"received values from {rows.min()} to {rows.max()}."
        )
    if len(np.unique(rows)) != len(rows):
        raise ValueRiskError(
            f"{what} must not repeat a row; received {len(rows)} positions of which "
            f"{len(np.unique(rows))} are distinct."
        )
    return rows


# -- edits -----------------------------------------------------------------------------


def remove(view: TrainingView, positions: Any) -> TrainingView:
    """The view without the rows at ``positions``; the others keep their order.

    Args:
        view: the training set.
        positions: row positions (int array) or a boolean mask (n,) of rows to drop.

    Returns:
        A new view of ``len(view) - len(positions)`` rows.
    """
    rows = _positions(view, positions, "positions to remove")
    keep = np.ones(len(view), dtype=bool)
    keep[rows] = False
    return _replace(
        view,
        x=view.x[keep],
        y=view.y[keep],
        origin=view.origin[keep],
        edit=view.edit[keep],
    )


def add_copies(
    view: TrainingView,
    positions: Any,
    *,
    copies: int = 1,
    labels: np.ndarray | None = None,
) -> TrainingView:
    """The view with ``copies`` exact copies of each chosen row appended.

    Args:
        view: the training set.
        positions: row positions of the samples to copy, (m,).
        copies: copies of each sample, default 1.
        labels: the label every copy of each sample gets, (m,); default: the
            sample's own label. Give a wrong label to poison.

    Returns:
        A new view of ``len(view) + copies * m`` rows: the original rows, then all
        copies of the first chosen sample, then of the second, and so on.
    """
    rows = _positions(view, positions, "positions to copy")
    if copies < 1:
        raise ValueRiskError(f"copies must be at least 1; received {copies}.")
    if labels is None:
        labels = view.y[rows]
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != rows.shape:
        raise ValueRiskError(
            f"labels must give one label per copied sample ({len(rows)}); received "
            f"shape {labels.shape}."
        )
    repeated = np.repeat(rows, copies)  # (copies * m,), each sample's copies together
    return _replace(
        view,
        x=np.concatenate([view.x, view.x[repeated]]),
        y=np.concatenate([view.y, np.repeat(labels, copies)]),
        origin=np.concatenate([view.origin, view.origin[repeated]]),
        edit=np.concatenate([view.edit, np.full(len(repeated), COPY, np.int8)]),
    )


def augment(
    view: TrainingView,
    positions: Any,
    transform: str,
    *,
    mode: str = "replace",
    seed: int = 0,
) -> TrainingView:
    """The view with augmented versions of the chosen images, replacing or added.

    Args:
        view: an image training set.
        positions: row positions of the samples to augment, (m,).
        transform: a name in :data:`TRANSFORMS`.
        mode: ``"replace"`` (each chosen row becomes its augmented version, in place)
            or ``"add"`` (augmented versions are appended after every existing row).
        seed: seed of the transform's random parameters.

    Returns:
        A new view; augmented rows keep their label and origin.

    Raises:
        ValueRiskError: unknown transform or mode, or a transform that does not apply
            to the view's data (see :func:`transform_applicable`).
    """
    rows = _positions(view, positions, "positions to augment")
    if mode not in MODES:
        raise ValueRiskError(f"unknown mode {mode!r}; choose one of {MODES}.")
    ok, reason = transform_applicable(
        transform, kind=view.kind, input_shape=view.x.shape[1:]
    )
    if not ok:
        raise ValueRiskError(reason)
    changed = apply_transform(view.x[rows], transform, seed=seed)

    if mode == "replace":
        x, edit = view.x.copy(), view.edit.copy()
        x[rows], edit[rows] = changed, AUGMENTED
        return _replace(view, x=x, edit=edit)
    return _replace(
        view,
        x=np.concatenate([view.x, changed]),
        y=np.concatenate([view.y, view.y[rows]]),
        origin=np.concatenate([view.origin, view.origin[rows]]),
        edit=np.concatenate([view.edit, np.full(len(rows), AUGMENTED, np.int8)]),
    )


def wrong_labels(labels: np.ndarray, num_classes: int, *, seed: int = 0) -> np.ndarray:
    """One wrong label per sample, uniform over the other classes, (n,) int64.

    Raises:
        ValueRiskError: fewer than two classes.
    """
    if num_classes < 2:
        raise ValueRiskError(
            f"a wrong label needs at least two classes; received {num_classes}."
        )
    labels = np.asarray(labels, dtype=np.int64)
    offset = np.random.default_rng(seed).integers(1, num_classes, size=len(labels))
    return (labels + offset) % num_classes


# -- transforms ------------------------------------------------------------------------


@dataclass(frozen=True)
class Transform:
    """An image augmentation.

    Attributes:
        name: registry key.
        title: human name.
        needs_color: True when it only means something on 3-channel images.
        run: ``run(images, seed)`` on a uint8 tensor (n, C, H, W), returning one of
            the same shape and dtype.
    """

    name: str
    title: str
    needs_color: bool
    run: Callable[[torch.Tensor, int], torch.Tensor]


def _color_jitter(images: torch.Tensor, seed: int) -> torch.Tensor:
    # v2.ColorJitter draws one set of factors per call, so call it per image to give
    # every image its own; the factors come from a forked, seeded RNG.
    jitter = v2.ColorJitter(**JITTER)
    out = torch.empty_like(images)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i in range(len(images)):
            out[i] = jitter(images[i])
    return out


def _grayscale(images: torch.Tensor, seed: int) -> torch.Tensor:
    return TF.rgb_to_grayscale(images, num_output_channels=images.shape[1])


def _hflip(images: torch.Tensor, seed: int) -> torch.Tensor:
    return TF.horizontal_flip(images)


def _vflip(images: torch.Tensor, seed: int) -> torch.Tensor:
    return TF.vertical_flip(images)


TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("color_jitter", "Colour jitter", True, _color_jitter),
        Transform("grayscale", "Grayscale", True, _grayscale),
        Transform("hflip", "Horizontal flip", False, _hflip),
        Transform("vflip", "Vertical flip", False, _vflip),
    )
}


def _transform(name: str) -> Transform:
    if name not in TRANSFORMS:
        raise ValueRiskError(
            f"unknown transform {name!r}; choose one of {list(TRANSFORMS)}."
        )
    return TRANSFORMS[name]


def transform_applicable(
    name: str, *, kind: str, input_shape: tuple[int, ...]
) -> tuple[bool, str]:
    """Whether a transform makes sense for a dataset, and if not, why.

    Args:
        name: a name in :data:`TRANSFORMS`.
        kind: the dataset's kind, ``"image"`` or ``"tabular"``.
        input_shape: one sample's shape, ``(C, H, W)`` or ``(D,)``.

    Returns:
        ``(True, "")``, or ``(False, reason)`` with a sentence a user can read.
    """
    transform = _transform(name)
    if kind != "image":
        return False, (
            f"{transform.title} needs images; this dataset is {kind}, where flipping "
            "or recolouring a feature vector has no meaning."
        )
    channels = int(input_shape[0])
    if transform.needs_color and channels != 3:
        return False, (
            f"{transform.title} needs colour (3-channel) images; this dataset's images "
            f"have {channels} channel{'s' if channels != 1 else ''}, so it would "
            "change nothing or nothing meaningful."
        )
    return True, ""


def apply_transform(images: np.ndarray, name: str, *, seed: int = 0) -> np.ndarray:
    """A transform applied to uint8 images (n, C, H, W); returns a new uint8 array."""
    transform = _transform(name)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueRiskError(
            "transforms take uint8 images of shape (n, C, H, W); received "
            f"{images.dtype} with shape {images.shape}."
        )
    tensor = torch.from_numpy(np.array(images))  # a private, writable copy
    return transform.run(tensor, seed).numpy().copy()
