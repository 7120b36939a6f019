"""Turning a user's upload into a dataset, after checking it.

An upload is a CSV (a label column, optional attribute columns, numeric features) or a
zip holding one folder of images per class. It is checked before anything runs:

- its size (at most ``MAX_UPLOAD_MB``);
- for a zip: only plain files in ``<class>/<image>`` or ``<top>/<class>/<image>``
  layout, no absolute paths or ``..``, no links, a bounded uncompressed size, and at
  most ``MAX_ZIP_FILES`` members;
- for the data itself (by :mod:`backend.datasets`): readable images of one size, at
  least two classes, and here at least ``MIN_UPLOAD_SAMPLES_PER_CLASS`` samples per
  class so that every part of a split gets some of each class.

Uploads are parsed as data only: never unpickled, imported or executed. A valid upload
is stored under ``<data root>/uploads/`` in a folder named by its content hash, so the
same upload always becomes the same dataset, and worker processes can load it by its
reference (``csv:...`` or ``folder:...``).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from backend import settings
from backend.datasets import (
    IMAGE_EXTENSIONS,
    DatasetInfo,
    csv_reference,
    folder_reference,
    load_csv,
    load_image_folder,
)
from backend.errors import ValueRiskError

__all__ = [
    "MAX_UPLOAD_MB",
    "MIN_UPLOAD_SAMPLES_PER_CLASS",
    "save_upload",
    "list_uploads",
]

MAX_UPLOAD_MB = 200  # the file uploader's limit too
MAX_ZIP_FILES = 200_000
MAX_UNZIPPED_MB = 2_000  # guards against zip bombs
MIN_UPLOAD_SAMPLES_PER_CLASS = (
    10  # split into five parts, each needs some of each class
)


def save_upload(
    filename: str,
    data: bytes,
    *,
    label_column: str = "label",
    attribute_columns: Sequence[str] = (),
    root: Path | None = None,
) -> DatasetInfo:
    """Check an upload, store it by content hash and return its dataset's info.

    Args:
        filename: the uploaded file's name; its extension (.csv or .zip) picks the
        format. data: the file's bytes. label_column: the CSV's label column.
        attribute_columns: the CSV's attribute columns. root: where uploads are kept;
        default ``<data root>/uploads``.

    Returns:
        The dataset's info; ``info.source`` is the reference to put in a RunSpec.

    Raises:
        ValueRiskError: with what is wrong and how to fix it.
    """
    if len(data) > MAX_UPLOAD_MB * 2**20:
        raise ValueRiskError(
            f"the upload is {len(data) / 2**20:.0f} MB; at most {MAX_UPLOAD_MB} MB is "
            "accepted. Use fewer or smaller images, or run the CLI on a local path."
        )
    if not data:
        raise ValueRiskError("the upload is empty; choose a CSV or zip file with data.")
    root = root or settings.data_root() / "uploads"
    digest = hashlib.sha256(data).hexdigest()[:16]
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        path = _store_file(root / f"csv-{digest}", "data.csv", data)
        dataset = load_csv(
            path,
            label_column=label_column,
            attribute_columns=tuple(attribute_columns),
            register=False,
        )
        source = csv_reference(
            path, label_column=label_column, attribute_columns=attribute_columns
        )
    elif suffix == ".zip":
        folder = _extract_zip(data, root / f"folder-{digest}")
        dataset = load_image_folder(folder, register=False)
        source = folder_reference(folder)
    else:
        raise ValueRiskError(
            f"cannot read {filename!r}: expected a .csv file or a .zip of class "
            "folders."
        )
    _check_per_class(dataset.y, dataset.info.class_names)
    title = f"{Path(filename).name} ({len(dataset)} samples)"
    # Recorded last, once the upload is known to be valid: list_uploads() offers it
    # to every session, so a shared link to it works.
    # <root>/csv-<hash>/data.csv or <root>/folder-<hash>/images: the hash's folder.
    folder = Path(source.split(":", 1)[1].split("#", 1)[0]).parent
    _write_atomic(folder / _META, json.dumps({"source": source, "title": title}))
    return DatasetInfo(**{**dataset.info.__dict__, "title": title, "source": source})


_META = "upload.json"  # {source, title} of a checked upload, beside its data


def list_uploads(root: Path | None = None) -> dict[str, str]:
    """Every checked upload under ``root``: its reference (``csv:...`` or
    ``folder:...``) and its title, oldest first."""
    root = root or settings.data_root() / "uploads"
    found = []
    for meta in root.glob(f"*/{_META}"):
        try:
            record = json.loads(meta.read_text())
            found.append((meta.stat().st_mtime, record["source"], record["title"]))
        except (OSError, ValueError, KeyError):
            continue  # unreadable records are skipped, never fatal
    return {source: title for _, source, title in sorted(found)}


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    partial.replace(path)


def _store_file(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a crash never leaves a half-written upload
    return path


def _extract_zip(data: bytes, folder: Path) -> Path:
    """Safely extract a zip of class folders; returns the folder holding the classes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ValueRiskError(
            f"the upload is not a readable zip file ({error}); re-create the zip."
        ) from error
    members = [m for m in archive.infolist() if not m.is_dir()]
    images = [m for m in members if _is_image(m.filename)]
    _check_zip_members(members, images)

    # Accept <class>/<image> or a single top folder <top>/<class>/<image>.
    depths = {len(PurePosixPath(m.filename).parts) for m in images}
    if depths not in ({2}, {3}):
        raise ValueRiskError(
            "the zip must hold one folder of images per class (class/image.png), "
            "optionally inside one top folder; found images at depths "
            f"{sorted(d - 1 for d in depths)}."
        )
    tops = {PurePosixPath(m.filename).parts[0] for m in images}
    if depths == {3} and len(tops) != 1:
        raise ValueRiskError(
            f"the zip has images under {len(tops)} top folders {sorted(tops)[:5]}; put "
            "the class folders directly in the zip or inside one top folder."
        )

    target = folder / "images"
    if not target.exists():
        staging = folder / "staging"
        shutil.rmtree(staging, ignore_errors=True)
        for member in images:
            parts = PurePosixPath(member.filename).parts[-2:]
            destination = staging.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(member))
        staging.replace(target)  # complete folders only
    return target


def _check_zip_members(members, images) -> None:
    if len(members) > MAX_ZIP_FILES:
        raise ValueRiskError(
            f"the zip holds {len(members)} files; at most {MAX_ZIP_FILES} are accepted."
        )
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED_MB * 2**20:
        raise ValueRiskError(
            f"the zip unpacks to {total / 2**20:.0f} MB; at most {MAX_UNZIPPED_MB} MB "
            "is accepted."
        )
    for member in members:
        path = PurePosixPath(member.filename)
        is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
        if (
            path.is_absolute()
            or ".." in path.parts
            or "\\" in member.filename
            or is_link
        ):
            raise ValueRiskError(
                f"the zip entry {member.filename!r} points outside its folder or is a "
                "link; re-create the zip from plain files."
            )
    if not images:
        raise ValueRiskError(
            "the zip holds no images; expected class folders of "
            f"{', '.join(IMAGE_EXTENSIONS)} files."
        )


def _is_image(name: str) -> bool:
    path = PurePosixPath(name)
    hidden = any(part.startswith((".", "__MACOSX")) for part in path.parts)
    return not hidden and path.suffix.lower() in IMAGE_EXTENSIONS


def _check_per_class(y: np.ndarray, class_names: Sequence[str]) -> None:
    counts = np.bincount(y, minlength=len(class_names))
    small = [
        f"{name!r} ({count})"
        for name, count in zip(class_names, counts, strict=True)
        if count < MIN_UPLOAD_SAMPLES_PER_CLASS
    ]
    if small:
        raise ValueRiskError(
            f"every class needs at least {MIN_UPLOAD_SAMPLES_PER_CLASS} samples so "
            f"that each part of a split gets some; too few in {', '.join(small[:10])}. "
            "Add samples or merge those classes."
        )
