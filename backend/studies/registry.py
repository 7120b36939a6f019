"""The data-change studies by name: what each asks, where it applies, and its cached
result.

A study's result is stored like every pipeline stage: under ``study-<name>``, a code
version, and a hash of exactly what it reads: the data and split, the valuation
settings, the study's own settings, and (when it retrains) the model and training
recipe. A read-only context (a page) gets :class:`~backend.pipeline.NotComputed` for
a missing result instead of computing it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pandas as pd

from backend.datasets import DatasetInfo
from backend.pipeline import Context, cached, importance_inputs
from backend.studies import augmentation, duplicates, onion, partial
from backend.studies.specs import (
    AugmentationSpec,
    DuplicatesSpec,
    make_study_spec,
    study_name,
)
from backend.training import Progress

__all__ = [
    "VERSIONS",
    "Study",
    "STUDIES",
    "applicable",
    "effective_spec",
    "job_kind",
    "study_inputs",
    "study_result",
    "is_stored",
    "summarize",
    "summary_table",
    "findings",
    "result_charts",
    "report_sections",
]

# Code version of each study's result: bump one when its output for the same inputs
# changes.
VERSIONS = {"onion": 1, "duplicates": 1, "augmentation": 1, "partial": 1}


@dataclass(frozen=True)
class Study:
    """One study: its name, a title, the question it answers, and its module.

    The module provides ``compute(ctx, spec, progress=)``, ``summarize(payload)`` and
    ``summary_table(payload)``.
    """

    name: str
    title: str
    question: str
    module: ModuleType


STUDIES: dict[str, Study] = {
    s.name: s
    for s in (
        Study(
            "onion",
            "Privacy onion effect",
            "Remove the most important members: does the next layer become the most "
            "important, and more exposed?",
            onion,
        ),
        Study(
            "duplicates",
            "Wrong-label duplicates",
            "Add wrong-label copies of chosen members: how much does their importance "
            "rise, and their exposure with it?",
            duplicates,
        ),
        Study(
            "augmentation",
            "Augmentation",
            "Replace members with augmented versions, or add those beside them: whose "
            "importance moves?",
            augmentation,
        ),
        Study(
            "partial",
            "Importance from partial data",
            "Holding only part of the training set, how well can one rank the members "
            "one holds?",
            partial,
        ),
    )
}


def job_kind(name: str) -> str:
    """The job kind that runs study ``name``: ``"study-<name>"``."""
    return f"study-{name}"


def applicable(name: str, info: DatasetInfo) -> tuple[bool, str]:
    """Whether a study can run on a dataset, and if not, why (a user-readable line)."""
    make_study_spec(name)  # an unknown name raises, listing the known ones
    if name == "duplicates" and info.num_classes < 2:
        return False, "Wrong-label copies need at least two classes."
    if name == "augmentation":
        usable, skipped = augmentation.applicable_transforms(
            tuple(augmentation.TRANSFORMS),
            kind=info.kind,
            input_shape=info.input_shape,
        )
        if not usable:
            return False, (
                "No augmentation applies to this dataset. " + " ".join(skipped.values())
            )
    return True, ""


def _uses_models(spec: Any) -> bool:
    return bool(getattr(spec, "retrain", False))


def effective_spec(ctx: Context, spec: Any) -> Any:
    """The settings that take effect on this data, so that equal work is stored once.

    Augmentation keeps only the transforms that apply to the dataset (unless none
    does: the study then explains why it cannot run); the in-out check is off when
    nothing is retrained.
    """
    if isinstance(spec, AugmentationSpec):
        info = ctx.data.info
        usable, _ = augmentation.applicable_transforms(
            spec.transforms, kind=info.kind, input_shape=info.input_shape
        )
        if usable:
            spec = dataclasses.replace(spec, transforms=tuple(usable))
    if isinstance(spec, DuplicatesSpec) and not spec.retrain:
        spec = dataclasses.replace(spec, in_out=False)
    return spec


def study_inputs(ctx: Context, spec: Any) -> dict:
    """Exactly what a study's result depends on (its cache key's inputs)."""
    spec = effective_spec(ctx, spec)
    inputs = {
        **importance_inputs(ctx),
        "study": study_name(spec),
        "settings": dataclasses.asdict(spec),
    }
    if _uses_models(spec):
        inputs["model"] = dataclasses.asdict(ctx.spec.model)
        inputs["train"] = dataclasses.asdict(ctx.spec.train)
    return inputs


def study_result(ctx: Context, spec: Any, *, progress: Progress | None = None) -> dict:
    """The study's stored result, computed first unless the context is read-only.

    Raises:
        NotComputed: the result is missing and the context is read-only.
        ValueRiskError: the study cannot run on this data or with these settings.
    """
    name, spec = study_name(spec), effective_spec(ctx, spec)
    return cached(
        ctx,
        job_kind(name),
        VERSIONS[name],
        study_inputs(ctx, spec),
        lambda: STUDIES[name].module.compute(ctx, spec, progress=progress),
    )


def is_stored(ctx: Context, spec: Any) -> bool:
    """Whether the study's result for this context and settings is in the store."""
    name = study_name(spec)
    return ctx.store.has(job_kind(name), VERSIONS[name], study_inputs(ctx, spec))


def summarize(name: str, payload: dict) -> dict:
    """The study's headline numbers, JSON-able (a job's summary)."""
    return STUDIES[name].module.summarize(payload)


def summary_table(name: str, payload: dict) -> pd.DataFrame:
    """The study's main table (the CLI prints it; the page and report show it)."""
    return STUDIES[name].module.summary_table(payload)


def findings(name: str, payload: dict) -> list[str]:
    """The study's result in plain sentences (the page and the report show them)."""
    return STUDIES[name].module.findings(payload)


def result_charts(name: str, payload: dict) -> dict[str, Any]:
    """The study's main charts (titles -> Altair charts), as the report shows them."""
    from backend.studies import charts
    from backend.studies.changes import share_histogram

    if name == "onion":
        out = {
            "Onion effect: importance before and after": charts.distribution_chart(
                onion.distribution_frame(payload), payload["cutoff"]
            ),
            "Onion effect: the band below the top": charts.band_chart(
                onion.band_frame(payload)
            ),
        }
        if payload["exposure"] is not None:
            out["Onion effect: exposure"] = charts.exposure_chart(
                payload["exposure"], title="Exposure before and after removing the top"
            )
        return out
    if name == "duplicates":
        return {
            "Wrong-label duplicates: the targets": charts.targets_chart(
                duplicates.targets_frame(payload)
            )
        }
    if name == "augmentation":
        out = {}
        for transform in payload["transforms"]:
            frame = augmentation.change_frame(payload, transform)
            changed = frame[frame["group"] == "changed"]
            out[f"Augmentation: {transform}"] = charts.share_histogram_chart(
                share_histogram(
                    {s: part["change"] for s, part in changed.groupby("setting")}
                ),
                title=f"{transform}: change of the changed samples, per setting",
                x_title="change in importance",
            )
        return out
    return {
        "Importance from partial data": charts.partial_chart(
            summary_table("partial", payload)
        )
    }


def report_sections(ctx: Context) -> list[dict]:
    """Every study stored with its default settings, for the exported report.

    Returns:
        One dict per stored study: ``name``, ``title``, ``findings`` (sentences),
        ``table`` (DataFrame) and ``charts`` (title -> Altair chart). Studies not
        computed are left out.
    """
    sections = []
    for name, study in STUDIES.items():
        spec = make_study_spec(name)
        if not is_stored(ctx, spec):
            continue
        payload = study_result(ctx, spec)
        sections.append(
            {
                "name": name,
                "title": study.title,
                "findings": findings(name, payload),
                "table": summary_table(name, payload),
                "charts": result_charts(name, payload),
            }
        )
    return sections
