"""The job kinds the app and the CLI run: each a short sequence of cached stages.

Every job takes ``(spec, store, progress)`` and returns a small summary dict; the heavy
results stay in the store, where pages and the CLI read them.
"""

from __future__ import annotations

from backend import pipeline
from backend.jobs import register_job, staged
from backend.specs import RunSpec
from backend.store import Store
from backend.training import Progress

__all__ = ["train_job", "value_job", "analysis_job", "membership_job"]


@register_job("train", "train the target and shadow models")
def train_job(spec: RunSpec, store: Store, progress: Progress) -> dict:
    ctx = pipeline.make_context(spec, store=store)
    stage = staged(progress, [("target model", 2.0), ("shadow model", 1.0)])
    _, target = pipeline.trained_model(ctx, "target", progress=stage("target model"))
    _, shadow = pipeline.trained_model(ctx, "shadow", progress=stage("shadow model"))
    return {"target": target, "shadow": shadow}


@register_job("value", "compute the importance of every target member")
def value_job(spec: RunSpec, store: Store, progress: Progress) -> dict:
    ctx = pipeline.make_context(spec, store=store)
    values = pipeline.importance(ctx, progress=progress)
    return {
        "members": int(len(values)),
        "mean": float(values.mean()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


@register_job("analysis", "everything the dashboard shows for a spec")
def analysis_job(spec: RunSpec, store: Store, progress: Progress) -> dict:
    from backend import analysis

    ctx = pipeline.make_context(spec, store=store)
    stage = staged(
        progress,
        [
            ("target model", 3.0),
            ("shadow model", 2.0),
            ("importance", 1.0),
            ("membership", 3.0),
            ("validity check", 4.0),
            ("sensitivity to k", 1.0),
        ],
    )
    _, target = pipeline.trained_model(ctx, "target", progress=stage("target model"))
    _, shadow = pipeline.trained_model(ctx, "shadow", progress=stage("shadow model"))
    pipeline.importance(ctx, progress=stage("importance"))
    result = analysis.membership(ctx, progress=stage("membership"))
    analysis.validity(ctx, progress=stage("validity check"))
    analysis.k_sensitivity(ctx, progress=stage("sensitivity to k"))
    overall = result["groups"].query("group == 'all'")
    return {
        "target": target,
        "shadow": shadow,
        "auc": dict(zip(overall["attack"], overall["auc"], strict=True)),
    }


@register_job("membership", "membership inference by importance for a spec")
def membership_job(spec: RunSpec, store: Store, progress: Progress) -> dict:
    from backend import analysis

    ctx = pipeline.make_context(spec, store=store)
    result = analysis.membership(ctx, progress=progress)
    return {"censored": result["censored"]}
