"""How augmentation moves importance: augmented versions in place of members, or
beside them, against exact copies beside them.

The same ``n_samples`` members (chosen at random) are changed under every transform,
in three settings:

- ``replace``: each chosen member becomes its augmented version, in its place and with
  its label. A changed sample's change is the augmented version's importance minus
  the original's importance before.
- ``add``: the augmented versions are added beside the originals. The changed samples
  are the chosen originals, whose importance now has an augmented sibling.
- ``copy``: exact copies are added beside the originals instead (one per chosen
  member, so the set grows exactly as in ``add``). This control separates what the
  transform does from what having more rows does; it does not depend on the
  transform, so it is computed once.

"The rest" are all other members. Transforms that do not apply to the dataset (see
:func:`backend.dataset_edits.transform_applicable`) are skipped, and the payload keeps
the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from backend import pipeline
from backend.dataset_edits import (
    TRANSFORMS,
    TrainingView,
    add_copies,
    augment,
    transform_applicable,
)
from backend.errors import ValueRiskError
from backend.jobs import staged
from backend.pipeline import Context
from backend.selection import select
from backend.studies.changes import change_shares
from backend.studies.revaluation import Valuer, members_view, valuer_for
from backend.studies.specs import AugmentationSpec
from backend.training import Progress

__all__ = [
    "SETTINGS",
    "applicable_transforms",
    "augmentation_effect",
    "compute",
    "summarize",
    "summary_table",
]

SETTINGS = ("replace", "add", "copy")


def _quiet(fraction: float, message: str) -> None:
    return None


def applicable_transforms(
    transforms: tuple[str, ...], *, kind: str, input_shape: tuple[int, ...]
) -> tuple[list[str], dict[str, str]]:
    """The transforms that apply to the data, and the reason for each that does not."""
    usable, skipped = [], {}
    for name in transforms:
        ok, reason = transform_applicable(name, kind=kind, input_shape=input_shape)
        if ok:
            usable.append(name)
        else:
            skipped[name] = reason
    return usable, skipped


def augmentation_effect(
    valuer: Valuer,
    view: TrainingView,
    chosen: np.ndarray,
    transforms: list[str],
    *,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Importance of the view's own rows after each change.

    Args:
        valuer: values a view against the reference set.
        view: the training set, (n rows).
        chosen: positions of the samples to change, (m,).
        transforms: names in :data:`~backend.dataset_edits.TRANSFORMS` that apply.
        seed: seed of the transforms' random parameters.

    Returns:
        ``"copy"`` and ``"<setting>:<transform>"`` for "replace" and "add" -> the
        importance of the n rows in place (the augmented version at a replaced row),
        (n,) float64.
    """
    progress = progress or _quiet
    names = ["copy"] + [f"{s}:{t}" for t in transforms for s in ("replace", "add")]
    stage = staged(progress, [(name, 1.0) for name in names])
    n = len(view)
    after = {"copy": valuer(add_copies(view, chosen), progress=stage("copy"))[:n]}
    for transform in transforms:
        for setting in ("replace", "add"):
            name = f"{setting}:{transform}"
            changed = augment(view, chosen, transform, mode=setting, seed=seed)
            after[name] = valuer(changed, progress=stage(name))[:n]
    return after


def compute(ctx: Context, spec: AugmentationSpec, *, progress: Progress | None = None):
    """The augmentation study of a context (see the module docstring); the payload.

    Raises:
        ValueRiskError: none of the transforms applies to the dataset.
    """
    progress = progress or _quiet
    info = ctx.data.info
    usable, _ = applicable_transforms(
        spec.transforms, kind=info.kind, input_shape=info.input_shape
    )
    # Every transform that does not apply to this data, with its reason, whether or
    # not the settings asked for it
    _, skipped = applicable_transforms(
        tuple(TRANSFORMS), kind=info.kind, input_shape=info.input_shape
    )
    if not usable:
        reasons = " ".join(skipped[name] for name in spec.transforms)
        raise ValueRiskError(
            f"none of the transforms {list(spec.transforms)} applies to dataset "
            f"{ctx.spec.dataset!r}: {reasons} Choose an image dataset, or for "
            "greyscale images a flip."
        )
    stage = staged(progress, [("importance", 1.0), ("changes", 2.0 * len(usable) + 1)])

    # The same chosen members for every transform and setting
    before = pipeline.importance(ctx, progress=stage("importance"))
    n = min(spec.n_samples, len(before))
    chosen = select(before, n, "random", seed=spec.seed)
    after = augmentation_effect(
        valuer_for(ctx),
        members_view(ctx),
        chosen,
        usable,
        seed=spec.seed,
        progress=stage("changes"),
    )
    return {
        "before": before,
        "after": after,
        "chosen": chosen,
        "index": ctx.split.members,
        "transforms": usable,
        "skipped": skipped,
    }


def _groups(payload: dict) -> dict[str, np.ndarray]:
    changed = np.zeros(len(payload["before"]), dtype=bool)
    changed[payload["chosen"]] = True
    return {"changed": changed, "rest": ~changed}


def _after(payload: dict, transform: str, setting: str) -> np.ndarray:
    key = "copy" if setting == "copy" else f"{setting}:{transform}"
    return payload["after"][key]


def summary_table(payload: dict) -> pd.DataFrame:
    """Per transform, setting and group: shares that gained and lost, mean change."""
    before = payload["before"]
    scale = float(np.abs(before).max())
    rows = []
    for transform in payload["transforms"]:
        for setting in SETTINGS:
            after = _after(payload, transform, setting)
            for group, mask in _groups(payload).items():
                shares = change_shares(before[mask], after[mask], scale=scale)
                rows.append(
                    {
                        "transform": transform,
                        "setting": setting,
                        "group": group,
                        **shares,
                    }
                )
    return pd.DataFrame(rows)


def summarize(payload: dict) -> dict:
    """The shares that gained and lost, per transform, setting and group; JSON-able."""
    summary: dict = {"samples": int(len(payload["chosen"]))}
    for row in summary_table(payload).to_dict("records"):
        prefix = f"{row['transform']}_{row['setting']}_{row['group']}"
        summary[f"{prefix}_gained"] = row["gained"]
        summary[f"{prefix}_lost"] = row["lost"]
    summary["skipped"] = sorted(payload["skipped"])
    return summary


def change_frame(payload: dict, transform: str) -> pd.DataFrame:
    """Each member's change in importance under one transform, per setting."""
    before = payload["before"]
    groups = _groups(payload)
    frames = []
    for setting in SETTINGS:
        change = _after(payload, transform, setting) - before
        for group, mask in groups.items():
            frames.append(
                pd.DataFrame(
                    {"setting": setting, "group": group, "change": change[mask]}
                )
            )
    return pd.concat(frames, ignore_index=True)


def findings(payload: dict) -> list[str]:
    """The result in plain sentences, one per transform and one for the copies."""
    table = summary_table(payload)
    changed = table[table["group"] == "changed"]
    lines = []
    copy = changed[changed["setting"] == "copy"].iloc[0]
    lines.append(
        f"Adding exact copies of {copy['n']:,} members: {copy['gained']:.0%} of them "
        f"gained importance and {copy['lost']:.0%} lost."
    )
    for transform in payload["transforms"]:
        rows = changed[changed["transform"] == transform].set_index("setting")
        replace, add = rows.loc["replace"], rows.loc["add"]
        lines.append(
            f"{TRANSFORMS[transform].title}: replaced, {replace['gained']:.0%} gained "
            f"and {replace['lost']:.0%} lost; added beside the originals, "
            f"{add['gained']:.0%} of the originals gained and {add['lost']:.0%} lost."
        )
    for transform, reason in payload["skipped"].items():
        lines.append(f"{TRANSFORMS[transform].title} was skipped: {reason}")
    return lines
