import numpy as np
import pytest
import torch
from torch import nn

from backend.attacks import membership as mia
from backend.errors import CensoredDistanceWarning
from backend.models import Classifier
from backend.signals import boundary_distance, output_signals


def _threshold_model() -> Classifier:
    # Class 0 when x[0] > 0.5, class 1 otherwise: the boundary is the plane x[0] = 0.5.
    model = Classifier(nn.Flatten(), 2, 2)
    with torch.no_grad():
        model.head.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        model.head.bias.copy_(torch.tensor([-0.5, 0.5]))
    return model.eval()


def test_far_samples_have_larger_boundary_distance():
    x = np.array([[0.95, 0.3], [0.55, 0.3], [0.1, 0.7]], dtype=np.float32)
    result = boundary_distance(_threshold_model(), x, steps=100, step_size=0.01)
    linf = result["linf"].to_numpy()
    assert linf[0] > linf[2] > linf[1]
    # Steps of 0.01 along x[0]: 0.55 crosses after 5 or 6 steps, 0.95 after ~45.
    assert linf[1] == pytest.approx(0.05, abs=0.011)
    assert linf[0] == pytest.approx(0.45, abs=0.011)
    assert not result["censored"].any()
    # Only x[0] affects the output, so only it moves: every norm is the same here.
    np.testing.assert_allclose(result["l1"], linf, rtol=1e-5)
    np.testing.assert_allclose(result["l2"], linf, rtol=1e-5)


def test_boundary_search_flags_censored_samples():
    x = np.array([[0.95, 0.3], [0.55, 0.3]], dtype=np.float32)
    with pytest.warns(CensoredDistanceWarning, match="1 of 2 samples"):
        result = boundary_distance(_threshold_model(), x, steps=10, step_size=0.01)
    np.testing.assert_array_equal(result["censored"], [True, False])
    assert result["steps"].tolist()[0] == 10


def test_output_signals_match_their_definitions():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(20, 5)) * 3
    labels = rng.integers(0, 5, 20)
    table = output_signals(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    py = p[np.arange(20), labels]
    np.testing.assert_allclose(table["confidence"], py)
    np.testing.assert_allclose(table["loss"], -np.log(py))
    np.testing.assert_allclose(table["entropy"], -(p * np.log(p)).sum(1))
    np.testing.assert_allclose(table["scaled_confidence"], np.log(py / (1 - py)))
    others = np.where(np.eye(5, dtype=bool)[labels], 0.0, p * np.log(1 - p)).sum(1)
    np.testing.assert_allclose(
        table["modified_entropy"], -(1 - py) * np.log(py) - others
    )


def test_output_signals_keep_resolution_for_confident_samples():
    logits = np.array([[60.0, 0.0, 0.0], [40.0, 0.0, 0.0]])
    table = output_signals(logits, np.array([0, 0]))
    assert (table["confidence"] == 1.0).all()  # saturated in floating point...
    assert table["loss"][0] < table["loss"][1]  # ...but the loss still orders them
    assert table["scaled_confidence"][0] > table["scaled_confidence"][1]


def test_class_thresholds_separate_per_class():
    # Class 0 members score 5, non-members 4; class 1 members 2, non-members 1. No
    # single threshold separates both classes; one per class does.
    scores = np.array([5, 5, 4, 4, 2, 2, 1, 1.0])
    member = np.array([1, 1, 0, 0, 1, 1, 0, 0], bool)
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    thresholds = mia.fit_thresholds(scores, member, labels, num_classes=2)
    decisions = mia.decide(scores, labels, thresholds)
    np.testing.assert_array_equal(decisions, member)


def test_label_only_score_is_zero_when_misclassified():
    import pandas as pd

    signals = pd.DataFrame({"l2": [0.3, 0.7], "correct": [True, False]})
    np.testing.assert_array_equal(mia.raw_scores(signals, "boundary"), [0.3, 0.0])


def test_table_boundary_search_stays_in_the_data_range(tmp_path, store):
    # Standardised features far outside [0, 1]: the search must neither clamp them
    # into [0, 1] nor run out of steps.
    import pandas as pd

    from backend import analysis, pipeline
    from backend.datasets import csv_reference
    from backend.specs import make_runspec

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(scale=5.0, size=(400, 4)), columns=list("abcd"))
    frame["label"] = (frame["a"] + frame["b"] > 0).astype(int)
    frame.to_csv(tmp_path / "table.csv", index=False)
    spec = make_runspec(
        csv_reference(tmp_path / "table.csv"),
        model={"arch": "mlp"},
        train={"epochs": 10, "batch_size": 32},
    )
    ctx = pipeline.make_context(spec, store=store)
    table = analysis.signals(ctx, "target")
    assert table["censored"].mean() < 0.05
    assert (table["linf"] > 0).all()
