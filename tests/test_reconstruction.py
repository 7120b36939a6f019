"""Reconstruction: the Fréchet distance, DeepInversion, the GAN, the study, its CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import torch

from backend import pipeline
from backend.__main__ import main
from backend.attacks import reconstruction as rec
from backend.attacks.groups import group_index
from backend.datasets import csv_reference, load_dataset
from backend.errors import ValueRiskError
from backend.specs import make_runspec
from backend.training import predict_logits, train_model

from .conftest import tiny_spec

# Settings small enough for seconds on one core.
TINY = {
    "groups": {"n_groups": 2, "min_steps": 40},
    "classes": (0, 1, 2),
    "per_class": 2,
    "di_steps": 40,
    "gan_steps": 20,
    "gmi_steps": 20,
    "evaluator_samples": 150,
}


# -- the Fréchet distance -------------------------------------------------------------


def _reference_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """FID's formula with scipy's general matrix square root."""
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def test_frechet_distance_is_zero_for_identical_sets():
    a = np.random.default_rng(0).normal(size=(200, 8))
    assert rec.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    # Also for a set too small for a full-rank covariance.
    small = a[:5]
    assert rec.frechet_distance(small, small) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_grows_with_a_shift():
    a = np.random.default_rng(1).normal(size=(300, 6))
    distances = [rec.frechet_distance(a, a + shift) for shift in (0.0, 0.5, 1.0, 2.0)]
    assert np.all(np.diff(distances) > 0)
    # Same covariance: the distance is the squared length of the shift, 6 · 2².
    assert distances[-1] == pytest.approx(6 * 2.0**2, rel=1e-9)


def test_frechet_distance_matches_the_general_formula():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))
    b = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + 0.3
    assert rec.frechet_distance(a, b) == pytest.approx(
        _reference_frechet(a, b), rel=1e-6
    )
    assert rec.frechet_distance(a, b) == pytest.approx(rec.frechet_distance(b, a))


def test_frechet_distance_refuses_bad_shapes():
    with pytest.raises(ValueRiskError, match="same d"):
        rec.frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueRiskError, match="at least two vectors"):
        rec.frechet_distance(np.zeros((1, 3)), np.zeros((4, 3)))


# -- the attacks -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def digit_model():
    """A small CNN trained for a few epochs on 400 digits."""
    data = load_dataset("digits")
    x, y = data.features(np.arange(400)), data.y[:400]
    spec = make_runspec("digits", train={"epochs": 6, "batch_size": 32})
    model = train_model(spec.model, spec.train, x, y, num_classes=10)
    return model, data


def test_deep_inversion_lowers_its_loss_and_hits_the_class(digit_model):
    model, _ = digit_model
    labels = np.repeat(np.arange(10), 2)
    images, history = rec.deep_inversion(
        model, labels, input_shape=(1, 8, 8), steps=80, seed=0
    )
    assert images.shape == (20, 1, 8, 8) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert history[-10:].mean() < 0.5 * history[:5].mean()
    hits = (predict_logits(model, images).argmax(1) == labels).mean()
    assert hits >= 0.8


def test_deep_inversion_leaves_the_model_as_it_was(digit_model):
    model, _ = digit_model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rec.deep_inversion(model, np.array([3, 4]), input_shape=(1, 8, 8), steps=5)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.requires_grad for p in model.parameters())
    assert not any(m._forward_hooks for m in model.modules())


def test_deep_inversion_is_seeded(digit_model):
    model, _ = digit_model
    a, _ = rec.deep_inversion(model, [1, 2], input_shape=(1, 8, 8), steps=5, seed=3)
    b, _ = rec.deep_inversion(model, [1, 2], input_shape=(1, 8, 8), steps=5, seed=3)
    np.testing.assert_array_equal(a, b)


def test_gan_shapes_and_latent_search_lowers_its_loss(digit_model):
    model, data = digit_model
    public = data.features(np.arange(1000, 1300))
    generator, critic, losses = rec.train_gan(public, latent_dim=8, steps=30, seed=0)
    assert generator.convolutional is False  # 8×8: the MLP variant
    assert set(losses) == {"critic_gap", "g_loss"}
    images, history = rec.gan_inversion(
        model, generator, critic, np.arange(4), latent_dim=8, steps=40, seed=0
    )
    assert images.shape == (4, 1, 8, 8)
    assert images.min() >= 0 and images.max() <= 1
    assert history[-5:].mean() < history[:3].mean()


def test_dcgan_variant_for_larger_images():
    generator, critic = rec.build_gan((3, 32, 32), 16)
    assert generator.convolutional
    images = generator(torch.randn(2, 16))
    assert images.shape == (2, 3, 32, 32)
    assert critic(images).shape == (2,)


def test_nearest_distances_find_the_closest_image():
    pool = np.stack([np.zeros((1, 2, 2)), np.ones((1, 2, 2)), np.full((1, 2, 2), 0.5)])
    images = np.stack([np.full((1, 2, 2), 0.9), np.full((1, 2, 2), 0.4)])
    distance, nearest = rec.nearest_distances(images, pool)
    assert nearest.tolist() == [1, 2]
    np.testing.assert_allclose(distance, [0.1, 0.1])


def test_image_grid_tiles_and_upscales():
    images = np.arange(6 * 4, dtype=np.uint8).reshape(6, 1, 2, 2)
    grid = rec.image_grid(images, 3, scale=2, pad=1)
    assert grid.shape == (2 * (4 + 1) + 1, 3 * (4 + 1) + 1)
    assert (grid[1:5, 1:5] == np.kron(images[0, 0], np.ones((2, 2)))).all()
    colour = rec.image_grid(np.zeros((2, 3, 4, 4), np.uint8), 2)
    assert colour.shape == (4 + 2, 2 * 5 + 1, 3)


def test_inception_fid_is_nan_without_its_weights():
    if rec.inception_fid_available():
        pytest.skip("torchmetrics and the Inception weights are installed here")
    images = np.random.default_rng(0).random((4, 1, 8, 8)).astype(np.float32)
    assert np.isnan(rec.inception_fid(images, images))


def test_spec_round_trips_and_checks_its_fields():
    spec = rec.make_reconstruction_spec("paper", attacks=("gmi",))
    assert spec.di_steps == rec.RECONSTRUCTION_PRESETS["paper"]["di_steps"]
    assert rec.reconstruction_spec_from_dict(
        json.loads(json.dumps(spec.to_dict()))
    ) == (spec)
    with pytest.raises(ValueRiskError, match="attacks must be one or more of"):
        rec.make_reconstruction_spec(attacks=("magic",))
    with pytest.raises(ValueRiskError, match="public must be one of"):
        rec.make_reconstruction_spec(public="internet")


# -- the study on digits ---------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_result(tmp_path_factory):
    from backend.store import Store

    store = Store(tmp_path_factory.mktemp("cache"))
    spec = tiny_spec()
    ctx = pipeline.make_context(spec, store=store)
    rspec = rec.make_reconstruction_spec(**TINY)
    result = rec.reconstruction(ctx, rspec)
    yield spec, store, rspec, result
    store.close()


def test_reconstruction_quality_per_attack_and_group(digits_result):
    _, _, _, result = digits_result
    quality = result["quality"]
    assert len(quality) == 2 * 2
    assert set(quality["attack"]) == {"deepinversion", "gmi"}
    assert (quality["fd"] >= 0).all() and (quality["fd_real"] >= 0).all()
    np.testing.assert_allclose(
        quality["nn_ratio"], quality["nn_train"] / quality["nn_heldout"]
    )
    assert (quality["loss_end"] < quality["loss_start"]).all()
    assert "not Inception FID" in result["fd_name"]
    assert result["gan"]["public_samples"] == 200 + 150  # the shadow data


def test_reconstructions_and_their_nearest_training_images(digits_result):
    spec, store, rspec, result = digits_result
    ctx = pipeline.make_context(spec, store=store, read_only=True)
    groups = group_index(ctx, rspec.groups)
    for (attack, g), payload in result["images"].items():
        assert payload["images"].shape == (6, 1, 8, 8)
        assert payload["images"].dtype == np.uint8
        assert payload["labels"].tolist() == [0, 0, 1, 1, 2, 2]
        # Each nearest image is a training image of the group, of the same class;
        # -1 where the group holds no image of the class.
        nearest, labels = payload["nearest_index"], payload["labels"]
        found = nearest >= 0
        assert np.isin(nearest[found], groups[g]).all(), attack
        assert (ctx.data.y[nearest[found]] == labels[found]).all()
        assert not np.isin(labels[~found], ctx.data.y[groups[g]]).any()
        assert np.isnan(payload["nn_train"][~found]).all()


def test_reconstruction_is_cached_and_readable_read_only(digits_result):
    spec, store, rspec, result = digits_result
    ctx = pipeline.make_context(spec, store=store, read_only=True)
    again = rec.reconstruction(ctx, rspec)
    pd.testing.assert_frame_equal(again["quality"], result["quality"])
    assert all(rec.reconstruction_status(ctx, rspec).values())
    other = rec.make_reconstruction_spec(**{**TINY, "di_steps": 41})
    with pytest.raises(pipeline.NotComputed):
        rec.reconstruction(ctx, other)
    status = rec.reconstruction_status(ctx, other)
    assert not status["deepinversion (0 of 2 groups)"] and status["gmi (2 of 2 groups)"]


def test_report_is_plain_json(digits_result):
    *_, result = digits_result
    report = rec.reconstruction_report(result)
    text = json.dumps(report, default=float)
    assert "deepinversion" in text and len(report["quality"]) == 4
    assert len(report["seconds"]["group models"]) == 2


def test_quality_chart_marks_real_images(digits_result):
    *_, result = digits_result
    spec = rec.quality_chart(result["quality"], "fd").to_dict()
    assert any(layer["mark"]["type"] == "tick" for layer in spec["layer"])
    with pytest.raises(ValueRiskError, match="metric must be one of"):
        rec.quality_chart(result["quality"], "beauty")


def test_reconstruction_refuses_tabular_data(tmp_path, store):
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 4)))
    frame.columns = ["a", "b", "c", "d"]
    frame["label"] = np.arange(200) % 2
    frame.to_csv(tmp_path / "table.csv", index=False)
    spec = make_runspec(csv_reference(tmp_path / "table.csv"), model={"arch": "mlp"})
    ctx = pipeline.make_context(spec, store=store)
    with pytest.raises(ValueRiskError, match="reconstruction needs image data"):
        rec.reconstruction(ctx, rec.make_reconstruction_spec())


def test_unknown_classes_are_refused(digits_result):
    spec, store, _, _ = digits_result
    ctx = pipeline.make_context(spec, store=store, read_only=True)
    with pytest.raises(ValueRiskError, match=r"classes \[12\] do not exist"):
        rec.reconstruction(ctx, rec.make_reconstruction_spec(classes=(1, 12)))


# -- the CLI ---------------------------------------------------------------------------


def test_cli_reconstruct_prints_quality_per_group(cache_path, capsys):
    args = [
        "reconstruct",
        *("--members", "300", "--nonmembers", "200", "--shadow-members", "200"),
        *("--shadow-nonmembers", "150", "--reference", "150"),
        *("--epochs", "4", "--batch-size", "32", "--groups", "2", "--min-steps", "40"),
        *("--attacks", "deepinversion", "--classes", "0,1", "--per-class", "2"),
        *("--di-steps", "10", "--json"),
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["group"] for row in report["quality"]] == [
        "1 (least important)",
        "2 (most important)",
    ]
    assert "GAN" not in report["seconds"]
    assert len(report["seconds"]["deepinversion"]) == 2


def test_cli_reconstruct_reports_bad_input(cache_path, capsys):
    assert main(["reconstruct", "--classes", "one"]) == 2
    assert "--classes takes comma-separated integers" in capsys.readouterr().err
