"""Attribute inference: the attack classifier, the attributes, the study, its CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from backend import pipeline
from backend.__main__ import main
from backend.attacks import attributes as attr
from backend.attacks.groups import GroupSpec, group_index, group_train_spec
from backend.datasets import Dataset, DatasetInfo, csv_reference, load_dataset
from backend.errors import ValueRiskError
from backend.specs import TrainSpec, make_runspec

from .conftest import tiny_spec

FAST_GROUPS = {"n_groups": 2, "min_steps": 40}


# -- the attack classifier -------------------------------------------------------------


def _synthetic(n: int, seed: int, encoded: bool) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings (n, 16) and a binary attribute, about 70% ones; when ``encoded``
    the attribute is a threshold on one embedding coordinate."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 16)).astype(np.float32)
    if encoded:
        y = (x[:, 3] > -0.52).astype(np.int64)
    else:
        y = (rng.random(n) < 0.7).astype(np.int64)
    return x, y


def test_attack_classifier_beats_the_baseline_when_the_attribute_is_encoded():
    x, y = _synthetic(600, seed=0, encoded=True)
    attack = attr.fit_attack_classifier(x[:400], y[:400], epochs=40, seed=0)
    accuracy = (attack.predict(x[400:]) == y[400:]).mean()
    baseline = np.bincount(y[400:]).max() / 200
    assert 0.6 < baseline < 0.8
    assert accuracy > baseline + 0.15


def test_attack_classifier_does_not_beat_the_baseline_on_noise():
    x, y = _synthetic(600, seed=1, encoded=False)
    attack = attr.fit_attack_classifier(x[:400], y[:400], epochs=40, seed=0)
    accuracy = (attack.predict(x[400:]) == y[400:]).mean()
    baseline = np.bincount(y[400:]).max() / 200
    assert accuracy < baseline + 0.05


def test_attack_classifier_of_a_constant_attribute_predicts_it():
    x, _ = _synthetic(50, seed=2, encoded=False)
    attack = attr.fit_attack_classifier(x, np.full(50, 3))
    assert (attack.predict(x) == 3).all()


def test_attack_classifier_is_seeded():
    x, y = _synthetic(200, seed=3, encoded=True)
    a = attr.fit_attack_classifier(x, y, epochs=5, seed=7).predict(x)
    b = attr.fit_attack_classifier(x, y, epochs=5, seed=7).predict(x)
    assert (a == b).all()


def test_attack_classifier_refuses_mismatched_inputs():
    with pytest.raises(ValueRiskError, match="as many embeddings as values"):
        attr.fit_attack_classifier(np.zeros((5, 3)), np.zeros(4, dtype=int))


# -- attributes ------------------------------------------------------------------------


def test_digits_get_stand_in_attributes_split_at_the_median():
    data = load_dataset("digits")
    assert attr.uses_stand_ins(data)
    names = attr.attribute_names(data)
    assert names == ["bright", "left_heavy", "top_heavy"]
    assert attr.default_attributes(data) == tuple(names)
    codes = attr.attribute_codes(data, names)
    assert codes.shape == (len(data), 3) and set(np.unique(codes)) == {0, 1}
    # "bright" is the mean pixel value above its median: about half the images, and
    # every bright image is brighter than every other.
    brightness = data.features().reshape(len(data), -1).mean(1)
    assert 0.4 < codes[:, 0].mean() <= 0.5
    assert brightness[codes[:, 0] == 1].min() > brightness[codes[:, 0] == 0].max()
    # "left_heavy": more mass on the left than the right, for the ones.
    x = data.features()
    left, right = x[..., :4].sum((1, 2, 3)), x[..., 4:].sum((1, 2, 3))
    share = (left - right) / (left + right)
    assert share[codes[:, 1] == 1].mean() > share[codes[:, 1] == 0].mean()


def _faces(columns: tuple[str, ...]) -> Dataset:
    """Four tiny "faces" declaring the given attribute columns."""
    info = DatasetInfo(
        name="faces",
        title="faces",
        kind="image",
        input_shape=(3, 4, 4),
        num_classes=2,
        class_names=("a", "b"),
        attributes=columns,
        description="",
    )
    table = pd.DataFrame({c: [1, -1, 1, 1] for c in columns})
    x = np.zeros((4, 3, 4, 4), np.uint8)
    return Dataset.from_arrays(info, x, np.array([0, 1, 0, 1]), table)


def test_celeba_default_is_the_studys_eight_attributes():
    celeba = _faces(tuple(sorted({*attr.PAPER_CELEBA_ATTRIBUTES, "Young", "Bald"})))
    assert attr.default_attributes(celeba) == attr.PAPER_CELEBA_ATTRIBUTES
    assert not attr.uses_stand_ins(celeba)
    assert len(attr.attribute_names(celeba)) == 10
    # Declared values are coded by their sorted distinct values: -1 -> 0, 1 -> 1.
    codes = attr.attribute_codes(celeba, ["Smiling"])
    assert codes[:, 0].tolist() == [1, 0, 1, 1]
    # Data declaring other columns attacks all of them by default.
    assert attr.default_attributes(_faces(("glasses", "hat"))) == ("glasses", "hat")


def test_spec_round_trips_and_checks_its_fields():
    spec = attr.make_attribute_spec(
        "paper", attributes=("bright",), groups=GroupSpec(n_groups=3)
    )
    assert spec.epochs == attr.ATTRIBUTE_PRESETS["paper"]["epochs"]
    assert attr.attribute_spec_from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    with pytest.raises(ValueRiskError, match="protocol must be one of"):
        attr.make_attribute_spec(protocol="oracle")
    with pytest.raises(ValueRiskError, match="unknown attribute-inference setting"):
        attr.attribute_spec_from_dict({"colour": 1})
    with pytest.raises(ValueRiskError, match="n_groups must be between 2 and 20"):
        GroupSpec(n_groups=1)


def test_group_recipe_gets_enough_steps():
    train = TrainSpec(epochs=4, batch_size=32)
    assert group_train_spec(train, 150, 200).epochs == 40  # 5 steps per epoch
    assert group_train_spec(train, 10_000, 200).epochs == 4  # already enough


# -- the study on digits ---------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_result(tmp_path_factory):
    """Both protocols on a tiny digits spec, computed into a module-wide store."""
    from backend.store import Store

    store = Store(tmp_path_factory.mktemp("cache"))
    spec = tiny_spec()
    ctx = pipeline.make_context(spec, store=store)
    results = {}
    for protocol in attr.PROTOCOLS:
        aspec = attr.make_attribute_spec(
            protocol=protocol, groups=FAST_GROUPS, epochs=30
        )
        results[protocol] = attr.attribute_inference(ctx, aspec)
    yield spec, store, results
    store.close()


def test_attribute_inference_tables_by_group_and_attribute(digits_result):
    spec, store, results = digits_result
    result = results["shadow"]
    table = result["table"]
    assert len(table) == 2 * 3  # groups x stand-ins
    assert result["stand_ins"] and result["attributes"] == [
        "bright",
        "left_heavy",
        "top_heavy",
    ]
    np.testing.assert_allclose(table["relative"], table["accuracy"] / table["baseline"])
    assert (table["baseline"] >= 0.5).all() and (table["accuracy"] <= 1).all()
    # Each group is attacked on its own members: half of the 300 members.
    assert (table["n"] == 150).all()
    groups = result["groups"]
    assert groups["mean_importance"].is_monotonic_increasing
    assert groups["group_label"].tolist() == [
        "1 (least important)",
        "2 (most important)",
    ]


def test_attribute_inference_leaks_in_the_target_protocol(digits_result):
    # The stand-ins are pixel properties a digit classifier's embedding keeps: the
    # attack fitted on the target's own embeddings beats the baseline on average.
    _, _, results = digits_result
    assert results["target"]["table"]["relative"].mean() > 1.1
    assert results["target"]["table"]["attack_check"].mean() > 0.7


def test_attribute_inference_is_cached_and_readable_read_only(digits_result):
    spec, store, results = digits_result
    ctx = pipeline.make_context(spec, store=store, read_only=True)
    aspec = attr.make_attribute_spec(protocol="target", groups=FAST_GROUPS, epochs=30)
    again = attr.attribute_inference(ctx, aspec)
    pd.testing.assert_frame_equal(again["table"], results["target"]["table"])
    assert all(attr.attribute_status(ctx, aspec).values())
    with pytest.raises(pipeline.NotComputed):
        attr.attribute_inference(ctx, attr.make_attribute_spec(groups=FAST_GROUPS))


def test_importance_correlation_across_tasks(digits_result):
    _, _, results = digits_result
    frame = results["shadow"]["correlation"]
    tasks = ["label", "bright", "left_heavy", "top_heavy"]
    assert len(frame) == len(tasks) ** 2
    diagonal = frame[frame["task_a"] == frame["task_b"]]
    np.testing.assert_allclose(diagonal["spearman"], 1.0)
    matrix = frame.pivot(index="task_a", columns="task_b", values="spearman")
    np.testing.assert_allclose(matrix.to_numpy(), matrix.to_numpy().T)
    assert (frame["spearman"].abs() <= 1 + 1e-9).all()


def test_group_members_are_ranked_by_importance(digits_result):
    spec, store, _ = digits_result
    ctx = pipeline.make_context(spec, store=store, read_only=True)
    low, high = group_index(ctx, GroupSpec(**FAST_GROUPS))
    values = pd.Series(pipeline.importance(ctx), index=ctx.split.members)
    assert values[low].max() <= values[high].min()
    assert len(np.intersect1d(low, high)) == 0


def test_unknown_attribute_is_refused(digits_result):
    spec, store, _ = digits_result
    ctx = pipeline.make_context(spec, store=store, read_only=True)
    aspec = attr.make_attribute_spec(attributes=("Smiling",))
    with pytest.raises(ValueRiskError, match=r"unknown attribute\(s\) \['Smiling'\]"):
        attr.attribute_inference(ctx, aspec)


# -- a CSV with attribute columns ------------------------------------------------------


def test_attribute_inference_on_csv_attribute_columns(tmp_path, store):
    # A secret attribute written plainly into two features, and one that is noise.
    rng = np.random.default_rng(0)
    n = 900
    label = rng.integers(0, 3, n)
    secret = rng.integers(0, 2, n)
    features = rng.normal(size=(n, 8)) + label[:, None]
    features[:, 0] += 3 * secret
    features[:, 1] -= 3 * secret
    frame = pd.DataFrame(features, columns=[f"f{i}" for i in range(8)])
    frame["label"] = label
    frame["secret"] = secret
    frame["noise"] = rng.integers(0, 2, n)
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)

    name = csv_reference(path, attribute_columns=("secret", "noise"))
    spec = make_runspec(
        name, model={"arch": "mlp"}, train={"epochs": 10, "batch_size": 32}
    )
    ctx = pipeline.make_context(spec, store=store)
    assert not attr.uses_stand_ins(ctx.data)
    aspec = attr.make_attribute_spec(protocol="target", groups=FAST_GROUPS)
    result = attr.attribute_inference(ctx, aspec)
    assert result["attributes"] == ["secret", "noise"]
    relative = result["table"].groupby("attribute")["relative"].mean()
    assert relative["secret"] > 1.3
    assert relative["secret"] > relative["noise"]


# -- the CLI ---------------------------------------------------------------------------


def test_cli_attributes_prints_relative_accuracy_per_group(cache_path, capsys):
    args = [
        "attributes",
        *("--members", "300", "--nonmembers", "200", "--shadow-members", "200"),
        *("--shadow-nonmembers", "150", "--reference", "150"),
        *("--epochs", "4", "--batch-size", "32", "--groups", "2", "--min-steps", "40"),
        *("--attributes", "bright,top_heavy", "--no-correlation", "--json"),
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert [g["group"] for g in report["by_group"]] == [
        "1 (least important)",
        "2 (most important)",
    ]
    assert set(report["by_group"][0]) >= {"relative", "relative_bright", "baseline"}
    assert report["correlation_with_label"] is None
    assert report["seconds"]["group models"] >= 0


def test_cli_attributes_reports_bad_input(cache_path, capsys):
    assert main(["attributes", "--protocol", "oracle"]) == 2
    assert "protocol must be one of" in capsys.readouterr().err
