"""KNN-Shapley: the closed form against Shapley values computed by their definition,
the fast version against the one-test-point reference (ties included), and its inputs.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from backend import valuation
from backend.errors import ValueRiskError
from backend.valuation import knn_shapley, knn_shapley_reference, knn_utility

# -- helpers ---------------------------------------------------------------------------


def brute_force_shapley(x_train, y_train, x_test, y_test, k):
    """Shapley values by definition: weighted marginal gains over every subset.

    phi_i = sum over S not holding i of |S|! (n - |S| - 1)! / n! * (U(S + i) - U(S)).
    """
    n = len(x_train)
    utility = {}
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            rows = list(subset)  # ascending, so ties keep their training-index order
            utility[subset] = knn_utility(
                x_train[rows], y_train[rows], x_test, y_test, k=k
            )
    values = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1)
            weight /= math.factorial(n)
            for subset in itertools.combinations(others, size):
                with_i = tuple(sorted((*subset, i)))
                values[i] += weight * (utility[with_i] - utility[subset])
    return values


def tied_data(seed, n_train=300, n_test=40, n_classes=3, dtype=np.float32):
    """Integer-valued features (many exact ties) with a third of the rows duplicated."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 4, (n_train, 4)).astype(dtype)
    copies = n_train // 3
    x_train[-copies:] = x_train[rng.permutation(n_train - copies)[:copies]]
    y_train = rng.integers(0, n_classes, n_train)
    x_test = rng.integers(0, 4, (n_test, 4)).astype(dtype)
    y_test = rng.integers(0, n_classes, n_test)
    return x_train, y_train, x_test, y_test


def continuous_data(seed, n_train=300, n_test=40, d=5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(n_train, d)).astype(dtype),
        rng.integers(0, 4, n_train),
        rng.normal(size=(n_test, d)).astype(dtype),
        rng.integers(0, 4, n_test),
    )


@pytest.fixture(params=["numpy", "torch"])
def engine(request, monkeypatch):
    """Each engine on the CPU; "torch" is the code path CUDA runs."""
    if request.param == "torch":
        monkeypatch.setattr(valuation, "_NumpyEngine", valuation._TorchEngine)
    return request.param


# -- against the definition ------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("n_train", [4, 6, 8])
def test_closed_form_matches_brute_force_shapley(seed, k, n_train):
    # Integer features on a small grid: the sets hold tied and duplicated points
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 3, (n_train, 2)).astype(np.float64)
    y_train = rng.integers(0, 2, n_train)
    x_test = rng.integers(0, 3, (3, 2)).astype(np.float64)
    y_test = rng.integers(0, 2, 3)

    expected = brute_force_shapley(x_train, y_train, x_test, y_test, k)

    reference = knn_shapley_reference(x_train, y_train, x_test, y_test, k=k)
    np.testing.assert_allclose(reference, expected, rtol=0, atol=1e-12)
    for dtype in (np.float32, np.float64):
        fast = knn_shapley(
            x_train.astype(dtype), y_train, x_test.astype(dtype), y_test, k=k
        )
        np.testing.assert_allclose(fast, expected, rtol=0, atol=1e-12)


def test_closed_form_matches_brute_force_on_continuous_features():
    x_train, y_train, x_test, y_test = continuous_data(3, n_train=7, n_test=4)
    expected = brute_force_shapley(x_train, y_train, x_test, y_test, k=3)
    values = knn_shapley(x_train, y_train, x_test, y_test, k=3)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_hand_worked_example_gives_a_negative_value():
    # Test point at 0 (label 1); training points at 1 (label 0) and 2 (label 1); k=1.
    # U({a}) = 0, U({b}) = 1, U({a, b}) = 0: a hides the useful b.
    # phi_a = (0 + (0 - 1)) / 2 = -1/2 and phi_b = ((1 - 0) + (0 - 0)) / 2 = 1/2.
    x_train, y_train = np.array([[1.0], [2.0]]), np.array([0, 1])
    x_test, y_test = np.array([[0.0]]), np.array([1])
    for fn in (knn_shapley, knn_shapley_reference):
        values = fn(x_train, y_train, x_test, y_test, k=1)
        np.testing.assert_allclose(values, [-0.5, 0.5], rtol=0, atol=1e-15)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_values_sum_to_utility_of_full_set(k):
    # Efficiency: sum of values = U(full set) - U(empty set), and U(empty set) = 0
    x_train, y_train, x_test, y_test = tied_data(4, n_train=200, n_test=30)
    values = knn_shapley(x_train, y_train, x_test, y_test, k=k)
    full = knn_utility(x_train, y_train, x_test, y_test, k=k)
    empty = knn_utility(x_train[:0], y_train[:0], x_test, y_test, k=k)
    assert empty == 0.0
    assert full > 0.1
    assert values.sum() == pytest.approx(full - empty, abs=1e-12)


# -- the fast version against the reference --------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("k", [1, 3, 6])
def test_fast_matches_reference_with_many_exact_ties(dtype, k):
    x_train, y_train, x_test, y_test = tied_data(5, dtype=dtype)
    expected = knn_shapley_reference(x_train, y_train, x_test, y_test, k=k)
    values = knn_shapley(x_train, y_train, x_test, y_test, k=k)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_matches_reference_on_continuous_features_with_duplicates(dtype):
    # Distinct rows are far apart for float32; the copies must tie exactly
    x_train, y_train, x_test, y_test = continuous_data(6, n_train=60, dtype=dtype)
    x_train = np.concatenate([x_train, x_train[::2], x_train[::3]])
    y_train = np.concatenate([y_train, y_train[::2], y_train[::3]])
    expected = knn_shapley_reference(x_train, y_train, x_test, y_test)
    values = knn_shapley(x_train, y_train, x_test, y_test)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_duplicates_tie_even_if_distance_columns_round_differently(dtype, monkeypatch):
    # A matrix product may round identical columns differently; skew every column by
    # a different relative 1e-6 (later columns nearer) and the copies must still tie
    original = valuation._NumpyEngine.distances

    def skewed(self, test):
        dist = original(self, test)
        skew = 1 - 1e-6 * np.arange(dist.shape[1]) / dist.shape[1]
        return (dist * skew).astype(dist.dtype)

    monkeypatch.setattr(valuation._NumpyEngine, "distances", skewed)
    x_train, y_train, x_test, y_test = continuous_data(6, n_train=60, dtype=dtype)
    x_train = np.concatenate([x_train[::-2], x_train, x_train[::3]])
    y_train = np.random.default_rng(7).integers(0, 4, len(x_train))  # copies differ
    expected = knn_shapley_reference(x_train, y_train, x_test, y_test)
    values = knn_shapley(x_train, y_train, x_test, y_test)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-9)


def test_fast_matches_reference_when_set_is_smaller_than_k():
    x_train, y_train, x_test, y_test = tied_data(7, n_train=4, n_test=5)
    expected = knn_shapley_reference(x_train, y_train, x_test, y_test, k=6)
    values = knn_shapley(x_train, y_train, x_test, y_test, k=6)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    # Fewer points than k: U is additive and each value is m / k, averaged
    match = (y_train[None, :] == y_test[:, None]).mean(axis=0)
    np.testing.assert_allclose(values, match / 6, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ties_count_the_lower_training_index_as_nearer(dtype, engine):
    # Two copies of one point, labels 0 then 1; test label 1; k=1. Index 0 is nearer:
    # s(rank 2) = 1/2 and s(rank 1) = 1/2 + (0 - 1) = -1/2. The other order would give
    # [0, 1].
    x_train = np.array([[1.0, 2.0], [1.0, 2.0]], dtype=dtype)
    y_train = np.array([0, 1])
    x_test, y_test = np.array([[0.3, 0.1]], dtype=dtype), np.array([1])
    for fn in (knn_shapley, knn_shapley_reference):
        values = fn(x_train, y_train, x_test, y_test, k=1)
        np.testing.assert_array_equal(values, [-0.5, 0.5])


@pytest.mark.parametrize(
    ("make_data", "dtype"),
    [(tied_data, np.float32), (tied_data, np.float64), (continuous_data, np.float64)],
)
def test_each_engine_matches_reference_in_small_chunks(make_data, dtype, engine):
    x_train, y_train, x_test, y_test = make_data(8, dtype=dtype)
    expected = knn_shapley_reference(x_train, y_train, x_test, y_test, k=3)
    values = knn_shapley(x_train, y_train, x_test, y_test, k=3, chunk_size=7)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-9)


def test_repeated_runs_are_bit_identical():
    x_train, y_train, x_test, y_test = continuous_data(9, dtype=np.float32)
    first = knn_shapley(x_train, y_train, x_test, y_test)
    for _ in range(2):
        np.testing.assert_array_equal(
            knn_shapley(x_train, y_train, x_test, y_test), first
        )


@pytest.mark.parametrize("chunk_size", [1, 7, 1000])
def test_chunk_size_does_not_change_values(chunk_size):
    x_train, y_train, x_test, y_test = tied_data(10)
    expected = knn_shapley(x_train, y_train, x_test, y_test)
    values = knn_shapley(x_train, y_train, x_test, y_test, chunk_size=chunk_size)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-14)


def test_slices_and_threads_do_not_change_values(monkeypatch):
    # Many small slices spread over several worker threads
    x_train, y_train, x_test, y_test = tied_data(11)
    expected = knn_shapley_reference(x_train, y_train, x_test, y_test)
    monkeypatch.setattr(valuation, "SLICE_ELEMENTS", 3 * len(x_train))
    monkeypatch.setattr(valuation.torch, "get_num_threads", lambda: 3)
    values = knn_shapley(x_train, y_train, x_test, y_test, chunk_size=16)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_progress_is_reported_per_block():
    x_train, y_train, x_test, y_test = tied_data(12, n_test=25)
    calls = []

    def progress(fraction: float, message: str) -> None:
        calls.append((fraction, message))

    knn_shapley(x_train, y_train, x_test, y_test, chunk_size=10, progress=progress)
    assert [fraction for fraction, _ in calls] == [10 / 25, 20 / 25, 1.0]
    assert calls[-1][1] == "valued 25 of 25 test points"


# -- inputs ----------------------------------------------------------------------------


def test_accepts_torch_tensors_of_any_feature_shape():
    rng = np.random.default_rng(13)
    images = rng.random((50, 2, 3, 3)).astype(np.float32)
    tests = rng.random((8, 2, 3, 3)).astype(np.float32)
    y_train, y_test = rng.integers(0, 3, 50), rng.integers(0, 3, 8)

    from_numpy = knn_shapley(
        images.reshape(50, -1), y_train, tests.reshape(8, -1), y_test
    )
    from_torch = knn_shapley(
        torch.from_numpy(images),
        torch.from_numpy(y_train),
        torch.from_numpy(tests),
        torch.from_numpy(y_test),
    )
    assert isinstance(from_torch, np.ndarray)
    assert from_torch.dtype == np.float64 and from_torch.shape == (50,)
    np.testing.assert_array_equal(from_torch, from_numpy)
    reference = knn_shapley_reference(
        torch.from_numpy(images), y_train, torch.from_numpy(tests), y_test
    )
    np.testing.assert_allclose(from_torch, reference, rtol=0, atol=1e-9)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    x_train, y_train, x_test, y_test = tied_data(14)
    expected = knn_shapley(x_train, y_train, x_test, y_test)
    values = knn_shapley(
        torch.from_numpy(x_train).cuda(), y_train, x_test, y_test, chunk_size=9
    )
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


# -- errors ----------------------------------------------------------------------------

X, Y = np.zeros((5, 3), np.float32), np.array([0, 1, 0, 1, 0])


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"y_train": Y[:4]}, "one label per sample of x_train"),
        ({"y_test": Y[:2]}, "one label per sample of x_test"),
        ({"x_train": X[:0], "y_train": Y[:0]}, "x_train is empty"),
        ({"x_test": X[:0], "y_test": Y[:0]}, "x_test is empty"),
        ({"x_test": np.zeros((5, 4), np.float32)}, "different feature sizes"),
        ({"x_train": np.full((5, 3), np.nan)}, "NaN or infinite"),
        ({"x_test": np.full((5, 3), np.inf)}, "NaN or infinite"),
        ({"y_train": Y.astype(float)}, "integer class labels"),
        ({"x_train": np.array(["a"] * 5)}, "must hold numbers"),
        ({"k": 0}, r"k \(number of neighbours\)"),
        ({"k": 2.5}, r"k \(number of neighbours\)"),
        ({"chunk_size": 0}, "chunk_size must be"),
        ({"device": "no-such-device"}, "must name a torch device"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, pattern):
    arguments = {"x_train": X, "y_train": Y, "x_test": X, "y_test": Y, **kwargs}
    with pytest.raises(ValueRiskError, match=pattern) as caught:
        knn_shapley(**arguments)
    assert "Fix:" in str(caught.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_request_without_gpu_raises():
    with pytest.raises(ValueRiskError, match="no usable CUDA GPU"):
        knn_shapley(X, Y, X, Y, device="cuda")


def test_reference_and_utility_check_inputs_too():
    with pytest.raises(ValueRiskError, match=r"k \(number of neighbours\)"):
        knn_shapley_reference(X, Y, X, Y, k=0)
    with pytest.raises(ValueRiskError, match="x_test is empty"):
        knn_utility(X, Y, X[:0], Y[:0])
