"""Dataset edits: each returns a new view with the right rows and leaves its input
untouched; transforms are seeded and refuse data they make no sense on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from backend.dataset_edits import (
    EDITS,
    TRANSFORMS,
    TrainingView,
    add_copies,
    apply_transform,
    augment,
    remove,
    transform_applicable,
    wrong_labels,
)
from backend.datasets import dataset_info
from backend.errors import ValueRiskError


def rgb_view(n=12, seed=0) -> TrainingView:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 3, 6, 5), dtype=np.uint8)
    return TrainingView.from_arrays(
        x, rng.integers(0, 4, n), kind="image", origin=100 + np.arange(n)
    )


def snapshot(view: TrainingView) -> dict[str, np.ndarray]:
    return {name: getattr(view, name).copy() for name in ("x", "y", "origin", "edit")}


def assert_untouched(view: TrainingView, before: dict[str, np.ndarray]) -> None:
    for name, array in before.items():
        current = getattr(view, name)
        assert np.array_equal(current, array), name
        assert not current.flags.writeable, name


def assert_read_only(result: TrainingView) -> None:
    """No array of the new view can be written, so none can reach into the input."""
    for name in ("x", "y", "origin", "edit"):
        assert not getattr(result, name).flags.writeable, name


EDIT_CASES = {
    "remove": lambda v: remove(v, [0, 5, 11]),
    "remove-mask": lambda v: remove(v, np.arange(len(v)) % 2 == 0),
    "copies": lambda v: add_copies(v, [2, 7], copies=3, labels=[1, 0]),
    "replace": lambda v: augment(v, [1, 4], "hflip", mode="replace"),
    "add": lambda v: augment(v, [1, 4], "color_jitter", mode="add", seed=3),
}


@pytest.mark.parametrize("case", sorted(EDIT_CASES))
def test_every_edit_returns_a_new_view_and_leaves_the_original_untouched(case):
    view = rgb_view()
    before = snapshot(view)
    result = EDIT_CASES[case](view)
    assert result is not view
    assert_untouched(view, before)
    assert_read_only(result)
    # and a second edit of the result does not reach back into the original either
    remove(result, [0])
    assert_untouched(view, before)


def test_a_view_cannot_be_written_through():
    view = rgb_view()
    with pytest.raises(ValueError, match="read-only"):
        view.x[0, 0, 0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        view.y[0] = 3


def test_from_arrays_copies_its_inputs():
    x = np.zeros((4, 2), np.float32)
    view = TrainingView.from_arrays(x, [0, 1, 0, 1], kind="tabular")
    x[0, 0] = 9.0  # the caller's array stays writable and separate
    assert view.x[0, 0] == 0.0 and x.flags.writeable


def test_remove_keeps_the_order_of_the_rows_that_stay():
    view = rgb_view()
    result = remove(view, [0, 5, 11])
    keep = [i for i in range(12) if i not in (0, 5, 11)]
    assert np.array_equal(result.x, view.x[keep])
    assert np.array_equal(result.y, view.y[keep])
    assert np.array_equal(result.origin, view.origin[keep])
    assert result.is_original().all()


def test_copies_go_after_every_row_with_their_labels_and_origin():
    view = rgb_view()
    result = add_copies(view, [2, 7], copies=3, labels=[1, 0])
    assert len(result) == len(view) + 6
    assert np.array_equal(result.x[: len(view)], view.x)
    assert np.array_equal(result.x[12:15], np.repeat(view.x[[2]], 3, axis=0))
    assert result.y[12:].tolist() == [1, 1, 1, 0, 0, 0]
    assert result.origin[12:].tolist() == [102] * 3 + [107] * 3
    assert [EDITS[e] for e in result.edit[11:13]] == ["original", "copy"]


def test_copies_default_to_the_samples_own_labels():
    view = rgb_view()
    result = add_copies(view, [3])
    assert result.y[-1] == view.y[3] and np.array_equal(result.x[-1], view.x[3])


def test_replace_keeps_each_row_in_its_place_and_add_appends():
    view = rgb_view()
    replaced = augment(view, [1, 4], "hflip", mode="replace")
    assert len(replaced) == len(view)
    assert np.array_equal(replaced.x[1], view.x[1][:, :, ::-1])
    assert np.array_equal(replaced.x[0], view.x[0])
    assert [EDITS[e] for e in replaced.edit[:2]] == ["original", "augmented"]
    added = augment(view, [1, 4], "vflip", mode="add")
    assert len(added) == len(view) + 2
    assert np.array_equal(added.x[:12], view.x)
    assert np.array_equal(added.x[13], view.x[4][:, ::-1, :])
    assert added.y[12:].tolist() == view.y[[1, 4]].tolist()


def test_grayscale_makes_the_channels_equal():
    out = apply_transform(rgb_view().x, "grayscale")
    assert out.dtype == np.uint8 and out.shape == (12, 3, 6, 5)
    assert np.array_equal(out[:, 0], out[:, 1]) and np.array_equal(out[:, 1], out[:, 2])


def test_color_jitter_is_seeded_per_sample_and_leaves_the_global_rng_alone():
    images = np.repeat(rgb_view().x[:1], 4, axis=0)  # four identical images
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = apply_transform(images, "color_jitter", seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    assert np.array_equal(first, apply_transform(images, "color_jitter", seed=5))
    assert not np.array_equal(first, apply_transform(images, "color_jitter", seed=6))
    # each image draws its own factors
    assert len({first[i].tobytes() for i in range(4)}) == 4


def test_wrong_labels_are_never_the_true_label_and_are_seeded():
    labels = np.arange(1000) % 10
    wrong = wrong_labels(labels, 10, seed=1)
    assert (wrong != labels).all() and wrong.min() >= 0 and wrong.max() <= 9
    assert set(wrong[labels == 0]) == set(range(1, 10))  # every other class occurs
    assert np.array_equal(wrong, wrong_labels(labels, 10, seed=1))


def test_applicability_rule_disables_colour_on_greyscale_and_all_on_tables():
    grey = {"kind": "image", "input_shape": (1, 28, 28)}
    rgb = {"kind": "image", "input_shape": (3, 32, 32)}
    table = {"kind": "tabular", "input_shape": (600,)}
    for name in TRANSFORMS:
        assert transform_applicable(name, **rgb) == (True, "")
        ok, reason = transform_applicable(name, **table)
        assert not ok and "needs images" in reason
    for name in ("color_jitter", "grayscale"):
        ok, reason = transform_applicable(name, **grey)
        assert not ok and "1 channel" in reason
    assert transform_applicable("hflip", **grey) == (True, "")


def test_applicability_follows_the_real_datasets():
    for name, colour in (
        ("digits", False),
        ("fashion-mnist", False),
        ("cifar10", True),
    ):
        info = dataset_info(name)
        ok, _ = transform_applicable(
            "color_jitter", kind=info.kind, input_shape=info.input_shape
        )
        assert ok is colour, name


def test_augment_refuses_a_transform_that_does_not_apply():
    grey = TrainingView.from_arrays(
        np.zeros((3, 1, 4, 4), np.uint8), [0, 1, 0], kind="image"
    )
    with pytest.raises(ValueRiskError, match="needs colour"):
        augment(grey, [0], "color_jitter")
    table = TrainingView.from_arrays(
        np.zeros((3, 2), np.float32), [0, 1, 0], kind="tabular"
    )
    with pytest.raises(ValueRiskError, match="needs images"):
        augment(table, [0], "hflip")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda v: remove(v, [12]), r"must lie in \[0, 12\)"),
        (lambda v: remove(v, [1, 1]), "must not repeat a row"),
        (lambda v: remove(v, np.ones(3, bool)), "boolean mask"),
        (lambda v: add_copies(v, [0], copies=0), "copies must be at least 1"),
        (lambda v: add_copies(v, [0, 1], labels=[1]), "one label per copied sample"),
        (lambda v: augment(v, [0], "rotate"), r"unknown transform 'rotate'; choose"),
        (lambda v: augment(v, [0], "hflip", mode="swap"), "unknown mode 'swap'"),
        (lambda v: wrong_labels(v.y, 1), "at least two classes"),
    ],
)
def test_bad_edits_say_what_was_wrong(edit, message):
    with pytest.raises(ValueRiskError, match=message):
        edit(rgb_view())
