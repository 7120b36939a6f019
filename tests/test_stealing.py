"""Model stealing: pure pieces against hand-worked values, and a tiny seeded sweep."""

from __future__ import annotations

import numpy as np
import pytest

from backend import jobs, pipeline
from backend.__main__ import main
from backend.attacks import stealing, sweeps
from backend.attacks.sweeps import Sweep, SweepPoint
from backend.datasets import list_datasets
from backend.errors import ValueRiskError
from backend.training import predict_logits

from .conftest import tiny_spec


def fast_spec(**overrides):
    """A tiny digits spec with an MLP target: a sweep point takes a fraction of a
    second."""
    sections = {"model": {"arch": "mlp"}, "train": {"epochs": 10}}
    sections.update(overrides)
    return tiny_spec(**sections)


def _available(name: str) -> bool:
    return any(s.info.name == name and s.available for s in list_datasets())


# -- pure pieces ----------------------------------------------------------------------


def test_agreement_counts_matching_predictions():
    a = np.array([[2.0, 1.0], [0.0, 1.0], [5.0, 0.0], [0.1, 0.2]])
    b = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.4, 0.6]])
    assert stealing.agreement(a, b) == pytest.approx(3 / 4)
    with pytest.raises(ValueRiskError, match="same shape"):
        stealing.agreement(a, b[:2])


def test_agreement_is_one_when_the_surrogate_is_the_target(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    target, _ = pipeline.trained_model(ctx)
    x = ctx.data.features(ctx.split.nonmembers)
    logits = predict_logits(target, x)
    assert stealing.agreement(logits, predict_logits(target, x)) == 1.0
    # A model trained on other data is not the target, and agrees less than fully.
    shadow, _ = pipeline.trained_model(ctx, "shadow")
    assert stealing.agreement(logits, predict_logits(shadow, x)) < 1.0


def test_class_entropy_is_zero_for_one_class_and_maximal_when_uniform():
    assert sweeps.class_entropy(np.full(7, 3), 10) == (0.0, pytest.approx(np.log2(10)))
    entropy, top = sweeps.class_entropy(np.repeat(np.arange(4), 5), 4)
    assert entropy == pytest.approx(2.0) and top == pytest.approx(2.0)
    # Two classes 3:1 -> H = −(¾ log2 ¾ + ¼ log2 ¼) ≈ 0.8113 bits.
    assert sweeps.class_entropy([0, 0, 0, 1], 2)[0] == pytest.approx(0.811278, abs=1e-6)


def test_convert_images_changes_channels_and_size():
    rgb = np.zeros((2, 3, 28, 28), np.float32)
    rgb[:, 0], rgb[:, 1], rgb[:, 2] = 1.0, 0.5, 0.0
    grey = stealing.convert_images(rgb, (1, 8, 8))
    assert grey.shape == (2, 1, 8, 8) and grey.dtype == np.float32
    np.testing.assert_allclose(grey, 0.299 + 0.587 * 0.5, atol=1e-5)

    one = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    three = stealing.convert_images(one, (3, 8, 8))
    for channel in range(3):
        np.testing.assert_array_equal(three[:, channel], one[:, 0])
    assert stealing.convert_images(one, (1, 28, 28)).shape == (3, 1, 28, 28)


def test_fit_surrogate_learns_to_agree_with_its_teacher(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    target, _ = pipeline.trained_model(ctx)
    queries = ctx.data.features(ctx.split.shadow_members)
    surrogate = stealing.fit_surrogate(
        target_spec := ctx.spec.model,
        queries,
        predict_logits(target, queries),
        num_classes=10,
        kind="image",
        seed=0,
    )
    assert target_spec.arch == "mlp"
    test = ctx.data.features(ctx.split.nonmembers)
    fidelity = stealing.agreement(
        predict_logits(surrogate, test), predict_logits(target, test)
    )
    assert fidelity > 0.7


def test_sweep_grid_is_sorted_unique_and_validated():
    sweep = Sweep(budgets=(50, 10, 50), seeds=(1, 0), selections=("random", "top"))
    assert sweep.budgets == (10, 50) and sweep.seeds == (0, 1)
    assert sweep.selections == ("top", "random")
    points = sweep.points()
    assert len(points) == 8 and points[0] == SweepPoint("top", 10, 0)
    assert Sweep.from_params(sweep.to_params()) == sweep
    with pytest.raises(ValueRiskError, match="budgets must be"):
        Sweep(budgets=())
    with pytest.raises(ValueRiskError, match="selections must be"):
        Sweep(budgets=(5,), selections=("middle",))


def test_steal_spec_rejects_unknown_settings():
    with pytest.raises(ValueRiskError, match="unknown query pool"):
        stealing.StealSpec(pool="everything")
    with pytest.raises(ValueRiskError, match="unknown surrogate loss"):
        stealing.StealSpec(loss="mse")


# -- the sweep ------------------------------------------------------------------------


def test_steal_sweep_gives_curves_resumes_and_extends(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    spec = stealing.StealSpec(min_steps=60)
    small = Sweep(budgets=(20, 60), seeds=(0, 1))

    # Read-only before computing: nothing stored, every point missing.
    reader = pipeline.make_context(fast_spec(), store=store, read_only=True)
    empty = stealing.steal_results(reader, spec, small)
    assert empty.points.empty and len(empty.missing) == 12

    counts = stealing.steal_sweep(ctx, spec, small)
    assert counts == {"points": 12, "computed": 12, "reused": 0}

    # One row per point; one summary row per (selection, budget), over two seeds.
    results = stealing.steal_results(reader, spec, small)
    assert len(results.points) == 12 and not results.missing
    assert list(results.summary["budget"]) == [20, 20, 20, 60, 60, 60]
    assert list(results.summary["selection"]) == ["top", "bottom", "random"] * 2
    assert (results.summary["seeds"] == 2).all()
    for column in ("accuracy", "fidelity"):
        assert results.points[column].between(0, 1).all()
    assert (results.points["label_entropy"] <= results.points["max_entropy"]).all()
    assert 0.5 < results.target_accuracy <= 1
    # Top and bottom sets do not change with the seed, so neither does their entropy.
    fixed = results.summary[results.summary["selection"] != "random"]
    assert (fixed["label_entropy_std"] == 0).all()

    # Stored points are reused (also when the default surrogate is named); a larger
    # sweep computes only what is new.
    assert stealing.steal_sweep(ctx, spec, small)["computed"] == 0
    named = stealing.StealSpec(min_steps=60, surrogate_arch="mlp")
    assert stealing.steal_sweep(ctx, named, small)["computed"] == 0
    larger = Sweep(budgets=(20, 60, 100), seeds=(0, 1))
    assert stealing.steal_sweep(ctx, spec, larger) == {
        "points": 18,
        "computed": 6,
        "reused": 12,
    }
    table = stealing.steal_results(reader, spec, larger).table()
    assert list(table.columns) == [
        "selection",
        "budget",
        "seeds",
        *stealing.METRICS.values(),
    ]
    assert " ± " in table.iloc[0]["surrogate accuracy"]


def test_steal_sweep_rejects_a_budget_larger_than_the_pool(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    with pytest.raises(ValueRiskError, match="at most 200"):
        stealing.steal_sweep(ctx, stealing.StealSpec(), Sweep(budgets=(500,)))
    with pytest.raises(ValueRiskError, match="does not exist or does not accept"):
        stealing.steal_sweep(
            ctx, stealing.StealSpec(surrogate_arch="lstm"), Sweep(budgets=(10,))
        )


def test_members_pool_uses_the_true_importance(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    pool = stealing.query_pool(ctx, stealing.StealSpec(pool="members"))
    np.testing.assert_array_equal(pool.importance, pipeline.importance(ctx))
    assert (
        len(pool.x)
        == len(ctx.split.members)
        == stealing.pool_size(ctx, stealing.StealSpec(pool="members"))
    )


def test_cross_pool_needs_another_dataset(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    with pytest.raises(ValueRiskError, match="another dataset"):
        stealing.pool_size(
            ctx, stealing.StealSpec(pool="cross", cross_dataset="digits")
        )


@pytest.mark.skipif(
    not _available("fashion-mnist"), reason="Fashion-MNIST files are not installed"
)
def test_cross_pool_is_converted_to_the_target_shape_and_valued(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    spec = stealing.StealSpec(pool="cross", cross_pool=300, cross_reference=100)
    pool = stealing.query_pool(ctx, spec)
    assert pool.x.shape == (300, 1, 8, 8)
    assert pool.importance.shape == (300,) and np.isfinite(pool.importance).all()
    assert set(np.unique(pool.labels)) <= set(range(10))
    assert "Fashion-MNIST" in stealing.pool_description(ctx, spec)
    assert stealing.pool_size(ctx, spec) == 300


# -- job and command line -------------------------------------------------------------


def test_steal_job_and_command_print_the_table(cache_path, capsys):
    args = [
        "steal",
        "--members", "300", "--nonmembers", "200", "--shadow-members", "200",
        "--shadow-nonmembers", "150", "--reference", "150",
        "--arch", "mlp", "--epochs", "10", "--batch-size", "32",
        "--budgets", "20", "--seeds", "0",
    ]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "surrogate accuracy" in out and "random" in out and "bottom" in out
    assert "steal" in jobs.JOB_KINDS

    assert main([*args[:-4], "--budgets", "5000"]) == 2
    assert "error: a budget of 5000" in capsys.readouterr().err


def test_mean_std_text_drops_the_spread_of_a_single_seed():
    assert sweeps.mean_std_text(0.81234, 0.0041) == "0.812 ± 0.004"
    assert sweeps.mean_std_text(0.81234, float("nan")) == "0.812"
    assert sweeps.mean_std_text(0.5, 0.1, percent=True) == "50.0% ± 10.0%"
