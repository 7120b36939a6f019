import numpy as np
import pytest
import torch

from backend.errors import ValueRiskError
from backend.models import ARCHITECTURES, build_model
from backend.specs import ModelSpec, TrainSpec
from backend.training import (
    _augment,
    accuracy,
    embed,
    model_from_bytes,
    model_to_bytes,
    predict_logits,
    train_model,
)


def _blobs(n=200, seed=0):
    # Two classes of 1×8×8 images: bright top half versus bright bottom half.
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.uniform(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    x[y == 0, :, :4] += 0.6
    x[y == 1, :, 4:] += 0.6
    return x, y


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_every_architecture_accepts_small_inputs_and_any_channels(arch, shape):
    model = build_model(arch, input_shape=shape, num_classes=7).eval()
    x = torch.zeros(2, *shape)
    assert model(x).shape == (2, 7)
    assert model.embed(x).shape == (2, model.embed_dim)


def test_mlp_accepts_tables_and_cnn_does_not():
    assert build_model("mlp", input_shape=(600,), num_classes=100, kind="tabular")
    with pytest.raises(ValueRiskError, match="does not accept tabular data"):
        build_model("small-cnn", input_shape=(600,), num_classes=100, kind="tabular")
    with pytest.raises(ValueRiskError, match="unknown architecture 'vgg'"):
        build_model("vgg", input_shape=(1, 8, 8), num_classes=2)


def test_training_learns_and_is_seeded():
    x, y = _blobs()
    spec = TrainSpec(epochs=3, batch_size=32, lr=0.05)
    seen = []
    model = train_model(
        ModelSpec(), spec, x, y, num_classes=2, progress=lambda f, m: seen.append(f)
    )
    assert accuracy(model, x, y) > 0.95
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])
    again = train_model(ModelSpec(), spec, x, y, num_classes=2)
    np.testing.assert_allclose(predict_logits(model, x), predict_logits(again, x))


def test_model_bytes_round_trip_with_weights_only():
    x, y = _blobs(64)
    model = train_model(ModelSpec("mlp"), TrainSpec(epochs=1), x, y, num_classes=2)
    data = model_to_bytes(model)
    loaded = model_from_bytes(
        data, ModelSpec("mlp"), input_shape=(1, 8, 8), num_classes=2
    )
    np.testing.assert_allclose(predict_logits(model, x), predict_logits(loaded, x))
    assert embed(loaded, x).shape == (64, 128)


def test_augmentation_crops_and_flips_without_changing_shape():
    x = torch.arange(2 * 8 * 8, dtype=torch.float32).reshape(2, 1, 8, 8)
    out = _augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    # Every output pixel is either padding (0) or a pixel of the same image.
    for i in range(2):
        assert set(out[i].unique().tolist()) <= set(x[i].unique().tolist()) | {0.0}
