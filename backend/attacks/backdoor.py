"""Backdoor poisoning with poison sets chosen by importance.

Threat model: the attacker controls n samples of the target's training set. It adds a
trigger to them and, for a dirty-label attack, relabels them to a target class; the
owner then trains on the poisoned set as usual (the trigger is in the data before any
training augmentation, as a real poisoner's data would be). The backdoor works when
test images carrying the trigger are classified as the target class (attack success
rate, ASR) while clean test accuracy stays high.

The question is whether the attacker's choice of poisons matters: the top-n samples by
importance, the bottom-n, or a random n (the baseline a reader needs to judge the
other two). The study ("Understanding Data Importance in Machine Learning Attacks",
NDSS 2025) let the attacker value only the share of the training set it holds (2%,
5% or 20%): ``share`` is that fraction here. With a share of 1 the attacker uses the
members' true importance; with less it computes KNN-Shapley of the samples it holds
against the split's reference set, in the spec's representation.

Triggers:

- ``"badnets"`` (Gu et al., 2017): a solid square patch in the bottom-right corner,
  sized to the image (``max(2, round(side / 14))``: 2 px on 8×8 digits and on 28×28
  or 32×32 images, 5 px on 64×64, close to the study's 2×2 on 32×32 and 5×5 on
  64×64). A black patch on dark-background images (digits, Fashion-MNIST) would be
  invisible, so ``"auto"`` picks white when the corner of the attacker's images is
  dark on average (mean intensity below 0.5) and black otherwise.
- ``"blend"`` (Chen et al., 2017): a fixed random pattern (uniform noise from
  ``pattern_seed``) blended over the whole image, ``(1 − α)·x + α·pattern``.
- ``"sig"`` (Barni et al., 2019): a horizontal sinusoid ``Δ·sin(2π·f·j / W)`` added
  to every row, clipped to [0, 1]. It is a clean-label attack: only samples of the
  target class are poisoned, and their labels stay as they are.

Dirty-label poisons are chosen among every sample the attacker holds, the target class
included, as in the study; a target-class poison only gains the trigger.

ASR is measured on the target's non-members carrying the trigger. The standard
protocol leaves out those whose true class is the target (they would count as
successes without any backdoor); the study's variant keeps them. Both are stored;
``asr`` is the standard one and ``asr_all`` the study's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from backend.attacks import sweeps
from backend.attacks.sweeps import Sweep, SweepPoint
from backend.errors import ValueRiskError
from backend.jobs import register_job, staged
from backend.pipeline import (
    Context,
    NotComputed,
    cached,
    importance,
    importance_inputs,
    make_context,
    model_inputs,
    representation,
    trained_model,
)
from backend.selection import select
from backend.specs import RunSpec
from backend.store import Store
from backend.training import Progress, predict_logits, train_model
from backend.valuation import knn_shapley

__all__ = [
    "VERSIONS",
    "TRIGGERS",
    "COLORS",
    "METRICS",
    "BackdoorSpec",
    "Trigger",
    "auto_patch_size",
    "make_trigger",
    "resolve_trigger",
    "poison",
    "attack_success_rate",
    "held_members",
    "attacker_importance",
    "candidates",
    "default_budgets",
    "backdoor_point",
    "backdoor_baseline",
    "backdoor_sweep",
    "BackdoorResults",
    "backdoor_results",
    "examples",
    "to_display",
    "backdoor_job",
    "asr_chart",
    "clean_accuracy_chart",
]

# Code version of each stage: bump one when its output for the same inputs changes.
VERSIONS = {"backdoor-importance": 1, "backdoor-point": 1, "backdoor-baseline": 1}

TRIGGERS = ("badnets", "blend", "sig")
COLORS = ("auto", "black", "white")

# Per-point numbers, and their titles in tables.
METRICS = {
    "asr": "attack success rate",
    "clean_accuracy": "clean accuracy",
    "label_entropy": "class entropy (bits)",
}
PAPER_METRICS = {"asr_all": "attack success rate (incl. target class)"} | {
    k: v for k, v in METRICS.items() if k != "asr"
}


@dataclass(frozen=True)
class BackdoorSpec:
    """The trigger, the target class, and how much of the data the attacker holds."""

    trigger: str = "badnets"  # one of TRIGGERS
    target_class: int = 0  # the class triggered inputs should be classified as
    patch_size: int = 0  # badnets: side in pixels; 0 = auto_patch_size(image side)
    patch_color: str = "auto"  # badnets: "black", "white", or contrast with corner
    blend_alpha: float = 0.2  # blend: weight of the random pattern
    sig_amplitude: float = 0.1  # sig: Δ, on inputs scaled to [0, 1] (≈ 25/255)
    sig_frequency: int = 0  # sig: periods across the width; 0 = min(6, width // 4)
    pattern_seed: int = 0  # blend: seed of the random pattern
    share: float = 1.0  # fraction of the members the attacker holds and values
    balanced: bool = False  # class-balanced top/bottom-n; the study took plain top-n

    def __post_init__(self) -> None:
        if self.trigger not in TRIGGERS:
            raise ValueRiskError(
                f"unknown trigger {self.trigger!r}; choose one of {TRIGGERS}."
            )
        if self.patch_color not in COLORS:
            raise ValueRiskError(
                f"unknown patch colour {self.patch_color!r}; choose one of {COLORS}."
            )
        if not 0 < self.share <= 1:
            raise ValueRiskError(
                f"backdoor.share must be in (0, 1], got {self.share}; use 0.05 for an "
                "attacker holding 5% of the training set."
            )
        if not 0 < self.blend_alpha < 1 or not 0 < self.sig_amplitude <= 1:
            raise ValueRiskError(
                "backdoor.blend_alpha must be in (0, 1) and sig_amplitude in (0, 1]; "
                f"got {self.blend_alpha} and {self.sig_amplitude}."
            )
        if self.patch_size < 0 or self.sig_frequency < 0 or self.target_class < 0:
            raise ValueRiskError(
                "backdoor.patch_size, sig_frequency and target_class must be ≥ 0; got "
                f"{self.patch_size}, {self.sig_frequency} and {self.target_class}."
            )

    def to_params(self) -> dict:
        return dataclasses.asdict(self)


# -- triggers -------------------------------------------------------------------------


def auto_patch_size(side: int) -> int:
    """The BadNets patch side for an image side: max(2, round(side / 14))."""
    return max(2, round(side / 14))


@dataclass(frozen=True, eq=False)
class Trigger:
    """A resolved trigger: every automatic choice made, ready to apply.

    Attributes:
        kind: one of :data:`TRIGGERS`.
        size: BadNets patch side in pixels.
        value: BadNets patch intensity, 0.0 (black) or 1.0 (white).
        alpha: blend weight of the pattern.
        pattern: blend pattern, float32 (C, H, W) in [0, 1]; None for other kinds.
        amplitude: SIG amplitude Δ.
        frequency: SIG periods across the width.
    """

    kind: str
    size: int = 0
    value: float = 1.0
    alpha: float = 0.0
    pattern: np.ndarray | None = None
    amplitude: float = 0.0
    frequency: int = 0

    @property
    def clean_label(self) -> bool:
        """True when poisons keep their labels (and must be of the target class)."""
        return self.kind == "sig"

    def apply(self, x: np.ndarray) -> np.ndarray:
        """The images with the trigger, float32 (n, C, H, W) in [0, 1]; x is kept."""
        x = np.asarray(x, dtype=np.float32)
        if self.kind == "badnets":
            out = x.copy()
            out[:, :, -self.size :, -self.size :] = self.value
            return out
        if self.kind == "blend":
            return ((1 - self.alpha) * x + self.alpha * self.pattern).astype(np.float32)
        width = x.shape[-1]
        wave = self.amplitude * np.sin(
            2 * np.pi * self.frequency * np.arange(width) / width
        )
        return np.clip(x + wave.astype(np.float32), 0.0, 1.0)


def make_trigger(
    spec: BackdoorSpec, input_shape: tuple[int, ...], *, corner_mean: float = 0.0
) -> Trigger:
    """Resolve a spec's trigger for an image shape.

    Args:
        spec: the backdoor settings.
        input_shape: (C, H, W) of the images.
        corner_mean: mean intensity of the bottom-right patch region over the
            attacker's images; with ``patch_color="auto"`` a dark corner (< 0.5) gets
            a white patch, a light one a black patch.
    """
    if len(input_shape) != 3:
        raise ValueRiskError(
            f"backdoor triggers need images (C, H, W); got input shape {input_shape}. "
            "Choose an image dataset."
        )
    channels, height, width = input_shape
    if spec.trigger == "badnets":
        size = spec.patch_size or auto_patch_size(min(height, width))
        if size > min(height, width):
            raise ValueRiskError(
                f"a {size}-pixel patch does not fit in {height}×{width} images; choose "
                f"a patch of at most {min(height, width)} (or 0 for automatic)."
            )
        color = spec.patch_color
        if color == "auto":
            color = "white" if corner_mean < 0.5 else "black"
        return Trigger("badnets", size=size, value=1.0 if color == "white" else 0.0)
    if spec.trigger == "blend":
        rng = np.random.default_rng(spec.pattern_seed)
        pattern = rng.random((channels, height, width), dtype=np.float32)
        return Trigger("blend", alpha=spec.blend_alpha, pattern=pattern)
    frequency = spec.sig_frequency or max(1, min(6, width // 4))
    return Trigger("sig", amplitude=spec.sig_amplitude, frequency=frequency)


def poison(
    x: np.ndarray,
    y: np.ndarray,
    chosen: np.ndarray,
    trigger: Trigger,
    target_class: int,
) -> tuple[np.ndarray, np.ndarray]:
    """A copy of a training set with the chosen samples poisoned.

    Args:
        x: float32 images, (n, C, H, W).
        y: labels, (n,).
        chosen: positions of the poisons in x, (m,).
        trigger: the trigger to add.
        target_class: the label poisons get (dirty label); for a clean-label trigger
            every chosen sample must already have it.

    Returns:
        (x', y'): only the rows in ``chosen`` differ from (x, y).
    """
    chosen = np.asarray(chosen, dtype=np.int64)
    if trigger.clean_label and np.any(y[chosen] != target_class):
        raise ValueRiskError(
            f"the clean-label {trigger.kind} trigger poisons only samples of the "
            f"target class {target_class}; the chosen set holds other classes. Choose "
            "the poisons among the target class."
        )
    x_out, y_out = np.array(x, dtype=np.float32, copy=True), np.array(y, copy=True)
    x_out[chosen] = trigger.apply(x_out[chosen])
    y_out[chosen] = target_class
    return x_out, y_out


def attack_success_rate(
    predictions: np.ndarray,
    true_labels: np.ndarray,
    target_class: int,
    *,
    include_target: bool = False,
) -> float:
    """Share of triggered inputs classified as the target class.

    Args:
        predictions: predicted class of each triggered test input, (n,).
        true_labels: their true classes, (n,).
        target_class: the backdoor's target.
        include_target: keep inputs whose true class is the target (the study's
            variant); by default they are left out (the standard protocol).

    Returns:
        The rate in [0, 1], NaN when no input is left.
    """
    predictions, true_labels = np.asarray(predictions), np.asarray(true_labels)
    keep = (
        np.ones(len(true_labels), bool)
        if include_target
        else true_labels != target_class
    )
    if not keep.any():
        return float("nan")
    return float((predictions[keep] == target_class).mean())


# -- the attacker's data and its importance -------------------------------------------


def held_members(ctx: Context, share: float) -> np.ndarray:
    """Positions (into ``ctx.split.members``) of the members the attacker holds.

    A fixed random share, drawn from the split's seed and the share itself, so every
    point of a sweep (and every seed) sees the same attacker data.
    """
    n = len(ctx.split.members)
    if share >= 1:
        return np.arange(n)
    count = max(1, int(round(share * n)))
    rng = np.random.default_rng([ctx.spec.split.seed, int(round(share * 1e6))])
    return np.sort(rng.choice(n, size=count, replace=False))


def _importance_stage_inputs(ctx: Context, share: float) -> dict:
    return {**importance_inputs(ctx), "share": share}


def attacker_importance(
    ctx: Context, share: float, *, progress: Progress | None = None
) -> np.ndarray:
    """Importance of the held members, as the attacker computes it.

    With ``share == 1`` the members' true importance; otherwise KNN-Shapley of the
    held members alone against the reference set (cached).

    Returns:
        float64 aligned with :func:`held_members`.
    """
    if share >= 1:
        return importance(ctx, progress=progress)
    held = ctx.split.members[held_members(ctx, share)]
    reference = ctx.split.reference

    def compute() -> np.ndarray:
        return knn_shapley(
            representation(ctx, held),
            ctx.data.y[held],
            representation(ctx, reference),
            ctx.data.y[reference],
            k=ctx.spec.valuation.k,
            progress=progress,
        )

    return cached(
        ctx,
        "backdoor-importance",
        VERSIONS["backdoor-importance"],
        _importance_stage_inputs(ctx, share),
        compute,
    )


def candidates(ctx: Context, spec: BackdoorSpec) -> np.ndarray:
    """Positions (into members) the attacker may poison: what it holds, and for a
    clean-label trigger only the target class."""
    held = held_members(ctx, spec.share)
    if spec.trigger == "sig":
        labels = ctx.data.y[ctx.split.members[held]]
        held = held[labels == spec.target_class]
    return held


def default_budgets(
    available: int, *, clean_label: bool = False, count: int = 3
) -> list[int]:
    """A demo-sized sweep: the largest ``count`` ladder budgets up to 8% of what the
    attacker may poison (50% for a clean-label trigger, whose candidates are one
    class), at least 5 (always a subset of
    :func:`backend.attacks.sweeps.budget_options`)."""
    cap = max(int((0.5 if clean_label else 0.08) * available), min(5, available))
    options = sweeps.ladder(cap, minimum=2)
    return options[-count:] or sweeps.budget_options(available)[-1:]


def resolve_trigger(ctx: Context, spec: BackdoorSpec) -> Trigger:
    """The spec's trigger for this dataset, its automatic colour from the held data."""
    if spec.target_class >= ctx.data.info.num_classes:
        raise ValueRiskError(
            f"target class {spec.target_class} does not exist: {ctx.spec.dataset!r} "
            f"has classes 0 to {ctx.data.info.num_classes - 1}."
        )
    shape = ctx.data.info.input_shape
    if ctx.data.info.kind != "image":
        return make_trigger(spec, shape)  # raises: triggers need images
    size = spec.patch_size or auto_patch_size(min(shape[1:]))
    held = ctx.split.members[held_members(ctx, spec.share)]
    corner = ctx.data.x[held][:, :, -size:, -size:]
    return make_trigger(spec, shape, corner_mean=float(corner.mean()) / 255.0)


# -- one point of the sweep -----------------------------------------------------------


def _point_inputs(ctx: Context, spec: BackdoorSpec, point: SweepPoint) -> dict:
    return {
        **model_inputs(ctx, "target"),
        "importance": _importance_stage_inputs(ctx, spec.share),
        "backdoor": spec.to_params(),
        "point": point.to_dict(),
    }


class _Attack:
    """What every point of one sweep shares: trigger, candidates, their importance."""

    def __init__(self, ctx: Context, spec: BackdoorSpec, progress: Progress) -> None:
        self.trigger = resolve_trigger(ctx, spec)
        held = held_members(ctx, spec.share)
        values = attacker_importance(ctx, spec.share, progress=progress)
        self.candidates = candidates(ctx, spec)
        self.values = values[np.searchsorted(held, self.candidates)]
        members = ctx.split.members
        self.x, self.y = ctx.data.features(members), ctx.data.y[members]
        test = ctx.split.nonmembers
        self.y_test = ctx.data.y[test]
        self.x_test = ctx.data.features(test)
        self.x_test_triggered = self.trigger.apply(self.x_test)


def _evaluate(model, shared: _Attack, target_class: int) -> dict:
    clean = predict_logits(model, shared.x_test).argmax(1)
    triggered = predict_logits(model, shared.x_test_triggered).argmax(1)
    return {
        "asr": attack_success_rate(triggered, shared.y_test, target_class),
        "asr_all": attack_success_rate(
            triggered, shared.y_test, target_class, include_target=True
        ),
        "clean_accuracy": float((clean == shared.y_test).mean()),
    }


def backdoor_point(
    ctx: Context,
    spec: BackdoorSpec,
    point: SweepPoint,
    *,
    attack: _Attack | None = None,
) -> dict:
    """Poison the chosen samples, train a model, and measure the backdoor (cached).

    The poisoned model is trained like the target (the spec's model and training
    recipe) with the point's seed as its training seed.

    Returns:
        ``asr`` (standard), ``asr_all`` (the study's variant), ``clean_accuracy``,
        ``label_entropy`` / ``max_entropy`` of the poisons' original classes (bits).
    """

    def compute() -> dict:
        shared = attack or _Attack(ctx, spec, lambda f, m: None)
        sweeps.check_budget(
            point.budget, len(shared.candidates), "the attacker's share of the data"
        )

        # Choose the poisons among what the attacker holds, and poison them.
        labels = shared.y[shared.candidates] if spec.balanced else None
        picked = select(
            shared.values, point.budget, point.selection, labels=labels, seed=point.seed
        )
        chosen = shared.candidates[picked]
        x, y = poison(shared.x, shared.y, chosen, shared.trigger, spec.target_class)

        # Train as the owner would, on the poisoned set, and test.
        train = dataclasses.replace(ctx.spec.train, seed=point.seed)
        info = ctx.data.info
        model = train_model(
            ctx.spec.model, train, x, y, num_classes=info.num_classes, kind=info.kind
        )
        entropy, top = sweeps.class_entropy(shared.y[chosen], info.num_classes)
        return {
            **_evaluate(model, shared, spec.target_class),
            "label_entropy": entropy,
            "max_entropy": top,
        }

    return cached(
        ctx,
        "backdoor-point",
        VERSIONS["backdoor-point"],
        _point_inputs(ctx, spec, point),
        compute,
    )


def _baseline_inputs(ctx: Context, spec: BackdoorSpec) -> dict:
    # How poisons are chosen does not change the clean target's numbers; the share
    # stays in, since it sets the automatic patch colour.
    trigger = {k: v for k, v in spec.to_params().items() if k not in ("balanced",)}
    return {**model_inputs(ctx, "target"), "backdoor": trigger}


def backdoor_baseline(
    ctx: Context, spec: BackdoorSpec, *, attack: _Attack | None = None
) -> dict:
    """The clean target's numbers under the same trigger: ASR without any poison.

    Returns:
        ``asr``, ``asr_all`` and ``clean_accuracy`` of the unpoisoned target.
    """

    def compute() -> dict:
        shared = attack or _Attack(ctx, spec, lambda f, m: None)
        model, _ = trained_model(ctx, "target")
        return _evaluate(model, shared, spec.target_class)

    return cached(
        ctx,
        "backdoor-baseline",
        VERSIONS["backdoor-baseline"],
        _baseline_inputs(ctx, spec),
        compute,
    )


# -- the sweep ------------------------------------------------------------------------


def backdoor_sweep(
    ctx: Context, spec: BackdoorSpec, sweep: Sweep, *, progress: Progress | None = None
) -> dict:
    """Compute every missing point of the sweep, and the clean baseline.

    Returns:
        ``{"points", "computed", "reused"}`` counts.
    """
    progress = progress or (lambda f, m: None)
    resolve_trigger(ctx, spec)  # fail fast on a bad trigger or target class
    sweep.check_fits(len(candidates(ctx, spec)), "the attacker's share of the data")
    points = sweep.points()
    has = ctx.store.has
    stored = {
        p: has(
            "backdoor-point", VERSIONS["backdoor-point"], _point_inputs(ctx, spec, p)
        )
        for p in points
    }
    stage = staged(
        progress, [("target model", 1.0), ("importance", 1.0), ("points", 6.0)]
    )
    trained_model(ctx, "target", progress=stage("target model"))
    shared = _Attack(ctx, spec, stage("importance"))
    backdoor_baseline(ctx, spec, attack=shared)
    return sweeps.run_points(
        points,
        done=stored.__getitem__,
        compute=lambda p: backdoor_point(ctx, spec, p, attack=shared),
        progress=stage("points"),
    )


@dataclass(frozen=True, eq=False)
class BackdoorResults:
    """What is stored of a sweep.

    Attributes:
        points: one row per stored point: selection, budget, seed and the numbers of
            :func:`backdoor_point`.
        summary: mean ± std over seeds per (selection, budget).
        missing: the points not stored yet.
        baseline: :func:`backdoor_baseline`, or None when not stored.
    """

    points: pd.DataFrame
    summary: pd.DataFrame
    missing: list[SweepPoint]
    baseline: dict | None

    def table(self, *, include_target: bool = False) -> pd.DataFrame:
        """The summary as ``mean ± std`` text columns (the study's ASR if asked)."""
        return sweeps.summary_table(
            self.summary, PAPER_METRICS if include_target else METRICS
        )


def backdoor_results(ctx: Context, spec: BackdoorSpec, sweep: Sweep) -> BackdoorResults:
    """Read the sweep's stored points; never computes (works on a read-only context)."""

    def read(point: SweepPoint) -> dict:
        entry = ctx.store.get(
            "backdoor-point",
            VERSIONS["backdoor-point"],
            _point_inputs(ctx, spec, point),
            fingerprint=ctx.data.fingerprint,
        )
        if entry is None:
            raise NotComputed("backdoor-point")
        return entry.payload

    frame, missing = sweeps.collect(sweep.points(), read)
    summary = sweeps.summarise(
        frame, ["asr", "asr_all", "clean_accuracy", "label_entropy"]
    )
    baseline = ctx.store.get(
        "backdoor-baseline",
        VERSIONS["backdoor-baseline"],
        _baseline_inputs(ctx, spec),
        fingerprint=ctx.data.fingerprint,
    )
    return BackdoorResults(
        frame, summary, missing, baseline.payload if baseline else None
    )


def examples(
    ctx: Context, spec: BackdoorSpec, *, count: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Clean and triggered versions of the first ``count`` test images.

    For a dirty-label trigger the images are ones not of the target class (what ASR
    measures); for SIG they are of the target class (what the attacker poisons).

    Returns:
        Two float32 arrays (count, C, H, W) in [0, 1]: clean, then triggered.
    """
    trigger = resolve_trigger(ctx, spec)
    test = ctx.split.nonmembers
    labels = ctx.data.y[test]
    pick = (
        labels == spec.target_class
        if trigger.clean_label
        else labels != spec.target_class
    )
    clean = ctx.data.features(test[pick][:count])
    return clean, trigger.apply(clean)


def to_display(images: np.ndarray, *, size: int = 112) -> list[np.ndarray]:
    """Images ready to show: uint8, upscaled by an integer factor to about ``size``.

    Nearest-neighbour upscaling on the server keeps a 1-pixel trigger sharp (a
    browser would blur it).

    Args:
        images: float32 (n, C, H, W) in [0, 1].

    Returns:
        n arrays, (H·f, W·f) for one channel or (H·f, W·f, 3) for three.
    """
    factor = max(1, size // images.shape[-1])
    big = np.repeat(np.repeat(images, factor, axis=2), factor, axis=3)
    big = np.rint(np.clip(big, 0.0, 1.0) * 255).astype(np.uint8)
    return [img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0) for img in big]


@register_job("backdoor", "backdoor poisoning with top, bottom and random poison sets")
def backdoor_job(spec: RunSpec, store: Store, progress: Progress, **params) -> dict:
    """Job: run a backdoor sweep. ``params``: a BackdoorSpec's fields plus the
    sweep's ``budgets``, ``seeds`` and ``selections``."""
    backdoor, sweep = params_to_specs(params)
    ctx = make_context(spec, store=store)
    return backdoor_sweep(ctx, backdoor, sweep, progress=progress)


def params_to_specs(params: dict) -> tuple[BackdoorSpec, Sweep]:
    """Split job params into the BackdoorSpec and the Sweep."""
    sweep_keys = ("budgets", "seeds", "selections")
    spec = BackdoorSpec(**{k: v for k, v in params.items() if k not in sweep_keys})
    return spec, Sweep.from_params(params)


def job_params(spec: BackdoorSpec, sweep: Sweep) -> dict:
    """The job params of a BackdoorSpec and a Sweep (see :func:`params_to_specs`)."""
    return {**spec.to_params(), **sweep.to_params()}


# -- charts ---------------------------------------------------------------------------


def asr_chart(results: BackdoorResults, *, include_target: bool = False) -> alt.Chart:
    """Attack success rate against the number of poisons, with the clean baseline."""
    metric = "asr_all" if include_target else "asr"
    baseline = results.baseline[metric] if results.baseline else None
    return sweeps.curve_chart(
        results.summary,
        metric,
        title="Attack success rate"
        + (" (target-class images included)" if include_target else ""),
        y_title="triggered test images → target class",
        x_title="poisoned training samples (n)",
        reference=baseline,
        reference_label="clean model (no poison)",
    )


def clean_accuracy_chart(results: BackdoorResults) -> alt.Chart:
    """Clean test accuracy of the poisoned models against the number of poisons."""
    baseline = results.baseline["clean_accuracy"] if results.baseline else None
    return sweeps.curve_chart(
        results.summary,
        "clean_accuracy",
        title="Clean accuracy of the poisoned model",
        y_title="clean test accuracy",
        x_title="poisoned training samples (n)",
        reference=baseline,
        reference_label="clean model (no poison)",
    )
