"""Datasets ValueRisk analyses: built-in loaders, the user's own data, the registry.

Every dataset loads into one :class:`Dataset`: images as ``uint8`` arrays of shape
``(N, C, H, W)`` or tabular features as ``float32`` arrays of shape ``(N, D)``,
integer labels, optional named attribute columns, and a content fingerprint. Where a
dataset ships with official splits they are pooled, train first, and
:attr:`Dataset.official_train_size` records where the official training part ends;
ValueRisk draws its own splits from the pool.

Built-in datasets (``DATASET_NAMES``) are read from the data root
(:func:`backend.settings.data_root`, ``VALUERISK_DATA_ROOT``):

============== ======================================================================
name           files expected
============== ======================================================================
digits         none: scikit-learn ships it
fashion-mnist  ``fashion-mnist/*-ubyte.gz`` (or ``FashionMNIST/raw/``), or the
               Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets/``)
cifar10        ``cifar10/cifar-10-batches-py/`` (or ``cifar-10-batches-py/``)
celeba         ``celeba/img_align_celeba/*.jpg``, ``celeba/list_attr_celeba.txt``,
               ``celeba/list_eval_partition.txt``
tinyimagenet   ``tiny-imagenet-200/`` (``wnids.txt``, ``train/``, ``val/``)
purchase100    ``purchase100/purchase100.npz`` or ``purchase100/dataset_purchase``
============== ======================================================================

The user's own data joins the registry under a name made from its content hash:
:func:`load_image_folder` (``folder-<hash>``) and :func:`load_csv` (``csv-<hash>``).
Such a name resolves only in the process that loaded the data; another process (the
CLI) names the file itself, ``csv:/abs/path.csv`` or ``folder:/abs/path`` (see
:func:`csv_reference` and :func:`folder_reference`), which :func:`load_dataset` and
:func:`dataset_info` accept.

Loaded datasets are cached in the process and their arrays are read-only.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle
import re
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import numpy as np
import pandas as pd

from backend import settings
from backend.errors import ValueRiskError

__all__ = [
    "DatasetInfo",
    "Dataset",
    "DatasetStatus",
    "Progress",
    "Loader",
    "DATASET_NAMES",
    "MIN_CLASSES",
    "MIN_SAMPLES_PER_CLASS",
    "CELEBA_IMAGE_SIZE",
    "CELEBA_TASK_ATTRIBUTES",
    "FASHION_MNIST_SYSTEM_DIR",
    "IMAGE_EXTENSIONS",
    "list_datasets",
    "dataset_info",
    "load_dataset",
    "register_dataset",
    "clear_dataset_cache",
    "load_celeba",
    "load_image_folder",
    "load_csv",
    "csv_reference",
    "folder_reference",
]

Progress = Callable[[float, str], None]

# -- constants -------------------------------------------------------------------------

DATASET_NAMES = (
    "digits",
    "fashion-mnist",
    "cifar10",
    "celeba",
    "tinyimagenet",
    "purchase100",
)

MIN_CLASSES = 2  # a classifier needs two classes to tell apart
MIN_SAMPLES_PER_CLASS = 2  # one member and one non-member per class, at the very least

CELEBA_IMAGE_SIZE = 64  # CelebA faces are centre-cropped to a square, then resized
CELEBA_TASK_ATTRIBUTES = ("Heavy_Makeup", "Mouth_Slightly_Open", "Smiling")

# Where Debian's ``dataset-fashion-mnist`` package puts the four original files.
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

# Image file endings read from a user's image folder (compared lower-case).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")

_CACHE_SIZE = 4  # loaded built-in datasets kept in memory (CelebA alone is ~2.5 GB)
_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_CONTENT_NAME_PATTERN = re.compile(r"^(csv|folder)-[0-9a-f]{12}$")
_REFERENCE_KINDS = ("csv", "folder")

# Image modes that hold one grey channel; anything else becomes RGB.
_GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "F"})

_FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_FASHION_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

_CIFAR_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
_CIFAR_FOLDER = "cifar-10-batches-py"
_CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST_FILES = ("test_batch",)
_CIFAR_META_FILE = "batches.meta"

_CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
)

_TINY_FOLDER = "tiny-imagenet-200"
_TINY_SIZE = 64

_PURCHASE_FEATURES = 600
_PURCHASE_CLASSES = 100
# Accepted (features, labels) key pairs in purchase100.npz, tried in this order.
_PURCHASE_NPZ_KEYS = (("features", "labels"), ("X", "Y"), ("x", "y"))


# -- data classes ----------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, known without loading it.

    Attributes:
        name: registry name, such as ``"digits"`` or ``"csv-0123456789ab"``.
        title: human title, such as ``"Handwritten digits (8×8)"``.
        kind: ``"image"`` or ``"tabular"``.
        input_shape: ``(C, H, W)`` for images, ``(D,)`` for tabular data.
        num_classes: number of classes; labels lie in ``[0, num_classes)``.
        class_names: one name per class; empty when the names are only known once the
            files are read (Tiny ImageNet before loading).
        attributes: names of the attribute columns, ``()`` when there are none.
        description: a sentence or two on the data and its source.
        source: for the user's own data, a reference (``csv:...`` / ``folder:...``) that
            :func:`load_dataset` accepts in any process; ``""`` for built-ins.
    """

    name: str
    title: str
    kind: str
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: tuple[str, ...]
    attributes: tuple[str, ...]
    description: str
    source: str = ""


@dataclass(frozen=True)
class DatasetStatus:
    """Whether a dataset can be loaded from the current data root.

    Attributes:
        info: the dataset's metadata.
        available: True when its files were found (no data is read to decide).
        instruction: one line saying how to get the data; ``""`` when available.
    """

    info: DatasetInfo
    available: bool
    instruction: str


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset: samples, labels, attributes and a content fingerprint.

    Build one with :meth:`from_arrays`, which computes the fingerprint. The arrays are
    made read-only on construction, since loaded datasets are shared through a cache.

    Attributes:
        info: metadata; ``info.input_shape == x.shape[1:]``.
        x: images as ``uint8`` of shape ``(N, C, H, W)``, or tabular features as
            ``float32`` of shape ``(N, D)``.
        y: ``int64`` labels of shape ``(N,)`` in ``[0, info.num_classes)``.
        attributes: ``(N, len(info.attributes))`` frame of integer or boolean columns
            named ``info.attributes``, or None when the dataset has none.
        fingerprint: sha256 hex digest of the shapes, dtypes and bytes of ``x`` and
            ``y``.
        official_train_size: the pool's first ``official_train_size`` rows are the
            official training split (the rest are the official validation/test splits);
            None when the data has no official split.
    """

    info: DatasetInfo
    x: np.ndarray
    y: np.ndarray
    attributes: pd.DataFrame | None
    fingerprint: str
    official_train_size: int | None = field(default=None)

    def __post_init__(self) -> None:
        _check_arrays(self.info, self.x, self.y, self.attributes)
        if self.official_train_size is not None and not (
            0 <= self.official_train_size <= len(self.y)
        ):
            raise ValueRiskError(
                f"official_train_size must lie in [0, {len(self.y)}] for dataset "
                f"{self.info.name!r}; received {self.official_train_size}."
            )
        self.x.flags.writeable = False
        self.y.flags.writeable = False

    @classmethod
    def from_arrays(
        cls,
        info: DatasetInfo,
        x: np.ndarray,
        y: np.ndarray,
        attributes: pd.DataFrame | None = None,
        *,
        official_train_size: int | None = None,
    ) -> Dataset:
        """Build a dataset from arrays, computing its fingerprint.

        Args:
            info: metadata matching the arrays.
            x: ``uint8 (N, C, H, W)`` images or ``float32 (N, D)`` features.
            y: labels, any integer dtype, shape ``(N,)``; stored as ``int64``.
            attributes: optional ``(N, n_attributes)`` frame of int/bool columns.
            official_train_size: end of the official training split, default None.

        Returns:
            The dataset.
        """
        y = np.asarray(y)
        if np.issubdtype(y.dtype, np.integer):
            y = y.astype(np.int64, copy=False)
        if attributes is not None:
            attributes = attributes.reset_index(drop=True)
        return cls(
            info=info,
            x=x,
            y=y,
            attributes=attributes,
            fingerprint=_fingerprint(x, y),
            official_train_size=official_train_size,
        )

    def __len__(self) -> int:
        return len(self.y)

    def features(self, index: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """Model inputs for the rows in ``index`` (all rows by default).

        Args:
            index: optional integer array of row numbers (or a boolean mask of
                length N).

        Returns:
            Images as ``float32`` in ``[0, 1]`` of shape ``(n, C, H, W)``; tabular
            features as stored, ``float32`` of shape ``(n, D)``.
        """
        x = self.x if index is None else self.x[_as_index(index, len(self))]
        if self.info.kind == "image":
            return x.astype(np.float32) / np.float32(255.0)
        return x

    def subset(self, index: np.ndarray | Sequence[int]) -> Dataset:
        """A new dataset holding the rows in ``index``, in that order.

        Args:
            index: integer array of row numbers (or a boolean mask of length N).

        Returns:
            The subset, with its fingerprint recomputed and no official split boundary.
        """
        rows = _as_index(index, len(self))
        attributes = None
        if self.attributes is not None:
            attributes = self.attributes.iloc[rows].reset_index(drop=True)
        return Dataset.from_arrays(self.info, self.x[rows], self.y[rows], attributes)


def _check_arrays(
    info: DatasetInfo, x: Any, y: Any, attributes: pd.DataFrame | None
) -> None:
    """Raise ValueRiskError unless the arrays match the dataset's metadata."""
    where = f"dataset {info.name!r}"
    if info.kind not in ("image", "tabular"):
        raise ValueRiskError(
            f"{where}: kind must be 'image' or 'tabular'; received {info.kind!r}."
        )
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        raise ValueRiskError(f"{where}: x and y must be numpy arrays.")

    # Samples: dtype and shape follow the kind and the declared input shape.
    want_dtype = np.uint8 if info.kind == "image" else np.float32
    want_ndim = 4 if info.kind == "image" else 2
    if x.dtype != want_dtype or x.ndim != want_ndim:
        raise ValueRiskError(
            f"{where}: {info.kind} samples must be {np.dtype(want_dtype).name} with "
            f"{want_ndim} dimensions; received {x.dtype} with shape {x.shape}."
        )
    if tuple(x.shape[1:]) != tuple(info.input_shape):
        raise ValueRiskError(
            f"{where}: samples have shape {tuple(x.shape[1:])} but the metadata says "
            f"input_shape={tuple(info.input_shape)}."
        )

    # Labels: int64, one per sample, inside [0, num_classes).
    if y.dtype != np.int64 or y.shape != (len(x),):
        raise ValueRiskError(
            f"{where}: labels must be int64 of shape ({len(x)},); received {y.dtype} "
            f"with shape {y.shape}."
        )
    if len(y) and (y.min() < 0 or y.max() >= info.num_classes):
        raise ValueRiskError(
            f"{where}: labels must lie in [0, {info.num_classes}); received values "
            f"from {y.min()} to {y.max()}."
        )
    if info.class_names and len(info.class_names) != info.num_classes:
        raise ValueRiskError(
            f"{where}: {len(info.class_names)} class names for "
            f"{info.num_classes} classes."
        )

    # Attributes: one row per sample, the declared columns, integer or boolean values.
    if attributes is None:
        if info.attributes:
            raise ValueRiskError(
                f"{where}: the metadata names attributes {list(info.attributes)} but "
                "no attribute table was given."
            )
        return
    if len(attributes) != len(x) or tuple(attributes.columns) != info.attributes:
        raise ValueRiskError(
            f"{where}: the attribute table must have {len(x)} rows and the columns "
            f"{list(info.attributes)}; received {len(attributes)} rows and columns "
            f"{list(attributes.columns)}."
        )
    for column in attributes.columns:
        dtype = attributes[column].dtype
        if not (
            pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        ):
            raise ValueRiskError(
                f"{where}: attribute {column!r} must hold integers or booleans; "
                f"received dtype {dtype}."
            )


def _as_index(index: Any, n: int) -> np.ndarray:
    """Row numbers as an int64 array, checked against a dataset of ``n`` rows."""
    rows = np.asarray(index)
    if rows.dtype == bool:
        if rows.shape != (n,):
            raise ValueRiskError(
                f"a boolean row mask must have shape ({n},); received {rows.shape}."
            )
        return np.flatnonzero(rows)
    if rows.ndim != 1 or not (np.issubdtype(rows.dtype, np.integer) or rows.size == 0):
        raise ValueRiskError(
            "row index must be a one-dimensional array of integers; received dtype "
            f"{rows.dtype} with shape {rows.shape}."
        )
    rows = rows.astype(np.int64, copy=False)
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise ValueRiskError(
            f"row index out of range: the dataset has {n} rows (0 to {n - 1}); "
            f"received values from {rows.min()} to {rows.max()}."
        )
    return rows


def _fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    """sha256 hex digest of the dtypes, shapes and bytes of ``x`` and ``y``."""
    digest = hashlib.sha256()
    header = f"x:{x.dtype.str}:{tuple(x.shape)};y:{y.dtype.str}:{tuple(y.shape)};"
    digest.update(header.encode())
    digest.update(np.ascontiguousarray(x).data)
    digest.update(np.ascontiguousarray(y).data)
    return digest.hexdigest()


# -- registry --------------------------------------------------------------------------

Loader = Callable[[Path, Progress | None], Dataset]


@dataclass(frozen=True)
class _Entry:
    """One registry entry: how to load a dataset and how to tell whether it can be."""

    info: DatasetInfo
    load: Loader  # (data_root, progress) -> Dataset
    available: Callable[[Path], bool]  # data_root -> bool, reading no data
    instruction: Callable[[Path], str]  # data_root -> one-line instruction
    dataset: Dataset | None = None  # set for datasets held in memory


_REGISTRY: dict[str, _Entry] = {}
_LOCK = threading.RLock()  # guards _REGISTRY, _CACHE and _LOADING
_CACHE: OrderedDict[tuple[str, ...], Dataset] = OrderedDict()
_LOADING: dict[tuple[str, ...], threading.Lock] = {}


def register_dataset(
    name: str,
    source: Dataset | Loader,
    *,
    info: DatasetInfo | None = None,
    is_available: Callable[[Path], bool] | None = None,
    instruction: str = "",
    replace_existing: bool = False,
) -> DatasetInfo:
    """Add a dataset to the registry, so :func:`load_dataset` finds it by name.

    Two kinds of source join the registry:

    - a loaded :class:`Dataset`, held in memory for the life of the process (how
      uploads and :func:`load_image_folder` / :func:`load_csv` results join);
    - a loader ``loader(data_root, progress) -> Dataset`` with its ``info``, called
      (and cached) on each :func:`load_dataset` for a new data root.

    Registering the same in-memory content under the same name again does nothing.

    Args:
        name: lower-case letters, digits, ``.``, ``_`` and ``-``; not a built-in name.
        source: the dataset, or a loader.
        info: metadata, required with a loader; taken from the dataset otherwise (its
            ``name`` replaced by ``name``).
        is_available: ``data_root -> bool`` for a loader, reading no data; default:
            always available.
        instruction: one line on how to get the data when it is not available.
        replace_existing: replace an entry of the same name, default False.

    Returns:
        The registered metadata.
    """
    # Names: simple, not a file reference, not a built-in.
    if not _NAME_PATTERN.match(name):
        raise ValueRiskError(
            f"dataset name {name!r} is not allowed: use lower-case letters, digits, "
            "'.', '_' and '-', starting with a letter or digit."
        )
    if name in DATASET_NAMES:
        raise ValueRiskError(
            f"dataset name {name!r} belongs to a built-in dataset; choose another name."
        )

    # Build the entry from either kind of source.
    if isinstance(source, Dataset):
        dataset = source
        if dataset.info.name != name:
            dataset = replace(dataset, info=replace(dataset.info, name=name))
        entry = _Entry(
            info=dataset.info,
            load=lambda root, progress: dataset,
            available=lambda root: True,
            instruction=lambda root: "",
            dataset=dataset,
        )
    elif callable(source):
        if info is None:
            raise ValueRiskError(
                f"registering dataset {name!r} with a loader needs its DatasetInfo; "
                "pass info=DatasetInfo(...)."
            )

        def load(root: Path, progress: Progress | None) -> Dataset:
            loaded = source(root, progress)
            if loaded.info.name == name:
                return loaded
            return replace(loaded, info=replace(loaded.info, name=name))

        entry = _Entry(
            info=replace(info, name=name),
            load=load,
            available=is_available or (lambda root: True),
            instruction=lambda root: instruction,
        )
    else:
        raise ValueRiskError(
            f"register_dataset expects a Dataset or a loader function; received "
            f"{type(source).__name__}."
        )

    # Refuse to overwrite a different dataset silently.
    with _LOCK:
        old = _REGISTRY.get(name)
        if old is not None and not replace_existing:
            same = (
                old.dataset is not None
                and entry.dataset is not None
                and old.dataset.fingerprint == entry.dataset.fingerprint
                and old.info == entry.info
            )
            if same:
                return old.info
            raise ValueRiskError(
                f"a different dataset is already registered as {name!r}; choose "
                "another name or pass replace_existing=True."
            )
        _REGISTRY[name] = entry
        for key in [key for key in _CACHE if key[0] == name]:
            del _CACHE[key]
    return entry.info


def list_datasets(*, data_root: Path | None = None) -> list[DatasetStatus]:
    """Every registered dataset and whether it can be loaded, reading no data.

    Args:
        data_root: folder searched for the built-in datasets; default
            :func:`backend.settings.data_root`.

    Returns:
        Built-in datasets first (in ``DATASET_NAMES`` order), then registered ones.
    """
    root = _root(data_root)
    with _LOCK:
        entries = list(_REGISTRY.values())
    statuses = []
    for entry in entries:
        available = bool(entry.available(root))
        instruction = "" if available else entry.instruction(root)
        statuses.append(DatasetStatus(entry.info, available, instruction))
    return statuses


def dataset_info(name: str) -> DatasetInfo:
    """Metadata of a dataset, without loading it.

    A file reference (``csv:/path``, ``folder:/path``) has no metadata apart from its
    content, so for those the file is loaded (and cached).

    Args:
        name: a registry name or a file reference.

    Returns:
        The dataset's metadata.
    """
    reference = _parse_reference(name)
    if reference is not None:
        return _load_reference(*reference).info
    return _entry(name).info


def load_dataset(
    name: str,
    *,
    data_root: Path | None = None,
    progress: Progress | None = None,
) -> Dataset:
    """Load a dataset by name, from the in-process cache when it was loaded before.

    Args:
        name: a registry name (``DATASET_NAMES``, or a registered one such as
            ``csv-0123456789ab``), or a file reference ``csv:/abs/file.csv`` /
            ``folder:/abs/folder`` (see :func:`csv_reference` and
            :func:`folder_reference`).
        data_root: folder holding the built-in datasets; default
            :func:`backend.settings.data_root`.
        progress: optional ``progress(fraction, message)`` callback for long loads
            (decoding CelebA or Tiny ImageNet takes minutes); not called on a cache hit.

    Returns:
        The dataset, shared with other callers: its arrays are read-only.
    """
    # File references load from their own path, cached while the files are unchanged.
    reference = _parse_reference(name)
    if reference is not None:
        return _load_reference(*reference, progress=progress)

    # Registered datasets: in-memory ones directly, the others through the cache.
    entry = _entry(name)
    if entry.dataset is not None:
        return entry.dataset
    root = _root(data_root)
    return _cached((name, str(root)), lambda: entry.load(root, progress))


def clear_dataset_cache() -> None:
    """Forget every loaded dataset kept in memory (registered datasets stay)."""
    with _LOCK:
        _CACHE.clear()


def _root(data_root: Path | None) -> Path:
    return Path(data_root).expanduser() if data_root else settings.data_root()


def _entry(name: str) -> _Entry:
    """The registry entry of ``name``, or an error listing the valid names."""
    with _LOCK:
        entry = _REGISTRY.get(name)
        names = list(_REGISTRY)
    if entry is not None:
        return entry
    hint = ""
    if _CONTENT_NAME_PATTERN.match(name):
        hint = (
            f" A name like {name!r} is registered only in the process that loaded the "
            "data; load it again from its file with 'csv:/abs/path.csv' or "
            "'folder:/abs/path'."
        )
    raise ValueRiskError(
        f"unknown dataset {name!r}. Valid names: {', '.join(names)}; or a file "
        f"reference 'csv:/abs/path.csv' or 'folder:/abs/path'.{hint}"
    )


def _cached(key: tuple[str, ...], build: Callable[[], Dataset]) -> Dataset:
    """Return the cached dataset for ``key``, building it once even across threads.

    A dict guarded by locks rather than ``functools.lru_cache``, so the progress
    callback can reach the loader without becoming part of the key.
    """
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        lock = _LOADING.setdefault(key, threading.Lock())

    # One thread builds; others wait for it and then find the result in the cache.
    with lock:
        with _LOCK:
            if key in _CACHE:
                return _CACHE[key]
        dataset = build()
        with _LOCK:
            _CACHE[key] = dataset
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
            _LOADING.pop(key, None)
    return dataset


def _missing(name: str, expected: str, places: Sequence[Path], how: str) -> None:
    """Raise the error for a built-in dataset whose files were not found."""
    searched = ", ".join(str(place) for place in places)
    raise ValueRiskError(
        f"dataset {name!r} not found: expected {expected} in one of: {searched}. "
        f"To get it: {how}"
    )


def _register_builtin(
    info: DatasetInfo,
    *,
    places: Callable[[Path], list[Path]],
    present: Callable[[Path], bool],
    read: Callable[[Path, Progress | None], Dataset],
    expected: str,
    how: str,
) -> None:
    """Register a built-in dataset read from the first of ``places`` that has its files.

    Args:
        info: metadata.
        places: ``data_root -> folders`` searched in order.
        present: ``folder -> bool``: whether the folder holds the files (no reading).
        read: ``(folder, progress) -> Dataset``.
        expected: the files expected, for the error message.
        how: instruction template; ``{root}`` is replaced by the data root.
    """

    def find(root: Path) -> Path | None:
        return next((place for place in places(root) if present(place)), None)

    def load(root: Path, progress: Progress | None) -> Dataset:
        folder = find(root)
        if folder is None:
            _missing(info.name, expected, places(root), how.format(root=root))
        return read(folder, progress)

    _REGISTRY[info.name] = _Entry(
        info=info,
        load=load,
        available=lambda root: find(root) is not None,
        instruction=lambda root: how.format(root=root),
    )


def _report(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


# -- digits ----------------------------------------------------------------------------

_DIGITS_INFO = DatasetInfo(
    name="digits",
    title="Handwritten digits (8×8)",
    kind="image",
    input_shape=(1, 8, 8),
    num_classes=10,
    class_names=tuple(str(digit) for digit in range(10)),
    attributes=(),
    description=(
        "1,797 greyscale 8×8 digits shipped with scikit-learn (UCI optical "
        "recognition of handwritten digits); needs no download."
    ),
)


def _read_digits(folder: Path, progress: Progress | None) -> Dataset:
    """scikit-learn's digits: 1,797 images, values 0..16 scaled to 0..255."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # (1797, 8, 8) float in 0..16 -> uint8 in 0..255
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    return Dataset.from_arrays(_DIGITS_INFO, images[:, None], bunch.target)


_register_builtin(
    _DIGITS_INFO,
    places=lambda root: [root],
    present=lambda folder: True,
    read=_read_digits,
    expected="nothing",
    how="",
)


# -- Fashion-MNIST ---------------------------------------------------------------------

_FASHION_INFO = DatasetInfo(
    name="fashion-mnist",
    title="Fashion-MNIST (28×28)",
    kind="image",
    input_shape=(1, 28, 28),
    num_classes=10,
    class_names=_FASHION_CLASSES,
    attributes=(),
    description=(
        "70,000 greyscale 28×28 photos of clothing in 10 classes (Zalando); the "
        "60,000 training images come first, then the 10,000 test images."
    ),
)


def _fashion_places(root: Path) -> list[Path]:
    return [
        root / "fashion-mnist",
        root / "FashionMNIST" / "raw",
        FASHION_MNIST_SYSTEM_DIR,
    ]


def _fashion_file(folder: Path, stem: str) -> Path | None:
    """The file ``stem.gz`` or, failing that, the uncompressed ``stem``."""
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzipped or not) with ``ndim`` dimensions.

    The format: two zero bytes, the type code 0x08 (unsigned byte), the number of
    dimensions, one big-endian uint32 per dimension, then the values in C order.
    """
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                raw = handle.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError) as error:
        raise ValueRiskError(
            f"could not read {path}: {error}. Expected an IDX file (optionally "
            "gzipped); download the file again."
        ) from error

    # Header: magic number, then the sizes.
    header_size = 4 + 4 * ndim
    magic = 0x0800 + ndim
    if len(raw) < header_size or struct.unpack(">I", raw[:4])[0] != magic:
        found = raw[:4].hex() if len(raw) >= 4 else "a file too short for a header"
        raise ValueRiskError(
            f"{path} is not an IDX file of {ndim}-dimensional unsigned bytes: expected "
            f"the magic number {magic:08x}, found {found}. Download the file again."
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])

    # Body: exactly the number of bytes the header announces.
    body = memoryview(raw)[header_size:]
    expected = int(np.prod(shape))
    if len(body) != expected:
        raise ValueRiskError(
            f"{path} is truncated or padded: its header announces shape {shape} "
            f"({expected} bytes) but {len(body)} bytes follow. Download the file again."
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _read_fashion_split(folder: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """One official split: images ``(n, 28, 28)`` and labels ``(n,)``."""
    image_path = _fashion_file(folder, _FASHION_FILES[f"{part}_images"])
    label_path = _fashion_file(folder, _FASHION_FILES[f"{part}_labels"])
    images = _read_idx(image_path, 3)
    labels = _read_idx(label_path, 1)
    if images.shape[1:] != (28, 28):
        raise ValueRiskError(
            f"{image_path} holds images of {images.shape[1]}×{images.shape[2]} pixels; "
            "Fashion-MNIST images are 28×28. Check that the file is Fashion-MNIST."
        )
    if len(images) != len(labels):
        raise ValueRiskError(
            f"{image_path} holds {len(images)} images but {label_path} holds "
            f"{len(labels)} labels; they must match. Download both files again."
        )
    if len(labels) and labels.max() >= 10:
        raise ValueRiskError(
            f"{label_path} holds label {labels.max()}; Fashion-MNIST labels are 0 to 9."
        )
    return images, labels


def _read_fashion(folder: Path, progress: Progress | None) -> Dataset:
    """The four IDX files: training split first, then the test split."""
    _report(progress, 0.0, "reading Fashion-MNIST training images")
    train_x, train_y = _read_fashion_split(folder, "train")
    _report(progress, 0.7, "reading Fashion-MNIST test images")
    test_x, test_y = _read_fashion_split(folder, "test")
    x = np.concatenate([train_x, test_x])[:, None]  # (N, 1, 28, 28)
    y = np.concatenate([train_y, test_y])
    dataset = Dataset.from_arrays(_FASHION_INFO, x, y, official_train_size=len(train_y))
    _report(progress, 1.0, "Fashion-MNIST loaded")
    return dataset


_register_builtin(
    _FASHION_INFO,
    places=_fashion_places,
    present=lambda folder: all(
        _fashion_file(folder, stem) is not None for stem in _FASHION_FILES.values()
    ),
    read=_read_fashion,
    expected="the four IDX files "
    + ", ".join(f"{stem}.gz" for stem in _FASHION_FILES.values()),
    how=(
        "run `apt-get install dataset-fashion-mnist`, or place the four .gz files in "
        "{root}/fashion-mnist/"
    ),
)


# -- CIFAR-10 --------------------------------------------------------------------------

_CIFAR_INFO = DatasetInfo(
    name="cifar10",
    title="CIFAR-10 (32×32)",
    kind="image",
    input_shape=(3, 32, 32),
    num_classes=10,
    class_names=_CIFAR_CLASSES,
    attributes=(),
    description=(
        "60,000 colour 32×32 photos in 10 classes (Krizhevsky, 2009); the 50,000 "
        "training images come first, then the 10,000 test images."
    ),
)


def _cifar_places(root: Path) -> list[Path]:
    return [root / "cifar10" / _CIFAR_FOLDER, root / _CIFAR_FOLDER]


def _read_cifar(folder: Path, progress: Progress | None) -> Dataset:
    """CIFAR-10's python batches, through torchvision when they are the official files.

    torchvision's ``CIFAR10`` checks every batch against the md5 of the official
    release before it unpickles anything, and raises RuntimeError otherwise. Files
    that pass are the published ones, so torchvision's unrestricted unpickling is safe
    on them. Files that do not (re-packed, subsampled or test copies in the same
    format) are read by :func:`_read_cifar_batches`, whose unpickler only rebuilds
    dicts, lists, strings, numbers and numpy arrays.
    """
    from torchvision.datasets import CIFAR10

    _report(progress, 0.0, "reading CIFAR-10 batches")
    try:
        train = CIFAR10(folder.parent, train=True, download=False)
        test = CIFAR10(folder.parent, train=False, download=False)
    except RuntimeError:  # md5 mismatch: not the official files
        x, y, official_train_size, names = _read_cifar_batches(folder)
    else:
        # torchvision keeps (N, H, W, C); ValueRisk stores (N, C, H, W).
        x = np.concatenate([train.data, test.data]).transpose(0, 3, 1, 2)
        y = np.asarray(train.targets + test.targets, dtype=np.int64)
        official_train_size = len(train.targets)
        names = tuple(train.classes)
    info = replace(_CIFAR_INFO, class_names=names)
    dataset = Dataset.from_arrays(
        info, np.ascontiguousarray(x), y, official_train_size=official_train_size
    )
    _report(progress, 1.0, "CIFAR-10 loaded")
    return dataset


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds only plain containers and numpy arrays.

    A CIFAR batch holds a dict of strings, lists of ints and one uint8 array. Any other
    global a pickle asks for (a function to call, a class to build) is refused, so a
    crafted file cannot run code while it is read.
    """

    def find_class(self, module: str, name: str) -> Any:
        reconstruct = np._core.multiarray._reconstruct
        frombuffer = np._core.numeric._frombuffer
        allowed = {
            # numpy 2 pickles name numpy._core; older writers numpy.core.
            ("numpy._core.multiarray", "_reconstruct"): reconstruct,
            ("numpy.core.multiarray", "_reconstruct"): reconstruct,
            ("numpy._core.numeric", "_frombuffer"): frombuffer,
            ("numpy.core.numeric", "_frombuffer"): frombuffer,
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
            # Protocol 2 stores bytes objects as _codecs.encode(text, "latin1").
            ("_codecs", "encode"): _latin1_encode,
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(f"refusing to load the global {module}.{name}")
        return allowed[(module, name)]


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """The one use of ``_codecs.encode`` in protocol-2 pickles: text back to bytes."""
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing to decode with codec {encoding!r}")
    return text.encode("latin1")


def _unpickle_batch(path: Path) -> dict:
    """Read one CIFAR batch file with :class:`_ArrayUnpickler`, keys as ``str``."""
    try:
        with open(path, "rb") as handle:
            content = _ArrayUnpickler(handle, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as error:
        raise ValueRiskError(
            f"could not read CIFAR-10 batch {path}: {error}. Expected a python pickle "
            "of a dict with 'data' (uint8, n×3072) and 'labels'; download "
            "cifar-10-python.tar.gz again and extract it."
        ) from error
    if not isinstance(content, dict):
        raise ValueRiskError(
            f"CIFAR-10 batch {path} holds a {type(content).__name__}, not a dict with "
            "'data' and 'labels'; download cifar-10-python.tar.gz again."
        )
    # Python 2 pickles decode to str keys; files written by Python 3 may use bytes.
    return {
        (key.decode("latin1") if isinstance(key, bytes) else key): value
        for key, value in content.items()
    }


def _read_cifar_batches(
    folder: Path,
) -> tuple[np.ndarray, np.ndarray, int, tuple[str, ...]]:
    """Read the batches with the restricted unpickler.

    Returns:
        Images ``uint8 (N, 3, 32, 32)``, labels ``int64 (N,)``, the number of training
        images (they come first) and the class names.
    """
    images, labels = [], []
    for file_name in _CIFAR_TRAIN_FILES + _CIFAR_TEST_FILES:
        path = folder / file_name
        batch = _unpickle_batch(path)
        data, batch_labels = batch.get("data"), batch.get("labels")
        if data is None or batch_labels is None:
            raise ValueRiskError(
                f"CIFAR-10 batch {path} lacks the key 'data' or 'labels' (found "
                f"{sorted(map(str, batch))}); download cifar-10-python.tar.gz again."
            )
        data = np.asarray(data)
        batch_labels = np.asarray(batch_labels)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise ValueRiskError(
                f"CIFAR-10 batch {path}: 'data' must be uint8 of shape (n, 3072); "
                f"received {data.dtype} of shape {data.shape}."
            )
        if batch_labels.shape != (len(data),) or not np.issubdtype(
            batch_labels.dtype, np.integer
        ):
            raise ValueRiskError(
                f"CIFAR-10 batch {path}: 'labels' must be {len(data)} integers, one "
                f"per image; received {batch_labels.dtype} of shape "
                f"{batch_labels.shape}."
            )
        if len(batch_labels) and (batch_labels.min() < 0 or batch_labels.max() > 9):
            raise ValueRiskError(
                f"CIFAR-10 batch {path}: labels must lie in 0..9; received "
                f"{batch_labels.min()} to {batch_labels.max()}."
            )
        # Each row is 1024 red, then 1024 green, then 1024 blue values, row-major.
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(batch_labels.astype(np.int64))
    official_train_size = sum(len(part) for part in labels[: len(_CIFAR_TRAIN_FILES)])
    names = _read_cifar_names(folder / _CIFAR_META_FILE)
    return np.concatenate(images), np.concatenate(labels), official_train_size, names


def _read_cifar_names(path: Path) -> tuple[str, ...]:
    """The ten class names from ``batches.meta``."""
    meta = _unpickle_batch(path)
    names = meta.get("label_names")
    if not isinstance(names, list) or len(names) != 10:
        raise ValueRiskError(
            f"CIFAR-10 metadata {path} must hold 'label_names', a list of 10 names; "
            f"received {names!r:.80}."
        )
    return tuple(n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names)


_register_builtin(
    _CIFAR_INFO,
    places=_cifar_places,
    present=lambda folder: all(
        (folder / file).is_file()
        for file in _CIFAR_TRAIN_FILES + _CIFAR_TEST_FILES + (_CIFAR_META_FILE,)
    ),
    read=_read_cifar,
    expected=(
        "the folder cifar-10-batches-py (data_batch_1..5, test_batch, batches.meta)"
    ),
    how=(
        "download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html"
        " and extract it into {root}/cifar10/"
    ),
)


# -- CelebA ----------------------------------------------------------------------------


def _celeba_class_names() -> tuple[str, ...]:
    """Names of the 8 classes ``4·Heavy_Makeup + 2·Mouth_Slightly_Open + Smiling``."""
    names = []
    for label in range(8):
        makeup, mouth, smile = (label >> 2) & 1, (label >> 1) & 1, label & 1
        names.append(
            ("makeup" if makeup else "no makeup")
            + (", mouth open" if mouth else ", mouth closed")
            + (", smiling" if smile else ", not smiling")
        )
    return tuple(names)


def _celeba_info(image_size: int) -> DatasetInfo:
    return DatasetInfo(
        name="celeba",
        title=f"CelebA faces ({image_size}×{image_size})",
        kind="image",
        input_shape=(3, image_size, image_size),
        num_classes=8,
        class_names=_celeba_class_names(),
        attributes=_CELEBA_ATTRIBUTES,
        description=(
            "202,599 aligned celebrity faces (Liu et al., 2015), centre-cropped and "
            f"resized to {image_size}×{image_size}. The class combines three of the 40 "
            "binary attributes: 4·Heavy_Makeup + 2·Mouth_Slightly_Open + Smiling; all "
            "40 are kept as attributes. Official training split first, then "
            "validation, then test."
        ),
    )


def _celeba_present(folder: Path) -> bool:
    return (
        (folder / "img_align_celeba").is_dir()
        and (folder / "list_attr_celeba.txt").is_file()
        and (folder / "list_eval_partition.txt").is_file()
    )


def load_celeba(
    data_root: Path | None = None,
    *,
    image_size: int = CELEBA_IMAGE_SIZE,
    progress: Progress | None = None,
) -> Dataset:
    """Load CelebA from ``<data_root>/celeba`` at a chosen image size (not cached).

    ``load_dataset("celeba")`` is this at the default size, cached. Another size can be
    registered under its own name, for example
    ``register_dataset("celeba-32", lambda root, p: load_celeba(root, image_size=32,
    progress=p), info=dataset_info("celeba"))`` (after adjusting ``input_shape``).

    Args:
        data_root: the data root; default :func:`backend.settings.data_root`.
        image_size: side of the square images, default ``CELEBA_IMAGE_SIZE`` (64).
        progress: optional ``progress(fraction, message)`` callback.

    Returns:
        ``uint8 (202599, 3, image_size, image_size)`` images for the full release.
    """
    if not isinstance(image_size, int) or image_size < 1:
        raise ValueRiskError(
            f"CelebA image_size must be a positive integer; received {image_size!r}."
        )
    root = _root(data_root)
    folder = root / "celeba"
    if not _celeba_present(folder):
        _missing("celeba", _CELEBA_EXPECTED, [folder], _CELEBA_HOW.format(root=root))
    return _read_celeba(folder, progress, image_size=image_size)


def _read_celeba(
    folder: Path, progress: Progress | None, *, image_size: int = CELEBA_IMAGE_SIZE
) -> Dataset:
    """Attributes, partition and images of CelebA, pooled train, validation, test."""
    # Attribute table: through torchvision when its md5 checks pass, else our parser.
    # torchvision's CelebA reads text files only, so the fallback is about its checks:
    # they require the official text files, which a subset or a test copy are not.
    from torchvision.datasets import CelebA

    _report(progress, 0.0, "reading CelebA attributes")
    try:
        official = CelebA(
            folder.parent, split="all", target_type="attr", download=False
        )
    except RuntimeError:  # md5 mismatch or files missing: not the official release
        files, attr, names = _parse_celeba_attributes(folder / "list_attr_celeba.txt")
    else:
        files = list(official.filename)
        attr = official.attr.numpy().astype(np.int8)
        names = tuple(name for name in official.attr_names if name)
    partition = _parse_celeba_partition(folder / "list_eval_partition.txt", files)

    # Labels from the three task attributes.
    lacking = [name for name in CELEBA_TASK_ATTRIBUTES if name not in names]
    if lacking:
        raise ValueRiskError(
            f"{folder / 'list_attr_celeba.txt'} lacks the attribute(s) {lacking} that "
            f"define the CelebA task; found {list(names)}."
        )
    makeup, mouth, smile = (attr[:, names.index(n)] for n in CELEBA_TASK_ATTRIBUTES)
    y = 4 * makeup.astype(np.int64) + 2 * mouth + smile

    # Pool the official splits in order: train (0), validation (1), test (2).
    order = np.argsort(partition, kind="stable")
    paths = [folder / "img_align_celeba" / files[i] for i in order]
    x = _decode_images(
        paths,
        mode="RGB",
        square=image_size,
        progress=progress,
        start=0.05,
        message="decoding CelebA images",
    )
    info = replace(_celeba_info(image_size), attributes=names)
    attributes = pd.DataFrame(attr[order], columns=list(names))
    dataset = Dataset.from_arrays(
        info,
        x,
        y[order],
        attributes,
        official_train_size=int((partition == 0).sum()),
    )
    _report(progress, 1.0, "CelebA loaded")
    return dataset


def _parse_celeba_attributes(
    path: Path,
) -> tuple[list[str], np.ndarray, tuple[str, ...]]:
    """``list_attr_celeba.txt``: a count line, a header line, then ``file ±1 ±1 ...``.

    Returns:
        File names, ``int8 (n, n_attributes)`` values in {0, 1}, attribute names.
    """
    try:
        with open(path) as handle:
            count_line = handle.readline()
            names = tuple(handle.readline().split())
        table = pd.read_csv(path, sep=r"\s+", skiprows=2, header=None, dtype=str)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise ValueRiskError(
            f"could not read {path}: {error}. Expected the CelebA attribute list "
            "(a count line, a header of attribute names, then one line per image)."
        ) from error
    except pd.errors.EmptyDataError:
        table = pd.DataFrame()
    if not count_line.strip().isdigit() or not names:
        raise ValueRiskError(
            f"{path}: the first line must be the number of images and the second the "
            "attribute names; download list_attr_celeba.txt again."
        )
    if table.shape[1] != len(names) + 1 or len(table) != int(count_line):
        raise ValueRiskError(
            f"{path}: expected {int(count_line)} rows of a file name and "
            f"{len(names)} values; found {len(table)} rows of {table.shape[1]} fields."
        )
    values = table.iloc[:, 1:].to_numpy()
    if not np.isin(values, ["-1", "1"]).all():
        raise ValueRiskError(
            f"{path}: attribute values must be -1 or 1; found "
            f"{sorted(set(values.ravel()) - {'-1', '1'})[:5]}."
        )
    attr = (values == "1").astype(np.int8)  # {-1, 1} -> {0, 1}
    return table.iloc[:, 0].tolist(), attr, names


def _parse_celeba_partition(path: Path, files: list[str]) -> np.ndarray:
    """``list_eval_partition.txt`` (``file 0|1|2``) aligned with ``files``."""
    try:
        table = pd.read_csv(path, sep=r"\s+", header=None, dtype=str)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise ValueRiskError(
            f"could not read {path}: {error}. Expected lines 'image.jpg 0|1|2'."
        ) from error
    except pd.errors.EmptyDataError:
        table = pd.DataFrame(columns=[0, 1])
    if table.shape[1] != 2 or not table[1].isin(["0", "1", "2"]).all():
        raise ValueRiskError(
            f"{path}: expected lines 'image.jpg 0|1|2' (0 train, 1 validation, 2 test)."
        )
    split_of = dict(zip(table[0], table[1].astype(np.int64), strict=True))
    unlisted = [name for name in files if name not in split_of]
    if unlisted:
        raise ValueRiskError(
            f"{path} does not list {len(unlisted)} image(s) of the attribute file, "
            f"such as {unlisted[:3]}; the two lists must name the same images."
        )
    return np.array([split_of[name] for name in files], dtype=np.int64)


_CELEBA_EXPECTED = (
    "img_align_celeba/*.jpg, list_attr_celeba.txt and list_eval_partition.txt"
)
_CELEBA_HOW = (
    "download the aligned CelebA images and annotation files from "
    "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html into {root}/celeba/"
)

_register_builtin(
    _celeba_info(CELEBA_IMAGE_SIZE),
    places=lambda root: [root / "celeba"],
    present=_celeba_present,
    read=_read_celeba,
    expected=_CELEBA_EXPECTED,
    how=_CELEBA_HOW,
)


# -- Tiny ImageNet ---------------------------------------------------------------------

_TINY_INFO = DatasetInfo(
    name="tinyimagenet",
    title="Tiny ImageNet (64×64)",
    kind="image",
    input_shape=(3, _TINY_SIZE, _TINY_SIZE),
    num_classes=200,
    class_names=(),  # read from wnids.txt and words.txt when loaded
    attributes=(),
    description=(
        "110,000 colour 64×64 images of 200 ImageNet classes (Stanford CS231n): the "
        "100,000 training images first, then the 10,000 labelled validation images."
    ),
)


def _tiny_present(folder: Path) -> bool:
    return (
        (folder / "wnids.txt").is_file()
        and (folder / "train").is_dir()
        and (folder / "val" / "val_annotations.txt").is_file()
    )


def _read_tiny(folder: Path, progress: Progress | None) -> Dataset:
    """Training images (torchvision's ImageFolder), then the labelled validation set."""
    from torchvision.datasets import ImageFolder

    # Classes: the training sub-folders, which must be the ids listed in wnids.txt.
    _report(progress, 0.0, "listing Tiny ImageNet images")
    wnids = _read_lines(folder / "wnids.txt")
    try:
        train = ImageFolder(folder / "train")
    except (FileNotFoundError, OSError) as error:
        raise ValueRiskError(
            f"could not list the Tiny ImageNet training images in {folder / 'train'}: "
            f"{error}. Expected train/<wnid>/images/*.JPEG for every id in wnids.txt."
        ) from error
    if sorted(train.classes) != sorted(set(wnids)):
        extra = sorted(set(train.classes) - set(wnids))[:5]
        absent = sorted(set(wnids) - set(train.classes))[:5]
        raise ValueRiskError(
            f"{folder / 'train'} and {folder / 'wnids.txt'} disagree: folders not in "
            f"wnids.txt: {extra}; ids without a folder: {absent}."
        )
    class_to_idx = train.class_to_idx

    # Validation: val/images/<file> with its id in val_annotations.txt.
    val_paths, val_labels = [], []
    annotations = folder / "val" / "val_annotations.txt"
    for number, line in enumerate(_read_lines(annotations), start=1):
        fields = line.split("\t")
        if len(fields) < 2 or fields[1] not in class_to_idx:
            raise ValueRiskError(
                f"{annotations}, line {number}: expected '<file>\\t<wnid>\\t...' "
                f"with a wnid from wnids.txt; received {line!r:.80}."
            )
        val_paths.append(folder / "val" / "images" / fields[0])
        val_labels.append(class_to_idx[fields[1]])

    # Pixels: training images first, then validation; all must be 64×64.
    paths = [Path(path) for path, _ in train.samples] + val_paths
    x = _decode_images(
        paths,
        mode="RGB",
        expect_size=(_TINY_SIZE, _TINY_SIZE),
        progress=progress,
        start=0.05,
        message="decoding Tiny ImageNet images",
    )
    y = np.array(train.targets + val_labels, dtype=np.int64)
    names = _tiny_class_names(folder / "words.txt", train.classes)
    info = replace(_TINY_INFO, num_classes=len(names), class_names=names)
    dataset = Dataset.from_arrays(info, x, y, official_train_size=len(train.samples))
    _report(progress, 1.0, "Tiny ImageNet loaded")
    return dataset


def _tiny_class_names(words: Path, wnids: list[str]) -> tuple[str, ...]:
    """Each id's first name in ``words.txt`` (``wnid<TAB>name, name``), else the id."""
    wanted = set(wnids)
    found: dict[str, str] = {}
    if words.is_file():
        for line in _read_lines(words):
            wnid, _, text = line.partition("\t")
            if wnid in wanted and text.strip():
                found[wnid] = text.split(",")[0].strip()
    return tuple(found.get(wnid, wnid) for wnid in wnids)


def _read_lines(path: Path) -> list[str]:
    """Non-empty lines of a text file, stripped of surrounding white space."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueRiskError(
            f"could not read {path}: {error}. Expected a UTF-8 text file."
        ) from error
    return [line.strip() for line in text.splitlines() if line.strip()]


_register_builtin(
    _TINY_INFO,
    places=lambda root: [root / _TINY_FOLDER, root / "tinyimagenet" / _TINY_FOLDER],
    present=_tiny_present,
    read=_read_tiny,
    expected="the folder tiny-imagenet-200 (wnids.txt, words.txt, train/, val/)",
    how=(
        "download tiny-imagenet-200.zip from http://cs231n.stanford.edu/ and unzip it "
        "into {root}/"
    ),
)


# -- Purchase100 -----------------------------------------------------------------------

_PURCHASE_INFO = DatasetInfo(
    name="purchase100",
    title="Purchase100 (600 binary features)",
    kind="tabular",
    input_shape=(_PURCHASE_FEATURES,),
    num_classes=_PURCHASE_CLASSES,
    class_names=tuple(f"class {i}" for i in range(_PURCHASE_CLASSES)),
    attributes=(),
    description=(
        "197,324 shoppers' purchase histories over 600 products, clustered into 100 "
        "classes (Shokri et al., 2017, from Kaggle's Acquire Valued Shoppers)."
    ),
)


def _purchase_present(folder: Path) -> bool:
    npz, csv = folder / "purchase100.npz", folder / "dataset_purchase"
    return npz.is_file() or csv.is_file()


def _read_purchase(folder: Path, progress: Progress | None) -> Dataset:
    """``purchase100.npz`` when present, else the original CSV ``dataset_purchase``."""
    _report(progress, 0.0, "reading Purchase100")
    npz = folder / "purchase100.npz"
    if npz.is_file():
        features, labels = _read_purchase_npz(npz)
        path = npz
    else:
        path = folder / "dataset_purchase"
        features, labels = _read_purchase_csv(path)

    # Features: (N, 600) finite numbers, one label per row.
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[1] != _PURCHASE_FEATURES:
        raise ValueRiskError(
            f"{path}: Purchase100 features must have shape (n, {_PURCHASE_FEATURES}); "
            f"received {features.shape}."
        )
    if not (np.issubdtype(features.dtype, np.number) or features.dtype == bool):
        raise ValueRiskError(
            f"{path}: features must be numbers; received dtype {features.dtype}."
        )
    x = features.astype(np.float32)
    if not np.isfinite(x).all():
        raise ValueRiskError(f"{path}: features hold NaN or infinite values.")
    y = _normalise_labels(labels, _PURCHASE_CLASSES, path)
    if len(y) != len(x):
        raise ValueRiskError(
            f"{path}: {len(x)} feature rows but {len(y)} labels; they must match."
        )
    dataset = Dataset.from_arrays(_PURCHASE_INFO, x, y)
    _report(progress, 1.0, "Purchase100 loaded")
    return dataset


def _read_purchase_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels from an ``.npz`` archive, never unpickling objects."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = set(archive.files)
            for feature_key, label_key in _PURCHASE_NPZ_KEYS:
                if {feature_key, label_key} <= keys:
                    return archive[feature_key], archive[label_key]
    except (OSError, ValueError, EOFError) as error:
        # allow_pickle=False raises ValueError for arrays of Python objects.
        raise ValueRiskError(
            f"could not read {path}: {error}. Expected a numpy .npz archive of "
            "numeric arrays (object arrays are refused); save it with np.savez."
        ) from error
    pairs = " or ".join(f"{f!r}/{label!r}" for f, label in _PURCHASE_NPZ_KEYS)
    raise ValueRiskError(
        f"{path} holds the arrays {sorted(keys)}; expected features and labels under "
        f"the keys {pairs}."
    )


def _read_purchase_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The original layout: comma-separated, label 1..100 first, then 600 features."""
    try:
        table = pd.read_csv(path, header=None, dtype=np.float32)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        # dtype=float32 turns any non-numeric field into a ValueError.
        raise ValueRiskError(
            f"could not read {path}: {error}. Expected comma-separated numbers: the "
            f"label (1 to 100), then {_PURCHASE_FEATURES} binary features per line."
        ) from error
    values = table.to_numpy()
    return values[:, 1:], values[:, 0]


def _normalise_labels(labels: np.ndarray, num_classes: int, path: Path) -> np.ndarray:
    """Labels as ``int64`` in ``[0, num_classes)`` from one-hot, 0-based or 1-based.

    One-hot rows (``(n, num_classes)`` of 0/1 with one 1) become their column. Integer
    labels whose largest value equals ``num_classes`` are read as 1-based.
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]

    # One-hot: exactly one 1 per row.
    if labels.ndim == 2:
        one_hot = (
            labels.shape[1] == num_classes
            and np.isin(labels, (0, 1)).all()
            and (labels.sum(axis=1) == 1).all()
        )
        if not one_hot:
            raise ValueRiskError(
                f"{path}: two-dimensional labels must be one-hot of shape (n, "
                f"{num_classes}); received shape {labels.shape}."
            )
        return labels.argmax(axis=1).astype(np.int64)

    # Integers (possibly stored as floats), 0-based or 1-based.
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.number):
        raise ValueRiskError(
            f"{path}: labels must be integers of shape (n,) or one-hot (n, "
            f"{num_classes}); received {labels.dtype} of shape {labels.shape}."
        )
    if not len(labels):
        return labels.astype(np.int64)
    if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
        raise ValueRiskError(f"{path}: labels must be whole numbers.")
    y = labels.astype(np.int64)
    low, high = int(y.min()), int(y.max())
    if low >= 1 and high == num_classes:
        return y - 1
    if low >= 0 and high < num_classes:
        return y
    raise ValueRiskError(
        f"{path}: labels run from {low} to {high}; expected 0 to {num_classes - 1} "
        f"or 1 to {num_classes}."
    )


_register_builtin(
    _PURCHASE_INFO,
    places=lambda root: [root / "purchase100"],
    present=_purchase_present,
    read=_read_purchase,
    expected="purchase100.npz (features/labels or X/Y) or the CSV dataset_purchase",
    how=(
        "place purchase100.npz, or the original CSV dataset_purchase (label, then "
        "600 binary features per line), in {root}/purchase100/"
    ),
)


# -- images ----------------------------------------------------------------------------


def _open_image(path: Path, mode: str, draft: tuple[int, int] | None = None) -> Any:
    """Open and decode one image file in ``mode``, or name the file in the error."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if draft is not None:
                image.draft(mode, draft)  # JPEG: decode at a reduced scale, faster
            return image.convert(mode)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueRiskError(
            f"could not read image {path}: {error}. Expected a readable image file "
            "(PNG, JPEG, ...); replace or remove it."
        ) from error


def _decode_images(
    paths: Sequence[Path],
    *,
    mode: str,
    square: int | None = None,
    expect_size: tuple[int, int] | None = None,
    progress: Progress | None = None,
    start: float = 0.0,
    message: str = "decoding images",
) -> np.ndarray:
    """Decode image files into one ``uint8 (N, C, H, W)`` array.

    Args:
        paths: image files, in the order of the output rows.
        mode: ``"L"`` (one channel) or ``"RGB"`` (three).
        square: when set, centre-crop each image to a square and resize it to
            ``square × square``.
        expect_size: when set (and ``square`` is not), every image must be this
            ``(width, height)``.
        progress: optional callback, reported from ``start`` to 0.95.
        start: fraction reported before the first image.
        message: progress message.

    Returns:
        The images; with neither ``square`` nor ``expect_size`` they must all share the
        first image's size.
    """
    from PIL import Image

    channels = 1 if mode == "L" else 3
    x: np.ndarray | None = None
    step = max(1, len(paths) // 100)
    for i, path in enumerate(paths):
        # Decode, crop and resize one image.
        image = _open_image(path, mode, draft=(square, square) if square else None)
        if square is not None:
            width, height = image.size
            side = min(width, height)
            left, top = (width - side) // 2, (height - side) // 2
            image = image.crop((left, top, left + side, top + side)).resize(
                (square, square), Image.Resampling.BILINEAR
            )
        if x is None:
            width, height = expect_size or image.size
            x = np.empty((len(paths), channels, height, width), dtype=np.uint8)
        if image.size != (x.shape[3], x.shape[2]):
            raise ValueRiskError(
                f"image {path} is {image.size[0]}×{image.size[1]} pixels; expected "
                f"{x.shape[3]}×{x.shape[2]} like the other images."
            )

        # Store it channels-first: (H, W) or (H, W, C) -> (C, H, W).
        pixels = np.asarray(image, dtype=np.uint8)
        x[i] = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
        if i % step == 0:
            _report(progress, start + (0.95 - start) * i / len(paths), message)
    if x is None:
        return np.empty((0, channels, *(expect_size or (0, 0))), dtype=np.uint8)
    return x


# -- the user's own data ---------------------------------------------------------------


def folder_reference(path: Path | str) -> str:
    """The name :func:`load_dataset` accepts for an image folder in any process.

    Args:
        path: the folder holding one sub-folder per class.

    Returns:
        ``"folder:/absolute/path"``.
    """
    return f"folder:{Path(path).expanduser().resolve()}"


def csv_reference(
    path: Path | str,
    *,
    label_column: str = "label",
    attribute_columns: Sequence[str] = (),
) -> str:
    """The name :func:`load_dataset` accepts for a CSV file in any process.

    Args:
        path: the CSV file.
        label_column: name of the label column, default ``"label"``.
        attribute_columns: names of attribute columns, default none.

    Returns:
        ``"csv:/absolute/path.csv"``, followed by
        ``#label=<column>&attributes=<a>,<b>`` when the options differ from the
        defaults.
    """
    reference = f"csv:{Path(path).expanduser().resolve()}"
    options = {}
    if label_column != "label":
        options["label"] = label_column
    if attribute_columns:
        options["attributes"] = ",".join(attribute_columns)
    if options:
        reference += "#" + urlencode(options, quote_via=quote)
    return reference


def _parse_reference(name: str) -> tuple[str, Path, dict] | None:
    """``("csv" | "folder", path, options)`` for a file reference, None otherwise."""
    kind, colon, rest = name.partition(":")
    if not colon or kind not in _REFERENCE_KINDS or not rest:
        return None
    options: dict[str, Any] = {}
    if kind == "csv" and "#" in rest:
        path_text, _, option_text = rest.rpartition("#")
        pairs = dict(parse_qsl(option_text, keep_blank_values=True))
        if pairs and set(pairs) <= {"label", "attributes"}:
            rest = path_text
            if "label" in pairs:
                options["label_column"] = pairs["label"]
            if pairs.get("attributes"):
                options["attribute_columns"] = tuple(pairs["attributes"].split(","))
    return kind, Path(rest).expanduser().resolve(), options


def _load_reference(
    kind: str, path: Path, options: dict, progress: Progress | None = None
) -> Dataset:
    """Load a ``csv:`` / ``folder:`` reference, cached while its files are unchanged."""
    key = (f"{kind}:{path}", json.dumps(options, sort_keys=True), _stat_signature(path))
    if kind == "csv":
        return _cached(key, lambda: load_csv(path, **options))
    return _cached(key, lambda: load_image_folder(path, progress=progress))


def _stat_signature(path: Path) -> str:
    """A digest of the names, sizes and modification times of the files under path."""
    digest = hashlib.sha256()
    if path.is_file():
        stat = path.stat()
        digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    elif path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.is_file():
                stat = file.stat()
                digest.update(f"{file}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def _content_name(prefix: str, dataset: Dataset) -> str:
    """``<prefix>-<12 hex>`` from the data, class names and attribute table."""
    digest = hashlib.sha256(dataset.fingerprint.encode())
    digest.update(json.dumps(dataset.info.class_names).encode())
    if dataset.attributes is not None:
        digest.update(json.dumps(list(dataset.attributes.columns)).encode())
        digest.update(np.ascontiguousarray(dataset.attributes.to_numpy()).data)
    return f"{prefix}-{digest.hexdigest()[:12]}"


def _check_class_counts(
    y: np.ndarray, class_names: Sequence[str], source: Path
) -> None:
    """At least ``MIN_CLASSES`` classes, each with ``MIN_SAMPLES_PER_CLASS`` samples."""
    if len(class_names) < MIN_CLASSES:
        raise ValueRiskError(
            f"{source} holds {len(class_names)} class(es) {list(class_names)}; at "
            f"least {MIN_CLASSES} are needed. Add samples of another class."
        )
    counts = np.bincount(y, minlength=len(class_names))
    small = [
        f"{name!r} ({count})"
        for name, count in zip(class_names, counts, strict=True)
        if count < MIN_SAMPLES_PER_CLASS
    ]
    if small:
        raise ValueRiskError(
            f"{source}: every class needs at least {MIN_SAMPLES_PER_CLASS} samples; "
            f"these have fewer: {', '.join(small)}. Add samples or remove the class."
        )


def _register_content(prefix: str, dataset: Dataset, register: bool) -> Dataset:
    """Name the dataset by its content and, if asked, add it to the registry."""
    name = _content_name(prefix, dataset)
    dataset = replace(dataset, info=replace(dataset.info, name=name))
    if register:
        register_dataset(name, dataset, replace_existing=True)
    return dataset


def load_image_folder(
    path: Path | str,
    *,
    register: bool = True,
    progress: Progress | None = None,
) -> Dataset:
    """Load the user's images: one sub-folder per class, named after the class.

    Files whose names end in one of ``IMAGE_EXTENSIONS`` are read; other files and
    hidden entries are ignored. All images must share one size. They are stored in one
    channel when every image is greyscale, else in RGB.

    Args:
        path: the folder, holding ``<class name>/<image file>``.
        register: add the result to the registry under ``folder-<hash>``, default True.
        progress: optional ``progress(fraction, message)`` callback.

    Returns:
        ``uint8 (N, C, H, W)`` images, classes numbered in sorted folder-name order.
    """
    from PIL import Image

    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise ValueRiskError(
            f"image folder {root} does not exist or is not a folder; expected a folder "
            "with one sub-folder of images per class."
        )

    # Classes: the visible sub-folders; samples: their image files.
    class_dirs = sorted(
        d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")
    )
    files, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        for file in sorted(class_dir.iterdir()):
            if file.is_file() and not file.name.startswith("."):
                if file.suffix.lower() in IMAGE_EXTENSIONS:
                    files.append(file)
                    labels.append(label)
    class_names = tuple(d.name for d in class_dirs)
    y = np.array(labels, dtype=np.int64)
    _check_class_counts(y, class_names, root)

    # Headers only: a common mode and a common size.
    sizes: dict[tuple[int, int], list[Path]] = {}
    gray = True
    for file in files:
        try:
            with Image.open(file) as image:
                sizes.setdefault(image.size, []).append(file)
                gray = gray and image.mode in _GRAY_MODES
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise ValueRiskError(
                f"could not read image {file}: {error}. Expected a readable image file "
                "(PNG, JPEG, ...); replace or remove it."
            ) from error
    if len(sizes) > 1:
        found = "; ".join(
            f"{w}×{h}: {len(group)} image(s), e.g. {group[0]}"
            for (w, h), group in sorted(sizes.items(), key=lambda kv: -len(kv[1]))
        )
        raise ValueRiskError(
            f"images in {root} must all have the same size; found {found}. Resize "
            "them to one size."
        )

    # Pixels.
    x = _decode_images(
        files, mode="L" if gray else "RGB", progress=progress, message="reading images"
    )
    info = DatasetInfo(
        name="folder",
        title=f"Image folder {root.name}",
        kind="image",
        input_shape=tuple(x.shape[1:]),
        num_classes=len(class_names),
        class_names=class_names,
        attributes=(),
        description=f"{len(y)} images in {len(class_names)} classes from {root}.",
        source=folder_reference(root),
    )
    dataset = _register_content("folder", Dataset.from_arrays(info, x, y), register)
    _report(progress, 1.0, "images loaded")
    return dataset


def load_csv(
    path: Path | str,
    *,
    label_column: str = "label",
    attribute_columns: Sequence[str] = (),
    register: bool = True,
) -> Dataset:
    """Load the user's table: one row per sample, a label column, numeric features.

    Every column other than the label and the declared attribute columns is a feature
    and must be numeric (booleans count as 0/1).

    Args:
        path: a comma-separated file with a header row.
        label_column: the column holding the class, default ``"label"``; any values
            (numbers or text), classes numbered in sorted order.
        attribute_columns: columns kept as attributes (integers or booleans), not used
            as features; default none.
        register: add the result to the registry under ``csv-<hash>``, default True.

    Returns:
        ``float32 (N, D)`` features with their labels and attributes.
    """
    file = Path(path).expanduser().resolve()
    attribute_columns = tuple(attribute_columns)
    table = _read_user_csv(file)

    # Columns: the label, declared attributes, and the rest as features.
    columns = [str(c) for c in table.columns]
    table.columns = columns
    absent = [c for c in (label_column, *attribute_columns) if c not in columns]
    if absent:
        raise ValueRiskError(
            f"{file} has no column(s) {absent}; its columns are {columns}. Name the "
            "label column with label_column= and attributes with attribute_columns=."
        )
    if label_column in attribute_columns:
        raise ValueRiskError(
            f"column {label_column!r} cannot be both the label and an attribute."
        )
    not_features = {label_column, *attribute_columns}
    feature_columns = [c for c in columns if c not in not_features]
    if not feature_columns:
        raise ValueRiskError(
            f"{file} has no feature columns: every column is the label or an attribute."
        )

    # Features and labels, then the attribute table.
    x = _csv_features(table[feature_columns], file)
    y, class_names = _csv_labels(table[label_column], file)
    _check_class_counts(y, class_names, file)
    attributes = _csv_attributes(table[list(attribute_columns)], file)

    info = DatasetInfo(
        name="csv",
        title=f"Table {file.name}",
        kind="tabular",
        input_shape=(x.shape[1],),
        num_classes=len(class_names),
        class_names=class_names,
        attributes=attribute_columns,
        description=(
            f"{len(y)} rows, {x.shape[1]} features and {len(class_names)} classes "
            f"(column {label_column!r}) from {file}."
        ),
        source=csv_reference(
            file, label_column=label_column, attribute_columns=attribute_columns
        ),
    )
    dataset = Dataset.from_arrays(info, x, y, attributes)
    return _register_content("csv", dataset, register)


def _read_user_csv(file: Path) -> pd.DataFrame:
    """Parse a CSV file with a header row, naming the file in any error."""
    if not file.is_file():
        raise ValueRiskError(f"CSV file {file} does not exist.")
    try:
        table = pd.read_csv(file)
    except pd.errors.EmptyDataError as error:
        raise ValueRiskError(f"CSV file {file} is empty.") from error
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise ValueRiskError(
            f"could not parse CSV file {file}: {error}. Expected comma-separated "
            "values with a header row of column names, in UTF-8."
        ) from error
    if table.empty:
        raise ValueRiskError(f"CSV file {file} has a header but no rows.")
    return table


def _csv_features(table: pd.DataFrame, file: Path) -> np.ndarray:
    """Feature columns as ``float32 (N, D)``: numeric or boolean, no missing values."""
    for column in table.columns:
        values = table[column]
        if not (
            pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
        ):
            bad = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()]
            example = bad.iloc[0] if len(bad) else values.iloc[0]
            raise ValueRiskError(
                f"{file}: feature column {column!r} is not numeric (for example "
                f"{example!r} in row {bad.index[0] + 1 if len(bad) else 1}). Every "
                "column except the label and the attributes must hold numbers; declare "
                "it with attribute_columns= or remove it."
            )
        if values.isna().any():
            raise ValueRiskError(
                f"{file}: feature column {column!r} has a missing value in row "
                f"{int(np.flatnonzero(values.isna().to_numpy())[0]) + 1}; fill or "
                "drop the missing values."
            )
    x = table.to_numpy(dtype=np.float32)
    if not np.isfinite(x).all():
        raise ValueRiskError(f"{file}: features hold infinite values.")
    return x


def _csv_labels(values: pd.Series, file: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels numbered by the sorted unique values, and the class names."""
    if values.isna().any():
        raise ValueRiskError(
            f"{file}: label column {values.name!r} has a missing value in row "
            f"{int(np.flatnonzero(values.isna().to_numpy())[0]) + 1}."
        )
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        classes = np.unique(values.to_numpy())
        y = np.searchsorted(classes, values.to_numpy())
        names = tuple(_number_text(c) for c in classes)
    else:
        text = values.astype(str).to_numpy()
        classes = np.unique(text)
        y = np.searchsorted(classes, text)
        names = tuple(str(c) for c in classes)
    return y.astype(np.int64), names


def _number_text(value: Any) -> str:
    """``3.0`` -> ``"3"``, other values as written."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _csv_attributes(table: pd.DataFrame, file: Path) -> pd.DataFrame | None:
    """Attribute columns as integers or booleans; None when none are declared."""
    if table.shape[1] == 0:
        return None
    out = {}
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values):
            out[column] = values.to_numpy()
            continue
        whole = pd.api.types.is_numeric_dtype(values) and values.notna().all()
        whole = whole and bool((values == values.round()).all())
        if not whole:
            raise ValueRiskError(
                f"{file}: attribute column {column!r} must hold whole numbers or "
                f"booleans (no gaps); received dtype {values.dtype}, e.g. "
                f"{values.iloc[0]!r}. Encode categories as integers."
            )
        out[column] = values.to_numpy().astype(np.int64)
    return pd.DataFrame(out)
