"""How importance moves when the data changes: four studies, each a cached job.

- ``onion``: remove the most (or least) important members and value the rest again
  (:mod:`backend.studies.onion`);
- ``duplicates``: add wrong-label copies of target members
  (:mod:`backend.studies.duplicates`);
- ``augmentation``: replace members with augmented versions or add them beside them
  (:mod:`backend.studies.augmentation`);
- ``partial``: value members from only part of the training set
  (:mod:`backend.studies.partial`).

Every edit of the training set is a pure function of :mod:`backend.dataset_edits`.
Use :func:`make_study_spec` for a study's settings, :func:`study_result` for its
(cached) result, and the chart builders in :mod:`backend.studies.charts`.

The names below load on first use: importing :mod:`backend.studies.specs` alone (as
the command line does to build its options) then needs neither torch nor
scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> the submodule that defines it.
_EXPORTS = {
    **dict.fromkeys(
        (
            "STUDIES",
            "VERSIONS",
            "Study",
            "applicable",
            "effective_spec",
            "findings",
            "is_stored",
            "job_kind",
            "report_sections",
            "result_charts",
            "study_inputs",
            "study_result",
            "summarize",
            "summary_table",
        ),
        "registry",
    ),
    **dict.fromkeys(
        (
            "OUTPUT_ATTACKS",
            "PARTIAL_SETTINGS",
            "STUDY_SPECS",
            "TRANSFORM_NAMES",
            "AugmentationSpec",
            "DuplicatesSpec",
            "OnionSpec",
            "PartialSpec",
            "make_study_spec",
            "study_name",
            "study_params",
        ),
        "specs",
    ),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'backend.studies' has no attribute {name!r}")
    module = importlib.import_module(f"backend.studies.{_EXPORTS[name]}")
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
