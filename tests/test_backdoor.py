"""Backdoor poisoning: triggers pixel by pixel, poisoning row by row, success rates by
hand, and a tiny seeded sweep."""

from __future__ import annotations

import numpy as np
import pytest

from backend import pipeline
from backend.__main__ import main
from backend.attacks import backdoor
from backend.attacks.sweeps import Sweep
from backend.errors import ValueRiskError

from .test_stealing import fast_spec


def _images(n: int = 4, shape=(1, 8, 8), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


# -- triggers -------------------------------------------------------------------------


@pytest.mark.parametrize("value, color", [(1.0, "white"), (0.0, "black")])
def test_badnets_patch_covers_exactly_the_bottom_right_square(value, color):
    x = _images(shape=(3, 32, 32))
    trigger = backdoor.make_trigger(
        backdoor.BackdoorSpec(patch_color=color), (3, 32, 32)
    )
    assert trigger.size == 2 and trigger.value == value
    out = trigger.apply(x)
    inside = np.zeros((32, 32), bool)
    inside[30:, 30:] = True
    assert (out[:, :, inside] == value).all()
    np.testing.assert_array_equal(out[:, :, ~inside], x[:, :, ~inside])
    assert not np.shares_memory(out, x) and (x[:, :, inside] != value).any()


def test_patch_size_follows_the_image_size():
    sizes = {side: backdoor.auto_patch_size(side) for side in (8, 28, 32, 64)}
    assert sizes == {8: 2, 28: 2, 32: 2, 64: 5}
    spec = backdoor.BackdoorSpec(patch_size=3)
    assert backdoor.make_trigger(spec, (1, 28, 28)).size == 3
    with pytest.raises(ValueRiskError, match="does not fit"):
        backdoor.make_trigger(backdoor.BackdoorSpec(patch_size=9), (1, 8, 8))


def test_auto_colour_contrasts_with_the_corner():
    spec = backdoor.BackdoorSpec()
    assert backdoor.make_trigger(spec, (1, 8, 8), corner_mean=0.05).value == 1.0
    assert backdoor.make_trigger(spec, (1, 8, 8), corner_mean=0.9).value == 0.0


def test_digits_get_a_white_patch(store):
    # Digits are bright strokes on a black background: a black patch would vanish.
    ctx = pipeline.make_context(fast_spec(), store=store)
    trigger = backdoor.resolve_trigger(ctx, backdoor.BackdoorSpec())
    assert (trigger.kind, trigger.size, trigger.value) == ("badnets", 2, 1.0)


def test_blend_mixes_a_fixed_pattern_over_the_whole_image():
    x = _images()
    spec = backdoor.BackdoorSpec(trigger="blend", blend_alpha=0.25, pattern_seed=3)
    trigger = backdoor.make_trigger(spec, (1, 8, 8))
    again = backdoor.make_trigger(spec, (1, 8, 8))
    np.testing.assert_array_equal(trigger.pattern, again.pattern)
    np.testing.assert_allclose(
        trigger.apply(x), 0.75 * x + 0.25 * trigger.pattern[None], rtol=1e-6
    )


def test_sig_adds_a_horizontal_sinusoid_clipped_to_the_pixel_range():
    x = np.full((2, 1, 8, 8), 0.5, np.float32)
    x[1] = 0.95  # near white: the positive half of the wave is clipped
    spec = backdoor.BackdoorSpec(trigger="sig", sig_amplitude=0.1)
    trigger = backdoor.make_trigger(spec, (1, 8, 8))
    assert trigger.frequency == 2 and trigger.clean_label  # min(6, 8 // 4)
    wave = 0.1 * np.sin(2 * np.pi * 2 * np.arange(8) / 8)
    out = trigger.apply(x)
    np.testing.assert_allclose(out[0, 0], np.tile(0.5 + wave, (8, 1)), atol=1e-6)
    np.testing.assert_allclose(
        out[1, 0], np.tile(np.clip(0.95 + wave, 0, 1), (8, 1)), atol=1e-6
    )


# -- poisoning and success rate -------------------------------------------------------


def test_poison_changes_exactly_the_chosen_samples():
    x, y = _images(10), np.arange(10) % 3
    trigger = backdoor.make_trigger(backdoor.BackdoorSpec(), (1, 8, 8))
    chosen = np.array([1, 4, 7])
    px, py = backdoor.poison(x, y, chosen, trigger, target_class=2)
    others = np.setdiff1d(np.arange(10), chosen)
    np.testing.assert_array_equal(px[others], x[others])
    np.testing.assert_array_equal(py[others], y[others])
    np.testing.assert_array_equal(px[chosen], trigger.apply(x[chosen]))
    assert (py[chosen] == 2).all()
    assert (y[chosen] != 2).any()  # the inputs themselves are left untouched


def test_clean_label_poisons_must_be_of_the_target_class():
    x, y = _images(4), np.array([0, 0, 1, 1])
    trigger = backdoor.make_trigger(backdoor.BackdoorSpec(trigger="sig"), (1, 8, 8))
    px, py = backdoor.poison(x, y, np.array([0, 1]), trigger, target_class=0)
    np.testing.assert_array_equal(py, y)
    assert not np.array_equal(px[:2], x[:2])
    with pytest.raises(ValueRiskError, match="clean-label"):
        backdoor.poison(x, y, np.array([1, 2]), trigger, target_class=0)


def test_success_rate_leaves_out_target_class_images_unless_asked():
    true = np.array([0, 0, 1, 2, 3])
    predicted = np.array([0, 0, 0, 1, 0])
    # Standard: images of classes 1, 2, 3 only -> 2 of 3 sent to class 0.
    assert backdoor.attack_success_rate(predicted, true, 0) == pytest.approx(2 / 3)
    # The study's variant counts the two class-0 images as successes too.
    assert backdoor.attack_success_rate(
        predicted, true, 0, include_target=True
    ) == pytest.approx(4 / 5)
    assert np.isnan(backdoor.attack_success_rate(predicted[:2], true[:2], 0))


# -- the attacker's data --------------------------------------------------------------


def test_attacker_share_is_a_fixed_subset_with_its_own_importance(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    held = backdoor.held_members(ctx, 0.2)
    assert len(held) == 60 and len(np.unique(held)) == 60 and held.max() < 300
    np.testing.assert_array_equal(held, backdoor.held_members(ctx, 0.2))
    values = backdoor.attacker_importance(ctx, 0.2)
    assert values.shape == (60,) and np.isfinite(values).all()
    # Valued on its own, a share's importance is not the full set's, restricted.
    assert not np.allclose(values, pipeline.importance(ctx)[held])
    np.testing.assert_array_equal(
        backdoor.attacker_importance(ctx, 1.0), pipeline.importance(ctx)
    )


def test_sig_candidates_are_only_target_class_samples(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    spec = backdoor.BackdoorSpec(trigger="sig", target_class=3)
    chosen = backdoor.candidates(ctx, spec)
    assert len(chosen) > 0
    assert (ctx.data.y[ctx.split.members[chosen]] == 3).all()
    assert len(backdoor.candidates(ctx, backdoor.BackdoorSpec())) == 300


def test_bad_settings_are_explained(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    with pytest.raises(ValueRiskError, match="does not exist"):
        backdoor.backdoor_sweep(
            ctx, backdoor.BackdoorSpec(target_class=10), Sweep(budgets=(5,))
        )
    with pytest.raises(ValueRiskError, match="share must be in"):
        backdoor.BackdoorSpec(share=0)
    with pytest.raises(ValueRiskError, match="unknown trigger"):
        backdoor.BackdoorSpec(trigger="rainbow")
    with pytest.raises(ValueRiskError, match="at most 60"):
        backdoor.backdoor_sweep(
            ctx, backdoor.BackdoorSpec(share=0.2), Sweep(budgets=(100,))
        )


def test_examples_show_the_trigger_on_images_outside_the_target_class(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    clean, poisoned = backdoor.examples(ctx, backdoor.BackdoorSpec(), count=4)
    assert clean.shape == poisoned.shape == (4, 1, 8, 8)
    assert (poisoned[:, :, -2:, -2:] == 1.0).all()
    shown = backdoor.to_display(poisoned, size=64)
    assert shown[0].shape == (64, 64) and shown[0].dtype == np.uint8
    assert (shown[0][-16:, -16:] == 255).all()


# -- the sweep ------------------------------------------------------------------------


def test_backdoor_sweep_gives_curves_and_resumes(store):
    ctx = pipeline.make_context(fast_spec(), store=store)
    reader = pipeline.make_context(fast_spec(), store=store, read_only=True)
    spec = backdoor.BackdoorSpec()
    sweep = Sweep(budgets=(5, 30), seeds=(0, 1))
    empty = backdoor.backdoor_results(reader, spec, sweep)
    assert empty.points.empty and empty.baseline is None

    assert backdoor.backdoor_sweep(ctx, spec, sweep)["computed"] == 12
    results = backdoor.backdoor_results(reader, spec, sweep)
    assert len(results.points) == 12 and not results.missing
    assert list(results.summary["budget"]) == [5, 5, 5, 30, 30, 30]
    for column in ("asr", "asr_all", "clean_accuracy"):
        assert results.points[column].between(0, 1).all()
    # Counting target-class images as successes can only raise the rate.
    assert (results.points["asr_all"] >= results.points["asr"] - 1e-12).all()
    # The clean model barely reacts to the trigger; 30 poisons (10%) implant it.
    assert results.baseline["asr"] < 0.2
    assert results.summary.query("budget == 30")["asr_mean"].max() > 0.5
    assert "attack success rate (incl. target class)" in results.table(
        include_target=True
    )

    assert backdoor.backdoor_sweep(ctx, spec, sweep) == {
        "points": 12,
        "computed": 0,
        "reused": 12,
    }


def test_backdoor_command_prints_the_table(cache_path, capsys):
    args = [
        "backdoor",
        "--members", "300", "--nonmembers", "200", "--shadow-members", "200",
        "--shadow-nonmembers", "150", "--reference", "150",
        "--arch", "mlp", "--epochs", "10", "--batch-size", "32",
        "--budgets", "10", "--seeds", "0", "--selections", "top,random",
    ]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "attack success rate" in out and "random" in out and "bottom" not in out
    assert main([*args, "--trigger", "sig", "--budgets", "500"]) == 2
    assert "error: a budget of 500" in capsys.readouterr().err
