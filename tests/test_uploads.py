import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from backend import uploads
from backend.datasets import load_dataset
from backend.errors import ValueRiskError


def _csv(per_class=12, classes=3, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    n = per_class * classes
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    frame["label"] = np.repeat(np.arange(classes), per_class)
    frame["smoker"] = rng.integers(0, 2, n)
    return frame.to_csv(index=False).encode()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _png(size=(8, 8), value=0) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, value).save(buffer, format="PNG")
    return buffer.getvalue()


def _image_zip(per_class=10, prefix="", size=(8, 8)) -> bytes:
    return _zip(
        {
            f"{prefix}{c}/{i}.png": _png(size, value=10 * i)
            for c in ("cat", "dog")
            for i in range(per_class)
        }
    )


def test_csv_upload_becomes_a_dataset_any_process_can_load(tmp_path):
    info = uploads.save_upload(
        "people.csv", _csv(), attribute_columns=("smoker",), root=tmp_path
    )
    assert info.source.startswith("csv:") and info.attributes == ("smoker",)
    data = load_dataset(info.source)
    assert len(data) == 36 and data.info.num_classes == 3
    again = uploads.save_upload(
        "renamed.csv", _csv(), attribute_columns=("smoker",), root=tmp_path
    )
    assert again.source == info.source  # same content, same dataset


@pytest.mark.parametrize("prefix", ["", "photos/"])
def test_zip_of_class_folders_becomes_an_image_dataset(tmp_path, prefix):
    info = uploads.save_upload("pets.zip", _image_zip(prefix=prefix), root=tmp_path)
    data = load_dataset(info.source)
    assert data.x.shape == (20, 1, 8, 8)
    assert data.info.class_names == ("cat", "dog")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.csv", b"", "the upload is empty"),
        ("x.txt", b"hello", "expected a .csv file or a .zip"),
        ("x.zip", b"not a zip", "not a readable zip"),
        ("x.csv", _csv(per_class=5), "at least 10 samples"),
        ("x.zip", _zip({"../evil/0.png": _png()}), "points outside its folder"),
        ("x.zip", _zip({"a.txt": b"hi"}), "holds no images"),
        (
            "x.zip",
            _zip(
                {"cat/0.png": b"garbage", "cat/1.png": _png()}
                | {f"dog/{i}.png": _png() for i in range(2)}
            ),
            r"could not read image .*cat/0\.png",
        ),
        ("x.zip", _zip({"0.png": _png()}), "one folder of images per class"),
    ],
)
def test_bad_uploads_get_clear_errors(tmp_path, name, data, message):
    with pytest.raises(ValueRiskError, match=message):
        uploads.save_upload(name, data, root=tmp_path)


def test_mixed_image_sizes_are_refused(tmp_path):
    files = {f"cat/{i}.png": _png() for i in range(10)}
    files |= {f"dog/{i}.png": _png((9, 9)) for i in range(10)}
    with pytest.raises(ValueRiskError, match="must all have the same size"):
        uploads.save_upload("x.zip", _zip(files), root=tmp_path)


def test_oversized_upload_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_MB", 0)
    with pytest.raises(ValueRiskError, match="at most 0 MB is accepted"):
        uploads.save_upload("x.csv", _csv(), root=tmp_path)
    assert not any(tmp_path.iterdir())  # nothing stored


def test_checked_uploads_are_listed_for_every_session(tmp_path):
    csv = uploads.save_upload("people.csv", _csv(), root=tmp_path)
    zipped = uploads.save_upload("pets.zip", _image_zip(), root=tmp_path)
    listed = uploads.list_uploads(tmp_path)
    assert listed == {csv.source: csv.title, zipped.source: zipped.title}
    with pytest.raises(ValueRiskError):
        uploads.save_upload("bad.csv", _csv(per_class=5), root=tmp_path)
    assert len(uploads.list_uploads(tmp_path)) == 2  # a refused upload is not listed
