"""Tests of backend.datasets: every loader on tiny files written in the real formats."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import re
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from backend import datasets
from backend.datasets import (
    CELEBA_TASK_ATTRIBUTES,
    DATASET_NAMES,
    MIN_SAMPLES_PER_CLASS,
    Dataset,
    DatasetInfo,
    clear_dataset_cache,
    csv_reference,
    dataset_info,
    folder_reference,
    list_datasets,
    load_celeba,
    load_csv,
    load_dataset,
    load_image_folder,
    register_dataset,
)
from backend.errors import ValueRiskError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
CONTENT_NAME = r"^{}-[0-9a-f]{{12}}$"


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch):
    """Each test starts with an empty cache and leaves the registry as it found it."""
    monkeypatch.setattr(datasets, "_REGISTRY", dict(datasets._REGISTRY))
    clear_dataset_cache()
    yield
    clear_dataset_cache()


@pytest.fixture
def root(tmp_path, monkeypatch):
    """An empty data root set as VALUERISK_DATA_ROOT, with no system Fashion-MNIST."""
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("VALUERISK_DATA_ROOT", str(path))
    monkeypatch.setattr(datasets, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "no-system")
    return path


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# -- registry, metadata, availability --------------------------------------------------


def test_list_datasets_reports_missing_data_with_instructions(root):
    statuses = {status.info.name: status for status in list_datasets()}

    # Built-ins come first, in order; datasets other tests registered may follow.
    assert tuple(statuses)[: len(DATASET_NAMES)] == DATASET_NAMES
    assert statuses["digits"].available and statuses["digits"].instruction == ""
    for name in DATASET_NAMES[1:]:
        assert not statuses[name].available, name
        assert str(root) in statuses[name].instruction, name
    assert "apt-get install dataset-fashion-mnist" in (
        statuses["fashion-mnist"].instruction
    )


def test_list_datasets_reads_no_data(root):
    list_datasets()
    assert not datasets._CACHE


def test_dataset_info_without_loading(root):
    info = dataset_info("cifar10")
    assert info.kind == "image" and info.input_shape == (3, 32, 32)
    assert info.class_names[0] == "airplane" and info.num_classes == 10
    celeba = dataset_info("celeba")
    assert celeba.num_classes == 8 and len(celeba.attributes) == 40
    assert set(CELEBA_TASK_ATTRIBUTES) <= set(celeba.attributes)
    assert dataset_info("purchase100").input_shape == (600,)
    assert not datasets._CACHE


def test_unknown_name_lists_valid_names():
    with pytest.raises(
        ValueRiskError, match=r"unknown dataset 'nope'.*digits, fashion"
    ):
        load_dataset("nope")
    with pytest.raises(ValueRiskError, match="unknown dataset"):
        dataset_info("nope")


def test_unknown_content_name_explains_file_references():
    with pytest.raises(ValueRiskError, match="registered only in the process"):
        load_dataset("csv-0123456789ab")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cifar10", r"cifar-10-batches-py.*To get it: download cifar-10-python"),
        ("celeba", r"list_attr_celeba.txt.*To get it: download the aligned CelebA"),
        ("tinyimagenet", r"tiny-imagenet-200.*To get it: download tiny-imagenet"),
        ("purchase100", r"purchase100.npz.*To get it: place purchase100.npz"),
        ("fashion-mnist", r"IDX files.*apt-get install dataset-fashion-mnist"),
    ],
)
def test_missing_data_says_what_where_and_how(root, name, expected):
    with pytest.raises(ValueRiskError, match=f"dataset '{name}' not found: expected"):
        load_dataset(name)
    with pytest.raises(ValueRiskError, match=expected) as caught:
        load_dataset(name)
    assert str(root) in str(caught.value)


def test_register_dataset_in_memory_and_listed(root):
    digits = load_dataset("digits")
    info = register_dataset("my-digits", digits.subset(np.arange(50)))

    assert info.name == "my-digits"
    loaded = load_dataset("my-digits")
    assert len(loaded) == 50 and loaded.info.name == "my-digits"
    assert "my-digits" in [status.info.name for status in list_datasets()]
    # The same content again is accepted; different content is not.
    register_dataset("my-digits", loaded)
    with pytest.raises(ValueRiskError, match="already registered as 'my-digits'"):
        register_dataset("my-digits", digits.subset(np.arange(60)))
    register_dataset("my-digits", digits.subset(np.arange(60)), replace_existing=True)
    assert len(load_dataset("my-digits")) == 60


def test_register_dataset_with_loader(root):
    digits = load_dataset("digits")
    calls = []

    def loader(data_root, progress):
        calls.append(data_root)
        return digits.subset(np.arange(10))

    register_dataset(
        "lazy",
        loader,
        info=digits.info,
        is_available=lambda data_root: (data_root / "flag").exists(),
        instruction="touch flag",
    )
    status = {s.info.name: s for s in list_datasets()}["lazy"]
    assert not status.available and status.instruction == "touch flag"
    assert load_dataset("lazy") is load_dataset("lazy")  # cached
    assert load_dataset("lazy").info.name == "lazy"
    assert calls == [root]


def test_register_dataset_errors():
    digits = load_dataset("digits")
    with pytest.raises(ValueRiskError, match="belongs to a built-in dataset"):
        register_dataset("cifar10", digits)
    with pytest.raises(ValueRiskError, match="is not allowed"):
        register_dataset("Bad Name", digits)
    with pytest.raises(ValueRiskError, match="needs its DatasetInfo"):
        register_dataset("lazy", lambda root, progress: digits)
    with pytest.raises(ValueRiskError, match="expects a Dataset or a loader"):
        register_dataset("thing", 42)


# -- Dataset: fingerprint, features, subset --------------------------------------------


def test_digits_loads_scaled_to_uint8(root):
    data = load_dataset("digits")

    assert data.x.shape == (1797, 1, 8, 8) and data.x.dtype == np.uint8
    assert data.x.min() == 0 and data.x.max() == 255
    assert data.y.dtype == np.int64 and set(np.unique(data.y)) == set(range(10))
    assert data.info.class_names == tuple("0123456789")
    assert data.attributes is None and data.official_train_size is None
    # 16 (the top of scikit-learn's 0..16 scale) maps to 255, 8 to 128.
    from sklearn.datasets import load_digits

    raw = load_digits().images
    assert np.all(data.x[:, 0][raw == 16] == 255)
    assert np.all(data.x[:, 0][raw == 8] == 128)


def test_load_dataset_is_cached_and_read_only(root):
    data = load_dataset("digits")
    assert load_dataset("digits") is data
    with pytest.raises(ValueError, match="read-only"):
        data.x[0, 0, 0, 0] = 1


def test_fingerprint_follows_content():
    data = load_dataset("digits")
    same = Dataset.from_arrays(data.info, data.x.copy(), data.y.copy())
    assert same.fingerprint == data.fingerprint
    assert len(data.fingerprint) == 64

    # One pixel, one label, or the shape changes it.
    x = data.x.copy()
    x[0, 0, 0, 0] ^= 1
    assert Dataset.from_arrays(data.info, x, data.y).fingerprint != data.fingerprint
    y = data.y.copy()
    y[0] = (y[0] + 1) % 10
    assert Dataset.from_arrays(data.info, data.x, y).fingerprint != data.fingerprint
    flat_info = DatasetInfo("flat", "t", "image", (1, 1, 64), 10, (), (), "")
    flat = Dataset.from_arrays(flat_info, data.x.reshape(-1, 1, 1, 64), data.y)
    assert flat.fingerprint != data.fingerprint


def test_features_scale_images_to_unit_interval():
    data = load_dataset("digits")
    features = data.features()
    assert features.dtype == np.float32 and features.shape == data.x.shape
    assert features.min() == 0.0 and features.max() == 1.0
    np.testing.assert_allclose(features, data.x / 255.0, rtol=1e-6)

    index = np.array([5, 0, 5])
    np.testing.assert_array_equal(data.features(index), features[index])


def test_subset_takes_rows_and_recomputes_fingerprint():
    data = load_dataset("digits")
    index = np.array([3, 1, 2])
    part = data.subset(index)

    np.testing.assert_array_equal(part.x, data.x[index])
    np.testing.assert_array_equal(part.y, data.y[index])
    assert part.info == data.info and part.official_train_size is None
    assert (
        part.fingerprint
        == Dataset.from_arrays(data.info, data.x[index], data.y[index]).fingerprint
    )
    assert part.fingerprint != data.fingerprint
    mask = np.zeros(len(data), dtype=bool)
    mask[[1, 2, 3]] = True
    assert len(data.subset(mask)) == 3
    with pytest.raises(ValueRiskError, match="row index out of range"):
        data.subset(np.array([0, len(data)]))
    with pytest.raises(ValueRiskError, match="one-dimensional array of integers"):
        data.subset(np.array([0.5]))


def test_dataset_checks_its_arrays():
    info = DatasetInfo("t", "t", "tabular", (2,), 2, ("a", "b"), (), "")
    x = np.zeros((3, 2), dtype=np.float32)
    with pytest.raises(ValueRiskError, match=r"labels must lie in \[0, 2\)"):
        Dataset.from_arrays(info, x, np.array([0, 1, 2]))
    with pytest.raises(ValueRiskError, match="must be float32 with 2 dimensions"):
        Dataset.from_arrays(info, x.astype(np.float64), np.array([0, 1, 1]))
    with pytest.raises(ValueRiskError, match="labels must be int64"):
        Dataset.from_arrays(info, x, np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueRiskError, match="input_shape"):
        Dataset.from_arrays(info, np.zeros((3, 4), np.float32), np.array([0, 1, 1]))
    with pytest.raises(ValueRiskError, match="official_train_size must lie in"):
        Dataset.from_arrays(info, x, np.array([0, 1, 1]), official_train_size=4)
    with pytest.raises(ValueRiskError, match="no attribute table was given"):
        Dataset.from_arrays(replace(info, attributes=("a",)), x, np.array([0, 1, 1]))
    table = pd.DataFrame({"a": [0.5, 1.0, 0.0]})
    with pytest.raises(ValueRiskError, match="attribute 'a' must hold integers"):
        Dataset.from_arrays(
            replace(info, attributes=("a",)), x, np.zeros(3, np.int64), table
        )
    with pytest.raises(ValueRiskError, match="must have 3 rows and the columns"):
        Dataset.from_arrays(
            replace(info, attributes=("b",)), x, np.zeros(3, np.int64), table
        )
    data = Dataset.from_arrays(info, x, np.array([0, 1, 1]))
    with pytest.raises(
        ValueRiskError, match=r"boolean row mask must have shape \(3,\)"
    ):
        data.features(np.array([True, False]))


# -- Fashion-MNIST ---------------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray, *, compress: bool = True) -> None:
    """An IDX file of unsigned bytes: magic 0x08<ndim>, big-endian sizes, values."""
    header = struct.pack(">I", 0x0800 + array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


def write_fashion(folder: Path, *, n_train=5, n_test=3, compress=True, seed=0):
    rng = np.random.default_rng(seed)
    parts = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(folder / f"{part}-images-idx3-ubyte", images, compress=compress)
        write_idx(folder / f"{part}-labels-idx1-ubyte", labels, compress=compress)
        parts[part] = (images, labels)
    return parts


def test_fashion_mnist_pools_train_then_test(root):
    parts = write_fashion(root / "fashion-mnist")
    reports = []
    data = load_dataset("fashion-mnist", progress=lambda f, m: reports.append(f))

    assert data.x.shape == (8, 1, 28, 28) and data.x.dtype == np.uint8
    np.testing.assert_array_equal(data.x[:5, 0], parts["train"][0])
    np.testing.assert_array_equal(data.x[5:, 0], parts["t10k"][0])
    np.testing.assert_array_equal(
        data.y, np.concatenate([parts["train"][1], parts["t10k"][1]])
    )
    assert data.y.dtype == np.int64 and data.official_train_size == 5
    assert data.info.class_names[0] == "T-shirt/top"
    assert data.info.class_names[9] == "Ankle boot"
    assert reports[-1] == 1.0


def test_fashion_mnist_torchvision_raw_layout_uncompressed(root):
    parts = write_fashion(root / "FashionMNIST" / "raw", compress=False)
    data = load_dataset("fashion-mnist")
    np.testing.assert_array_equal(data.x[-3:, 0], parts["t10k"][0])


def test_fashion_mnist_system_folder_is_found(root, tmp_path, monkeypatch):
    system = tmp_path / "system"
    write_fashion(system)
    monkeypatch.setattr(datasets, "FASHION_MNIST_SYSTEM_DIR", system)
    assert {s.info.name: s.available for s in list_datasets()}["fashion-mnist"]
    assert len(load_dataset("fashion-mnist")) == 8


def test_fashion_mnist_bad_magic_number(root):
    folder = root / "fashion-mnist"
    write_fashion(folder)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros((5, 1), np.uint8))
    with pytest.raises(ValueRiskError, match=r"train-labels.*magic number 00000801"):
        load_dataset("fashion-mnist")


def test_fashion_mnist_truncated_file(root):
    folder = root / "fashion-mnist"
    write_fashion(folder)
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-10]))
    with pytest.raises(ValueRiskError, match=r"t10k-images.*truncated or padded"):
        load_dataset("fashion-mnist")


def test_fashion_mnist_count_mismatch_and_bad_labels(root):
    folder = root / "fashion-mnist"
    write_fashion(folder)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(ValueRiskError, match="holds 5 images but .* 4 labels"):
        load_dataset("fashion-mnist")
    write_idx(folder / "train-labels-idx1-ubyte", np.full(5, 10, np.uint8))
    clear_dataset_cache()
    with pytest.raises(ValueRiskError, match="label 10; Fashion-MNIST labels are 0"):
        load_dataset("fashion-mnist")


def test_fashion_mnist_not_gzip(root):
    folder = root / "fashion-mnist"
    write_fashion(folder)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueRiskError, match=r"could not read .*train-images"):
        load_dataset("fashion-mnist")


@pytest.mark.skipif(
    not (DEBIAN_FASHION / "train-images-idx3-ubyte.gz").is_file(),
    reason="Debian's dataset-fashion-mnist is not installed",
)
def test_debian_fashion_mnist_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("VALUERISK_DATA_ROOT", str(tmp_path))  # only the system copy
    data = load_dataset("fashion-mnist")

    assert data.x.shape == (70_000, 1, 28, 28) and data.x.dtype == np.uint8
    assert data.official_train_size == 60_000
    np.testing.assert_array_equal(np.bincount(data.y), np.full(10, 7_000))
    np.testing.assert_array_equal(np.bincount(data.y[60_000:]), np.full(10, 1_000))


# -- CIFAR-10 --------------------------------------------------------------------------


def write_cifar(folder: Path, *, per_batch=2, bytes_keys=True, seed=0):
    """Batches in the python format: dicts of 'data' (n, 3072) uint8 and 'labels'."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)

    def key(name):
        return name.encode() if bytes_keys else name

    images, labels = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        batch_labels = rng.integers(0, 10, per_batch).tolist()
        batch = {
            key("batch_label"): name,
            key("data"): data,
            key("labels"): batch_labels,
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        images.append(data.reshape(-1, 3, 32, 32))
        labels += batch_labels
    names = [
        "plane",
        "car",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    meta = {key("label_names"): names, key("num_vis"): 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return np.concatenate(images), np.array(labels), tuple(names)


@pytest.mark.parametrize(
    "layout", ["cifar10/cifar-10-batches-py", "cifar-10-batches-py"]
)
def test_cifar10_reads_batches_in_either_layout(root, layout):
    x, y, names = write_cifar(root / layout)
    data = load_dataset("cifar10")

    assert data.x.shape == (12, 3, 32, 32) and data.x.dtype == np.uint8
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.y, y)
    assert data.official_train_size == 10 and data.info.class_names == names


def test_cifar10_official_files_go_through_torchvision(root, monkeypatch):
    from torchvision.datasets import CIFAR10

    folder = root / "cifar10" / "cifar-10-batches-py"
    x, y, names = write_cifar(folder, bytes_keys=False)
    fallback = load_dataset("cifar10")

    # Make these files "official" for torchvision's md5 checks, and forbid the fallback.
    train = [[f"data_batch_{i}", md5(folder / f"data_batch_{i}")] for i in range(1, 6)]
    monkeypatch.setattr(CIFAR10, "train_list", train)
    monkeypatch.setattr(
        CIFAR10, "test_list", [["test_batch", md5(folder / "test_batch")]]
    )
    meta = {
        "filename": "batches.meta",
        "key": "label_names",
        "md5": md5(folder / "batches.meta"),
    }
    monkeypatch.setattr(CIFAR10, "meta", meta)

    def no_fallback(folder):
        raise AssertionError("the restricted reader should not run")

    monkeypatch.setattr(datasets, "_read_cifar_batches", no_fallback)
    clear_dataset_cache()
    official = load_dataset("cifar10")

    np.testing.assert_array_equal(official.x, x)
    assert official.fingerprint == fallback.fingerprint
    assert official.info.class_names == names and official.official_train_size == 10


def test_cifar10_refuses_pickled_code(root):
    folder = root / "cifar10" / "cifar-10-batches-py"
    write_cifar(folder)

    class Payload:
        def __reduce__(self):
            return (os.getcwd, ())

    (folder / "data_batch_3").write_bytes(pickle.dumps({b"data": Payload()}))
    with pytest.raises(
        ValueRiskError, match=r"data_batch_3.*refusing to load the global"
    ):
        load_dataset("cifar10")


def test_cifar10_malformed_batches(root):
    folder = root / "cifar10" / "cifar-10-batches-py"
    write_cifar(folder)
    batch = {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    (folder / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(
        ValueRiskError, match=r"test_batch: 'data' must be uint8 of shape"
    ):
        load_dataset("cifar10")

    batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]}
    (folder / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(ValueRiskError, match="labels must lie in 0..9"):
        load_dataset("cifar10")

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": batch[b"data"]}))
    with pytest.raises(ValueRiskError, match="lacks the key 'data' or 'labels'"):
        load_dataset("cifar10")

    (folder / "test_batch").write_bytes(b"\x80\x04garbage")
    with pytest.raises(ValueRiskError, match="could not read CIFAR-10 batch"):
        load_dataset("cifar10")


# -- CelebA ----------------------------------------------------------------------------

# Official partition of each fake image: 0 train, 1 validation, 2 test (file order).
CELEBA_PARTITION = [0, 2, 0, 1, 2, 0]


def write_celeba(root: Path, *, seed=0, extra_files=False):
    """A tiny CelebA tree: JPEGs of one flat colour each and the text files."""
    rng = np.random.default_rng(seed)
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = datasets._CELEBA_ATTRIBUTES
    n = len(CELEBA_PARTITION)
    files = [f"{i + 1:06d}.jpg" for i in range(n)]
    attr = rng.choice([-1, 1], size=(n, len(names)))
    for i, file in enumerate(files):
        colour = (40 * i, 200 - 30 * i, 100)
        Image.new("RGB", (18, 22), colour).save(folder / "img_align_celeba" / file)

    # The real files: a count line, a header (with a trailing space), then rows.
    rows = [
        f"{file} " + " ".join(f"{v:2d}" for v in row)
        for file, row in zip(files, attr, strict=True)
    ]
    text = f"{n}\n" + " ".join(names) + " \n" + "\n".join(rows) + "\n"
    (folder / "list_attr_celeba.txt").write_text(text)
    partition = "".join(
        f"{f} {p}\n" for f, p in zip(files, CELEBA_PARTITION, strict=True)
    )
    (folder / "list_eval_partition.txt").write_text(partition)
    if extra_files:
        (folder / "identity_CelebA.txt").write_text("".join(f"{f} 7\n" for f in files))
        bbox = "".join(f"{f} 95 71 226 313\n" for f in files)
        (folder / "list_bbox_celeba.txt").write_text(
            f"{n}\nimage_id x_1 y_1 width height\n{bbox}"
        )
        points = "".join(f"{f} 69 109 106 113 77 142 73 152 108 154\n" for f in files)
        header = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y "
        header += "leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
        (folder / "list_landmarks_align_celeba.txt").write_text(
            f"{n}\n{header}\n{points}"
        )
    return folder, (attr == 1).astype(np.int8)


def check_celeba(data, attr, size):
    order = np.argsort(CELEBA_PARTITION, kind="stable")  # [0, 2, 5, 3, 1, 4]
    names = list(datasets._CELEBA_ATTRIBUTES)
    assert data.x.shape == (6, 3, size, size) and data.x.dtype == np.uint8
    assert data.official_train_size == 3
    assert list(data.attributes.columns) == names
    np.testing.assert_array_equal(data.attributes.to_numpy(), attr[order])
    column = {name: attr[order, names.index(name)] for name in CELEBA_TASK_ATTRIBUTES}
    expected = 4 * column["Heavy_Makeup"] + 2 * column["Mouth_Slightly_Open"]
    np.testing.assert_array_equal(data.y, expected + column["Smiling"])
    # Each image keeps its flat colour (JPEG is lossy: a few levels of tolerance).
    red = data.x[:, 0].reshape(6, -1).mean(axis=1)
    np.testing.assert_allclose(red, 40 * order, atol=4)


def test_celeba_builds_classes_and_attributes(root):
    _, attr = write_celeba(root)
    data = load_dataset("celeba")
    check_celeba(data, attr, 64)
    assert data.info.class_names[0] == "no makeup, mouth closed, not smiling"
    assert data.info.class_names[7] == "makeup, mouth open, smiling"


def test_celeba_image_size_is_configurable(root):
    _, attr = write_celeba(root)
    data = load_celeba(image_size=16)
    check_celeba(data, attr, 16)
    assert data.info.input_shape == (3, 16, 16)
    with pytest.raises(ValueRiskError, match="image_size must be a positive integer"):
        load_celeba(image_size=0)


def test_celeba_official_files_go_through_torchvision(root, monkeypatch):
    from torchvision.datasets import CelebA

    folder, attr = write_celeba(root, extra_files=True)
    patched = [
        (fid, md5(folder / name) if not name.endswith(".zip") else h, name)
        for fid, h, name in CelebA.file_list
    ]
    monkeypatch.setattr(CelebA, "file_list", patched)

    def no_fallback(path):
        raise AssertionError("the own attribute parser should not run")

    monkeypatch.setattr(datasets, "_parse_celeba_attributes", no_fallback)
    check_celeba(load_dataset("celeba"), attr, 64)


def test_celeba_errors(root):
    folder, _ = write_celeba(root)
    (folder / "img_align_celeba" / "000003.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueRiskError, match=r"could not read image .*000003.jpg"):
        load_dataset("celeba")

    attr_file = folder / "list_attr_celeba.txt"
    original = attr_file.read_text()
    attr_file.write_text(original.replace("Smiling", "Grinning"))
    with pytest.raises(ValueRiskError, match=r"lacks the attribute\(s\) \['Smiling'\]"):
        load_dataset("celeba")

    attr_file.write_text(original.replace(" 1", " 2", 1))
    with pytest.raises(ValueRiskError, match="attribute values must be -1 or 1"):
        load_dataset("celeba")

    attr_file.write_text(original)
    (folder / "list_eval_partition.txt").write_text("000001.jpg 0\n")
    with pytest.raises(ValueRiskError, match="does not list 5 image"):
        load_celeba()


# -- Tiny ImageNet ---------------------------------------------------------------------

TINY_WNIDS = ["n02124075", "n01443537", "n09246464"]  # listed unsorted, as in wnids.txt


def write_tiny(root: Path, *, per_class=2):
    folder = root / "tiny-imagenet-200"
    (folder / "val" / "images").mkdir(parents=True)
    (folder / "wnids.txt").write_text("\n".join(TINY_WNIDS) + "\n")
    (folder / "words.txt").write_text(
        "n00001740\tentity\n"
        "n01443537\tgoldfish, Carassius auratus\n"
        "n02124075\tEgyptian cat\n"
        "n09246464\tcliff, drop, drop-off\n"
    )
    for wnid in TINY_WNIDS:
        images = folder / "train" / wnid / "images"
        images.mkdir(parents=True)
        (folder / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
        for i in range(per_class):
            value = 50 * sorted(TINY_WNIDS).index(wnid) + 10
            Image.new("RGB", (64, 64), (value, value, value)).save(
                images / f"{wnid}_{i}.JPEG"
            )
    # Validation: one greyscale image per class, as some real ones are.
    lines = []
    for i, wnid in enumerate(reversed(TINY_WNIDS)):
        Image.new("L", (64, 64), 200).save(folder / "val" / "images" / f"val_{i}.JPEG")
        lines.append(f"val_{i}.JPEG\t{wnid}\t0\t0\t63\t63")
    (folder / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return folder


def test_tinyimagenet_train_then_val(root):
    write_tiny(root)
    data = load_dataset("tinyimagenet")

    assert data.x.shape == (9, 3, 64, 64) and data.x.dtype == np.uint8
    assert data.official_train_size == 6
    # Classes in sorted wnid order (ImageFolder), names from words.txt.
    assert data.info.class_names == ("goldfish", "Egyptian cat", "cliff")
    # Validation annotations list n09246464, n01443537, n02124075.
    np.testing.assert_array_equal(data.y, [0, 0, 1, 1, 2, 2, 2, 0, 1])
    np.testing.assert_allclose(
        data.x[:6].mean(axis=(1, 2, 3)), [10, 10, 60, 60, 110, 110], atol=3
    )
    assert np.abs(data.x[6:].astype(int) - 200).max() <= 3  # grey became RGB


def test_tinyimagenet_errors(root):
    folder = write_tiny(root)
    Image.new("RGB", (32, 32)).save(folder / "val" / "images" / "val_1.JPEG")
    with pytest.raises(
        ValueRiskError, match=r"val_1.JPEG is 32×32 pixels; expected 64×64"
    ):
        load_dataset("tinyimagenet")

    annotations = folder / "val" / "val_annotations.txt"
    annotations.write_text("val_0.JPEG\tn99999999\t0\t0\t1\t1\n")
    with pytest.raises(ValueRiskError, match="line 1: expected"):
        load_dataset("tinyimagenet")

    (folder / "wnids.txt").write_text("n01443537\n")
    with pytest.raises(ValueRiskError, match=r"disagree: folders not in wnids.txt"):
        load_dataset("tinyimagenet")


# -- Purchase100 -----------------------------------------------------------------------


def purchase_arrays(n=200, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.integers(0, 2, (n, 600)).astype(np.int8)
    labels = np.arange(n) % 100  # every class present, 0-based
    return features, labels


def test_purchase100_npz_one_based(root):
    features, labels = purchase_arrays()
    (root / "purchase100").mkdir()
    np.savez(
        root / "purchase100" / "purchase100.npz", features=features, labels=labels + 1
    )
    data = load_dataset("purchase100")

    assert data.info.kind == "tabular"
    assert data.x.shape == (200, 600) and data.x.dtype == np.float32
    np.testing.assert_array_equal(data.x, features)
    np.testing.assert_array_equal(data.y, labels)
    assert data.official_train_size is None
    assert data.features() is data.x  # tabular features as stored


@pytest.mark.parametrize("form", ["zero-based", "one-hot", "column"])
def test_purchase100_npz_label_forms(root, form):
    features, labels = purchase_arrays()
    stored = {
        "zero-based": labels,
        "one-hot": np.eye(100, dtype=np.float32)[labels],
        "column": (labels + 1)[:, None],
    }[form]
    (root / "purchase100").mkdir()
    np.savez(root / "purchase100" / "purchase100.npz", X=features, Y=stored)
    np.testing.assert_array_equal(load_dataset("purchase100").y, labels)


def test_purchase100_original_csv(root):
    features, labels = purchase_arrays()
    (root / "purchase100").mkdir()
    lines = [
        ",".join(map(str, [label + 1, *row]))
        for label, row in zip(labels, features, strict=True)
    ]
    (root / "purchase100" / "dataset_purchase").write_text("\n".join(lines) + "\n")
    data = load_dataset("purchase100")
    np.testing.assert_array_equal(data.x, features)
    np.testing.assert_array_equal(data.y, labels)


def test_purchase100_errors(root):
    folder = root / "purchase100"
    folder.mkdir()
    npz = folder / "purchase100.npz"
    features, labels = purchase_arrays()

    np.savez(npz, features=features[:, :599], labels=labels)
    with pytest.raises(ValueRiskError, match=r"features must have shape \(n, 600\)"):
        load_dataset("purchase100")

    np.savez(npz, features=features, labels=np.arange(200) % 101)
    with pytest.raises(ValueRiskError, match="labels run from 0 to 100"):
        load_dataset("purchase100")

    np.savez(npz, features=features, labels=np.full((200, 100), 1))
    with pytest.raises(ValueRiskError, match="must be one-hot"):
        load_dataset("purchase100")

    np.savez(npz, data=features, target=labels)
    with pytest.raises(ValueRiskError, match="expected features and labels under"):
        load_dataset("purchase100")

    np.savez(npz, features=features, labels=np.array([object()] * 200, dtype=object))
    with pytest.raises(ValueRiskError, match="object arrays are refused"):
        load_dataset("purchase100")

    nan_features = features.astype(np.float32)
    nan_features[3, 7] = np.nan
    np.savez(npz, features=nan_features, labels=labels)
    with pytest.raises(ValueRiskError, match="NaN or infinite"):
        load_dataset("purchase100")

    npz.unlink()
    (folder / "dataset_purchase").write_text("1,0,1\n2,x,0\n")
    with pytest.raises(ValueRiskError, match=r"could not read .*dataset_purchase"):
        load_dataset("purchase100")


# -- the user's own images -------------------------------------------------------------


def write_folder(path: Path, spec: dict[str, list[tuple]], *, mode="L"):
    """``spec``: class name -> list of (size, value) images written as PNG."""
    for class_name, images in spec.items():
        (path / class_name).mkdir(parents=True, exist_ok=True)
        for i, (size, value) in enumerate(images):
            Image.new(mode, size, value).save(path / class_name / f"{i}.png")


def test_image_folder_greyscale(tmp_path):
    path = tmp_path / "pics"
    write_folder(path, {"dog": [((5, 4), 10), ((5, 4), 20)], "cat": [((5, 4), 30)] * 3})
    (path / "cat" / "notes.txt").write_text("ignored")
    (path / ".hidden").mkdir()
    data = load_image_folder(path)

    assert data.x.shape == (5, 1, 4, 5) and data.x.dtype == np.uint8
    assert data.info.class_names == ("cat", "dog")
    np.testing.assert_array_equal(data.y, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(data.x[:, 0, 0, 0], [30, 30, 30, 10, 20])
    assert data.info.name.startswith("folder-")
    assert re.match(CONTENT_NAME.format("folder"), data.info.name)
    # Registered in this process, and reloadable from its path in any process.
    assert load_dataset(data.info.name) is data
    again = load_dataset(folder_reference(path))
    assert again.info.name == data.info.name and again.fingerprint == data.fingerprint
    assert dataset_info(f"folder:{path}").num_classes == 2
    assert data.info.source == f"folder:{path.resolve()}"


def test_image_folder_mixed_modes_become_rgb(tmp_path):
    path = tmp_path / "pics"
    write_folder(path, {"a": [((3, 3), 7)] * 2})
    write_folder(path, {"b": [((3, 3), (1, 2, 3))] * 2}, mode="RGB")
    data = load_image_folder(path)
    assert data.x.shape == (4, 3, 3, 3)
    np.testing.assert_array_equal(data.x[0, :, 0, 0], [7, 7, 7])
    np.testing.assert_array_equal(data.x[3, :, 0, 0], [1, 2, 3])


def test_image_folder_same_content_same_name(tmp_path):
    spec = {"a": [((3, 3), 7)] * 2, "b": [((3, 3), 9)] * 2}
    write_folder(tmp_path / "one", spec)
    write_folder(tmp_path / "two", spec)
    first = load_image_folder(tmp_path / "one")
    assert load_image_folder(tmp_path / "two").info.name == first.info.name
    write_folder(tmp_path / "three", {"a": [((3, 3), 7)] * 2, "b": [((3, 3), 8)] * 2})
    assert load_image_folder(tmp_path / "three").info.name != first.info.name


def test_image_folder_errors(tmp_path):
    path = tmp_path / "pics"
    with pytest.raises(ValueRiskError, match="does not exist or is not a folder"):
        load_image_folder(path)

    write_folder(path, {"a": [((3, 3), 1)] * 2})
    with pytest.raises(ValueRiskError, match=r"1 class\(es\) \['a'\]; at least 2"):
        load_image_folder(path)

    write_folder(path, {"b": [((3, 3), 1)]})
    with pytest.raises(
        ValueRiskError, match=f"at least {MIN_SAMPLES_PER_CLASS} samples.*'b' \\(1\\)"
    ):
        load_image_folder(path)

    write_folder(path, {"b": [((3, 3), 1), ((4, 3), 1)]})
    with pytest.raises(
        ValueRiskError, match=r"same size; found 3×3: 3 image\(s\).*4×3"
    ):
        load_image_folder(path)

    (path / "b" / "1.png").write_bytes(b"this is no png")
    with pytest.raises(ValueRiskError, match=r"could not read image .*b/1.png"):
        load_image_folder(path)


# -- the user's own tables -------------------------------------------------------------


def write_table(path: Path) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "f1": [0.5, 1.5, 2.5, 3.5, 4.5],
            "label": ["yes", "no", "yes", "no", "no"],
            "sex": [0, 1, 1, 0, 1],
            "f2": [1, 2, 3, 4, 5],
            "smoker": [True, False, True, True, False],
        }
    )
    table.to_csv(path, index=False)
    return table


def test_csv_features_labels_and_attributes(tmp_path):
    path = tmp_path / "table.csv"
    write_table(path)
    data = load_csv(path, attribute_columns=("sex", "smoker"))

    assert data.info.kind == "tabular" and data.info.input_shape == (2,)
    assert data.x.dtype == np.float32
    np.testing.assert_array_equal(
        data.x, [[0.5, 1], [1.5, 2], [2.5, 3], [3.5, 4], [4.5, 5]]
    )
    assert data.info.class_names == ("no", "yes")
    np.testing.assert_array_equal(data.y, [1, 0, 1, 0, 0])
    assert data.info.attributes == ("sex", "smoker")
    assert data.attributes["sex"].tolist() == [0, 1, 1, 0, 1]
    assert data.attributes["smoker"].tolist() == [True, False, True, True, False]
    assert re.match(CONTENT_NAME.format("csv"), data.info.name)
    assert load_dataset(data.info.name) is data

    # A subset keeps the matching attribute rows.
    part = data.subset([4, 0])
    assert part.attributes["sex"].tolist() == [1, 0]
    assert part.attributes.index.tolist() == [0, 1]


def test_csv_reference_round_trip(tmp_path):
    path = tmp_path / "table.csv"
    table = write_table(path)
    table.rename(columns={"label": "target"}).to_csv(path, index=False)
    reference = csv_reference(path, label_column="target", attribute_columns=["sex"])
    assert reference == f"csv:{path.resolve()}#label=target&attributes=sex"

    data = load_dataset(reference)
    assert data.info.source == reference and data.info.attributes == ("sex",)
    assert data.x.shape == (5, 3)  # f1, f2 and smoker (booleans are numbers)
    direct = load_csv(path, label_column="target", attribute_columns=["sex"])
    assert direct.info.name == data.info.name
    with pytest.raises(ValueRiskError, match=r"no column\(s\) \['label'\]"):
        load_dataset(f"csv:{path}")


def test_csv_numeric_labels_name_classes_as_numbers(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"label": [3, 1, 3, 1], "x": [0, 1, 2, 3]}).to_csv(path, index=False)
    data = load_csv(path)
    assert data.info.class_names == ("1", "3")
    np.testing.assert_array_equal(data.y, [1, 0, 1, 0])


def test_csv_errors(tmp_path):
    path = tmp_path / "t.csv"
    with pytest.raises(ValueRiskError, match="does not exist"):
        load_csv(path)

    path.write_text("")
    with pytest.raises(ValueRiskError, match="is empty"):
        load_csv(path)

    path.write_text("label,x\n")
    with pytest.raises(ValueRiskError, match="header but no rows"):
        load_csv(path)

    base = {"label": [0, 0, 1, 1], "x": [1.0, 2.0, 3.0, 4.0]}
    pd.DataFrame(base).to_csv(path, index=False)
    with pytest.raises(ValueRiskError, match=r"no column\(s\) \['y'\]; its columns"):
        load_csv(path, label_column="y")
    with pytest.raises(ValueRiskError, match="has no feature columns"):
        load_csv(path, attribute_columns=["x"])
    with pytest.raises(ValueRiskError, match="both the label and an attribute"):
        load_csv(path, attribute_columns=["label"])

    pd.DataFrame({**base, "colour": ["red", "blue", "red", "5"]}).to_csv(
        path, index=False
    )
    with pytest.raises(ValueRiskError, match=r"feature column 'colour' is not numeric"):
        load_csv(path)

    pd.DataFrame({**base, "z": [1.0, None, 2.0, 3.0]}).to_csv(path, index=False)
    with pytest.raises(ValueRiskError, match=r"'z' has a missing value in row 2"):
        load_csv(path)

    pd.DataFrame({**base, "age": [1.5, 2, 3, 4]}).to_csv(path, index=False)
    with pytest.raises(ValueRiskError, match=r"attribute column 'age' must hold whole"):
        load_csv(path, attribute_columns=["age"])

    pd.DataFrame({"label": [0, 1, 1, 1], "x": [1, 2, 3, 4]}).to_csv(path, index=False)
    with pytest.raises(ValueRiskError, match=r"at least 2 samples.*'0' \(1\)"):
        load_csv(path)

    path.write_text('label,x\n0,"1\n')
    with pytest.raises(ValueRiskError, match="could not parse CSV file"):
        load_csv(path)
