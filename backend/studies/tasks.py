"""The data-change studies as job kinds (``study-onion``, ``study-duplicates``, ...).

A job receives the study's settings as its parameters (see
:func:`backend.studies.specs.study_params`), runs the study into the store and returns
its headline numbers.
"""

from __future__ import annotations

from backend import pipeline
from backend.jobs import register_job
from backend.specs import RunSpec
from backend.store import Store
from backend.studies.registry import STUDIES, job_kind, study_result, summarize
from backend.studies.specs import make_study_spec
from backend.training import Progress

__all__ = ["run_study_job"]


def run_study_job(
    name: str, spec: RunSpec, store: Store, progress: Progress, **params
) -> dict:
    """Run study ``name`` with ``params`` for ``spec`` into ``store``; its summary."""
    study = make_study_spec(name, **params)
    ctx = pipeline.make_context(spec, store=store)
    return summarize(name, study_result(ctx, study, progress=progress))


def _register(name: str) -> None:
    def job(spec: RunSpec, store: Store, progress: Progress, **params) -> dict:
        return run_study_job(name, spec, store, progress, **params)

    register_job(job_kind(name), STUDIES[name].question)(job)


for _name in STUDIES:
    _register(_name)
