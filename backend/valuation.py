"""Exact KNN-Shapley: how much each training sample helps a k-nearest-neighbour model.

The method is the closed form of Jia et al., "Efficient task-specific data valuation for
nearest neighbor algorithms" (VLDB 2019). The value of a training set S for one test
point (x, y) is the KNN utility

    U(S) = (1/k) * sum_{j=1}^{min(k, |S|)} 1[y_{a_j(S)} = y],

where a_j(S) is the j-th nearest member of S to x, and U(empty set) = 0. The division is
by k, not by min(k, |S|): this is the utility the closed form below is exact for.

Sort the N training points from the nearest (rank 1) to the farthest (rank N) and write
m_i = 1[y_{a_i} = y] for the label match at rank i. The Shapley value of the point at
rank i then follows from a recursion that starts at the farthest point:

    s_N = m_N / max(N, k)
    s_i = s_{i+1} + (m_i - m_{i+1}) / k * min(k, i) / i          (i = N-1, ..., 1).

(The paper writes s_N = m_N / N, the same whenever N >= k.) With the weights
w_i = min(k, i) / (k i), which are 1/k up to rank k and 1/i after it, the recursion
telescopes into a form that vectorises:

    s_i = m_i w_i - sum_{j > i} m_j c_j,    c_j = w_{j-1} - w_j = 1[j > k] / (j (j-1)),

so one cumulative sum over the sorted match indicators gives every s_i at once. The
value of a training point is the mean of its s over the test points; the values add up
to U(full set) - U(empty set), averaged over the test points.

Ties: distance is the squared Euclidean distance between flattened feature vectors.
Points at equal distance are ordered by training index, the lower index counting as
nearer, in every run and in every function of this module. Identical training rows are
found first and share one computed distance, so exact duplicates always tie exactly.

Precision: distances are computed in float32 when both feature arrays are float32 (or
float16, bfloat16, bool), and in float64 otherwise (float64 or integer features). In
float32, points whose distances differ by less than float32 rounding (about 1e-7
relative) may be ordered differently than exact arithmetic would order them: on 20,000
random 64-d points this moved values by up to 2e-7, against values up to 3e-3. Pass
float64 features for the closest agreement with exact arithmetic: distances then count
as tied only within about 3e-11 relative (see ``_key_layout``). A distance that rounds
below zero counts as zero. The per-rank values and their sums are always float64.

How it runs: blocks of test points at a time, one matrix product for a block's
distances, then slices of the block small enough to stay in the CPU cache are sorted
and valued. The sort runs on packed int64 keys [distance bits | training index | label
match]: non-negative floats order like their bit patterns, so a plain integer sort
applies the tie rule and carries the label along. On the CPU the whole pipeline uses
NumPy: OpenBLAS for the product and NumPy's sort, one slice per worker thread (these
release the GIL); on the project's 2-core machine this measured about twice as fast as
the same steps in torch, whose own thread pool also fights with any other. On CUDA the
same steps run in torch.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from backend.errors import ValueRiskError
from backend.settings import DEFAULT_K

__all__ = ["knn_shapley", "knn_shapley_reference", "knn_utility"]

Progress = Callable[[float, str], None]

# Memory budget of one block of distances (test points x unique training points). It
# sets the automatic chunk size; the matrix product runs well from about 256 rows up.
BLOCK_BYTES = 256 * 2**20

# Elements (rows x training points) sorted and valued at a time by one worker. About 2M
# (16 MB per int64 or float64 array) measured fastest on a CPU with a 32 MB L3 cache; a
# slice's working arrays take about 40 bytes per element, so about 80 MB per worker.
SLICE_ELEMENTS = 2**21

# Feature dtypes whose distances are computed in float32; all others in float64.
_FLOAT32_INPUTS = (torch.float32, torch.float16, torch.bfloat16, torch.bool)


# -- public functions ------------------------------------------------------------------


def knn_shapley(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    *,
    k: int = DEFAULT_K,
    chunk_size: int | None = None,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """Exact KNN-Shapley value of every training point, averaged over the test points.

    Args:
        x_train: Training features, (n_train, ...) NumPy array or torch tensor; each
            sample is flattened to one vector.
        y_train: Training labels, (n_train,) integers.
        x_test: Test (reference) features, (n_test, ...) of the same flattened size.
        y_test: Test labels, (n_test,) integers.
        k: Neighbours of the KNN utility, default ``DEFAULT_K`` (6).
        chunk_size: Test points per block of distances. Default None: as many as fit
            in ``BLOCK_BYTES`` (256 MiB) of distances. Changes memory and speed, not
            the values (beyond float64 rounding of the final sums).
        device: "cpu", "cuda", a torch.device, or None (default) for the inputs'
            device: CUDA if either feature tensor is on CUDA, else the CPU.
        progress: Called as ``progress(fraction, message)`` after each block.

    Returns:
        float64 array (n_train,): the value of each training point, in training order.

    Raises:
        ValueRiskError: On mismatched lengths, empty sets, different feature sizes,
            non-finite features, non-integer labels, k < 1, chunk_size < 1, or a
            device that is not available.

    Notes:
        Distances are float32 for float32 features and float64 otherwise; float32
        can order near-ties differently from exact arithmetic (module docstring).
        The same inputs and settings give bit-identical values on every run. On the
        CPU it uses ``torch.get_num_threads()`` threads (BLAS and sorting): set that
        deliberately. Memory, whatever the number of test points: one block of
        distances, a copy of the training features, and about 80 MB per thread.
    """
    # Check the inputs; choose the device and the precision of distances
    xtr, ytr, xte, yte = _checked_inputs(x_train, y_train, x_test, y_test, k)
    _check_chunk_size(chunk_size)
    dev = _resolve_device(device, xtr, xte)
    use_f32 = xtr.dtype in _FLOAT32_INPUTS and xte.dtype in _FLOAT32_INPUTS
    dtype = torch.float32 if use_f32 else torch.float64
    n_train, n_test = len(xtr), len(xte)

    # Identical training rows share one distance column, so they tie exactly
    xtr, ytr = xtr.to(dev, dtype), ytr.to(dev)
    unique_rows, inverse = torch.unique(xtr, dim=0, return_inverse=True)
    if len(unique_rows) == n_train:
        unique_rows, inverse = xtr, None

    # Rows per block of distances and per slice of a block
    bytes_per_row = len(unique_rows) * unique_rows.element_size()
    block = min(chunk_size or max(1, BLOCK_BYTES // bytes_per_row), n_test)
    slice_rows = max(1, min(block, SLICE_ELEMENTS // n_train))

    # The engine keeps the training side in the layout it needs
    engine_class = _NumpyEngine if dev.type == "cpu" else _TorchEngine
    engine = engine_class(unique_rows, inverse, ytr, k, slice_rows)
    del xtr, unique_rows, inverse

    # Test points taken in label order, so that a slice of rows spans few labels
    by_label = torch.argsort(yte.cpu(), stable=True)  # (n_test,)

    # Value every block of test points, adding up in training order
    values = np.zeros(n_train)  # (n_train,) float64
    with engine:
        for start in range(0, n_test, block):
            rows = by_label[start : start + block]
            test = xte[rows.to(xte.device)].to(dev, dtype)  # (rows, d)
            dist = engine.distances(test)  # (rows, n_unique)
            values += engine.values(dist, yte[rows.to(yte.device)].to(dev))
            done = start + len(rows)
            if progress is not None:
                progress(done / n_test, f"valued {done:,} of {n_test:,} test points")
    return values / n_test


def knn_shapley_reference(
    x_train: Any, y_train: Any, x_test: Any, y_test: Any, *, k: int = DEFAULT_K
) -> np.ndarray:
    """The same values as ``knn_shapley``, one test point at a time, in plain float64.

    A direct transcription of the recursion in the module docstring, kept obviously
    correct and slow: for tests and benchmarks.

    Args:
        x_train: Training features, (n_train, ...).
        y_train: Training labels, (n_train,) integers.
        x_test: Test features, (n_test, ...).
        y_test: Test labels, (n_test,) integers.
        k: Neighbours of the KNN utility, default 6.

    Returns:
        float64 array (n_train,) in training order.
    """
    xtr, ytr, xte, yte = _checked_numpy(x_train, y_train, x_test, y_test, k)
    n = len(xtr)
    values = np.zeros(n)
    for x, y in zip(xte, yte, strict=True):
        # Training points from nearest to farthest; equal distances by index
        dist = ((xtr - x) ** 2).sum(axis=1)
        order = np.argsort(dist, kind="stable")
        match = (ytr[order] == y).astype(float).tolist()

        # The recursion from the farthest point (position n-1, rank n) to the nearest
        s = [0.0] * n
        s[n - 1] = match[n - 1] / max(n, k)
        for pos in range(n - 2, -1, -1):
            rank = pos + 1
            s[pos] = (
                s[pos + 1] + (match[pos] - match[pos + 1]) / k * min(k, rank) / rank
            )

        values[order] += s
    return values / len(xte)


def knn_utility(
    x_train: Any, y_train: Any, x_test: Any, y_test: Any, *, k: int = DEFAULT_K
) -> float:
    """The KNN utility U of a training set, averaged over the test points.

    U = mean over test points of (1/k) * (number of the min(k, n_train) nearest
    training points that carry the test label); ties by training index. The division
    is by k even when the set has fewer than k points, as in the module docstring.

    Args:
        x_train: Training features, (n_train, ...); may be empty (then U = 0).
        y_train: Training labels, (n_train,) integers.
        x_test: Test features, (n_test, ...).
        y_test: Test labels, (n_test,) integers.
        k: Neighbours, default 6.

    Returns:
        The utility, a float in [0, 1].
    """
    xtr, ytr, xte, yte = _checked_numpy(
        x_train, y_train, x_test, y_test, k, allow_empty_train=True
    )
    if len(xtr) == 0:
        return 0.0
    total = 0.0
    for x, y in zip(xte, yte, strict=True):
        order = np.argsort(((xtr - x) ** 2).sum(axis=1), kind="stable")
        total += float(np.sum(ytr[order[:k]] == y)) / k
    return total / len(xte)


# -- the fast path: one engine per array library --------------------------------------


def _rank_weights(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """w_i = min(k, i) / (k i) and c_i = 1[i > k] / (i (i-1)) for ranks i = 1..n."""
    rank = np.arange(1, n + 1, dtype=np.float64)
    w = np.minimum(rank, k) / (k * rank)
    c = np.zeros(n)
    c[k:] = 1.0 / (rank[k:] * (rank[k:] - 1))
    return w, c


# One matrix product gives squared distances on augmented rows:
# [-2a, 1, ||a||^2] . [b, ||b||^2, 1] = ||a||^2 + ||b||^2 - 2 a.b = ||a - b||^2.


def _augmented_test(x: torch.Tensor) -> torch.Tensor:
    """Test rows as [-2a, 1, ||a||^2]: (rows, d + 2)."""
    ones = torch.ones(len(x), 1, dtype=x.dtype, device=x.device)
    sq_norms = torch.einsum("ij,ij->i", x, x)[:, None]
    return torch.cat([-2 * x, ones, sq_norms], dim=1)


def _augmented_train_t(x: torch.Tensor) -> torch.Tensor:
    """Training rows as columns [b, ||b||^2, 1]: (d + 2, n), contiguous.

    Built in place: one copy of the training set rather than two.
    """
    n, d = x.shape
    columns = torch.empty(d + 2, n, dtype=x.dtype, device=x.device)
    columns[:d] = x.T
    columns[d] = torch.einsum("ij,ij->i", x, x)
    columns[d + 1] = 1
    return columns


def _key_layout(n_train: int) -> tuple[int, int, int]:
    """Bit layout of the int64 sort keys [distance bits | training index | match].

    The low ``low_bits`` bits hold the index (shifted left by one) and the match bit.
    Above them, a float32 distance keeps all its 31 bits (shifted up); a float64
    distance keeps its bit pattern with the low ``low_bits`` bits cleared, that is its
    top 52 - low_bits mantissa bits (35 for 60,000 points: a relative resolution of
    3e-11). Non-negative floats order like their bit patterns.

    Returns:
        (low_bits, low_mask, index_mask).
    """
    index_bits = max(1, (n_train - 1).bit_length())
    low_bits = index_bits + 1
    if 31 + low_bits > 63:
        raise ValueRiskError(
            "x_train has too many samples: expected fewer than 2**31, got "
            f"{n_train:,}. Fix: value the training set in parts."
        )
    return low_bits, (1 << low_bits) - 1, (1 << index_bits) - 1


def _label_runs(labels: np.ndarray) -> list[tuple[slice, int]]:
    """(rows, label) for each run of equal labels in a sorted (rows,) label array."""
    cuts = [0, *(np.flatnonzero(np.diff(labels)) + 1).tolist(), len(labels)]
    return [(slice(a, b), int(labels[a])) for a, b in itertools.pairwise(cuts)]


class _NumpyEngine:
    """The CPU pipeline in NumPy; slices of a block go to a pool of worker threads.

    Workers run single-threaded NumPy (sort, ufuncs, bincount), which releases the GIL,
    so ``threads`` slices proceed at once; BLAS gets the same thread count.
    """

    def __init__(
        self,
        unique_rows: torch.Tensor,
        inverse: torch.Tensor | None,
        y_train: torch.Tensor,
        k: int,
        slice_rows: int,
    ) -> None:
        # (d + 2, n_unique), contiguous: the faster layout for the product
        self.train_t = _augmented_train_t(unique_rows).numpy()
        self.inverse = None if inverse is None else inverse.numpy()
        self.y_train = y_train.numpy()
        self.w, self.c = _rank_weights(len(y_train), k)  # (n_train,) each
        self.slice_rows = slice_rows
        self.threads = max(1, torch.get_num_threads())
        self.low_bits, self.low_mask, self.index_mask = _key_layout(len(y_train))
        self.index_code = np.arange(len(y_train), dtype=np.int64) << 1  # (n_train,)
        self.buffer: np.ndarray | None = None  # (block, n_unique) distances

    def __enter__(self) -> _NumpyEngine:
        self.pool = ThreadPoolExecutor(self.threads)
        self.blas = threadpool_limits(limits=self.threads, user_api="blas")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.blas.restore_original_limits()
        self.pool.shutdown()

    def distances(self, test: torch.Tensor) -> np.ndarray:
        """Squared distances of test rows to the unique training rows, (rows, n_u)."""
        # One buffer for every block: a fresh one per block cost page faults
        rows, n_unique = len(test), self.train_t.shape[1]
        if self.buffer is None or len(self.buffer) < rows:
            self.buffer = np.empty((rows, n_unique), dtype=self.train_t.dtype)
        out = self.buffer[:rows]
        return np.matmul(_augmented_test(test).numpy(), self.train_t, out=out)

    def values(self, dist: np.ndarray, labels: torch.Tensor) -> np.ndarray:
        """Sum over the block's test points of s, in training order: (n_train,)."""
        labels = labels.numpy()
        starts = range(0, len(dist), self.slice_rows)
        spans = [slice(lo, lo + self.slice_rows) for lo in starts]
        parts = self.pool.map(lambda rows: self._slice(dist[rows], labels[rows]), spans)
        return sum(parts)  # in slice order: the same sum on every run

    def _slice(self, dist: np.ndarray, labels: np.ndarray) -> np.ndarray:
        # Training points from nearest to farthest, and their label match
        order, match = self._neighbours(dist, labels)  # (rows, n_train) each

        # s_i = m_i w_i + cum_i - total, where cum_i = sum_{j <= i} m_j c_j
        s = np.multiply(match, self.c)  # (rows, n_train)
        np.cumsum(s, axis=1, out=s)
        totals = s[:, -1].sum()
        s += np.multiply(match, self.w)

        # Back to training order, summed over the slice's test points. Each row holds
        # every training point once, so "- total" is one subtraction per row
        summed = np.bincount(order.ravel(), weights=s.ravel(), minlength=len(self.w))
        return summed - totals

    def _neighbours(
        self, dist: np.ndarray, labels: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sort packed int64 keys [distance bits | index | match], then decode them."""
        # Distance bits, with the low `low_bits` bits free (see _key_layout)
        int_view = np.int32 if dist.dtype == np.float32 else np.int64
        bits = np.maximum(dist.view(int_view), 0)  # (rows, n_unique)
        if self.inverse is not None:
            bits = bits[:, self.inverse]  # (rows, n_train): duplicates share bits
        if int_view is np.int32:
            keys = np.left_shift(bits, self.low_bits, dtype=np.int64)
        else:
            keys = np.bitwise_and(bits, ~self.low_mask, out=bits)

        # Then the index and match bits, for each run of rows with one label
        for rows, label in _label_runs(labels):
            keys[rows] |= self.index_code | (self.y_train == label)

        # Sort each row, then decode match and training index (in place)
        keys.sort(axis=1)
        match = (keys & 1).astype(bool)
        np.right_shift(keys, 1, out=keys)
        np.bitwise_and(keys, self.index_mask, out=keys)
        return keys, match


class _TorchEngine:
    """The same pipeline in torch, for CUDA (or any torch device): slice by slice.

    Each slice's values go back to training order with a scatter (no two writes to
    one place) and a sum over rows, so the result is deterministic on the GPU too.
    """

    def __init__(
        self,
        unique_rows: torch.Tensor,
        inverse: torch.Tensor | None,
        y_train: torch.Tensor,
        k: int,
        slice_rows: int,
    ) -> None:
        self.train_t = _augmented_train_t(unique_rows)  # (d + 2, n_unique)
        self.inverse = inverse
        self.y_train = y_train
        device = y_train.device
        w, c = _rank_weights(len(y_train), k)
        self.w, self.c = torch.from_numpy(w).to(device), torch.from_numpy(c).to(device)
        self.slice_rows = slice_rows
        self.low_bits, self.low_mask, self.index_mask = _key_layout(len(y_train))
        self.index_code = torch.arange(len(y_train), device=device) << 1

    def __enter__(self) -> _TorchEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def distances(self, test: torch.Tensor) -> torch.Tensor:
        """Squared distances of test rows to the unique training rows, (rows, n_u)."""
        return _augmented_test(test) @ self.train_t

    def values(self, dist: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
        """Sum over the block's test points of s, in training order: (n_train,)."""
        summed = torch.zeros(len(self.y_train), dtype=torch.float64, device=dist.device)
        for lo in range(0, len(dist), self.slice_rows):
            rows = slice(lo, lo + self.slice_rows)

            # Training points from nearest to farthest, and their label match
            order, match = self._neighbours(dist[rows], labels[rows])

            # s_i = m_i w_i + cum_i - total, as in the NumPy engine
            s = (match * self.c).cumsum_(dim=1)  # (rows, n_train)
            totals = s[:, -1].sum()
            s += match * self.w

            # Back to training order, summed over the slice's test points
            summed += torch.zeros_like(s).scatter_(1, order, s).sum(dim=0) - totals
        return summed.cpu().numpy()

    def _neighbours(
        self, dist: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Packed int64 keys [distance bits | index | match], as in the NumPy engine."""
        int_view = torch.int32 if dist.dtype == torch.float32 else torch.int64
        bits = dist.view(int_view).clamp_min(0)  # (rows, n_unique)
        if self.inverse is not None:
            bits = bits[:, self.inverse]  # (rows, n_train)
        if int_view is torch.int32:
            keys = bits.to(torch.int64).bitwise_left_shift_(self.low_bits)
        else:
            keys = bits.bitwise_and_(~self.low_mask)
        for rows, label in _label_runs(labels.cpu().numpy()):
            keys[rows] |= self.index_code | (self.y_train == label)
        keys = torch.sort(keys, dim=1).values
        match = (keys & 1).bool()
        order = (keys >> 1) & self.index_mask
        return order, match


# -- input checks ----------------------------------------------------------------------


def _checked_inputs(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    k: int,
    *,
    allow_empty_train: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Flattened features (n, d) and int64 labels (n,) as tensors, checked."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueRiskError(
            f"k (number of neighbours) must be a whole number of at least 1; got "
            f"{k!r}. Fix: pass k=1 or more (the study uses {DEFAULT_K})."
        )
    xtr = _features(x_train, "x_train", allow_empty=allow_empty_train)
    xte = _features(x_test, "x_test", allow_empty=False)
    ytr = _labels(y_train, "y_train", len(xtr), "x_train")
    yte = _labels(y_test, "y_test", len(xte), "x_test")
    if xtr.shape[1] != xte.shape[1]:
        raise ValueRiskError(
            "x_train and x_test have different feature sizes: expected the same number "
            f"of values per sample, got {xtr.shape[1]} (x_train) and {xte.shape[1]} "
            "(x_test). Fix: compute both with the same representation."
        )
    return xtr, ytr, xte, yte


def _checked_numpy(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    k: int,
    *,
    allow_empty_train: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The checked inputs as float64 features and int64 labels on the CPU."""
    tensors = _checked_inputs(
        x_train, y_train, x_test, y_test, k, allow_empty_train=allow_empty_train
    )
    xtr, ytr, xte, yte = (t.cpu() for t in tensors)
    return xtr.double().numpy(), ytr.numpy(), xte.double().numpy(), yte.numpy()


def _as_tensor(value: Any, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueRiskError(
            f"{name} must hold numbers; got an array of dtype {array.dtype}. "
            f"Fix: convert {name} to a numeric NumPy array or torch tensor."
        )
    return torch.as_tensor(array)


def _features(value: Any, name: str, *, allow_empty: bool) -> torch.Tensor:
    """(n, ...) features as a (n, d) tensor, on the device they came on."""
    x = _as_tensor(value, name)
    if x.is_complex():
        raise ValueRiskError(
            f"{name} must hold real numbers; got dtype {x.dtype}. Fix: pass "
            "real-valued features."
        )
    if x.ndim == 0:
        raise ValueRiskError(
            f"{name} must be an array of samples, (n_samples, ...); got a single "
            f"number. Fix: pass one row per sample."
        )
    if len(x) == 0 and not allow_empty:
        raise ValueRiskError(
            f"{name} is empty: expected at least one sample, got shape "
            f"{tuple(x.shape)}. Fix: pass a non-empty set."
        )
    x = x.reshape(len(x), math.prod(x.shape[1:]))
    if x.shape[1] == 0:
        raise ValueRiskError(
            f"{name} has no feature values: expected at least one value per sample, "
            f"got shape {tuple(x.shape)}. Fix: pass the samples' features."
        )
    # A finite sum proves every value finite; a non-finite one (which overflow can
    # also cause) sends us to the element-wise check
    if (
        x.is_floating_point()
        and not bool(torch.isfinite(x.sum()))
        and not bool(torch.isfinite(x).all())
    ):
        bad = int((~torch.isfinite(x)).any(dim=1).sum())
        raise ValueRiskError(
            f"{name} contains NaN or infinite values: expected finite features, got "
            f"{bad} sample(s) with non-finite values. Fix: clean or impute them."
        )
    return x


def _labels(value: Any, name: str, n: int, features_name: str) -> torch.Tensor:
    """(n,) integer labels as an int64 tensor."""
    y = _as_tensor(value, name)
    if y.is_floating_point() or y.is_complex():
        raise ValueRiskError(
            f"{name} must hold integer class labels; got dtype {y.dtype}. Fix: pass "
            f"integer labels, for example {name}.astype(int)."
        )
    if y.ndim != 1 or len(y) != n:
        raise ValueRiskError(
            f"{name} must hold one label per sample of {features_name}: expected shape "
            f"({n},), got {tuple(y.shape)}. Fix: pass labels aligned with the features."
        )
    return y.to(torch.int64)


def _check_chunk_size(chunk_size: int | None) -> None:
    if chunk_size is None:
        return
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int | np.integer)
        or chunk_size < 1
    ):
        raise ValueRiskError(
            f"chunk_size must be a whole number of test points, at least 1, or None; "
            f"got {chunk_size!r}. Fix: pass a positive int, or None to size blocks "
            "automatically."
        )


def _resolve_device(
    device: str | torch.device | None, *tensors: torch.Tensor
) -> torch.device:
    """The requested device, else CUDA if any input is on it, else the CPU."""
    if device is None:
        on_cuda = [t.device for t in tensors if t.device.type == "cuda"]
        return on_cuda[0] if on_cuda else torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueRiskError(
            f"device must name a torch device such as 'cpu' or 'cuda'; got {device!r}. "
            "Fix: pass 'cpu', 'cuda', or None."
        ) from error
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueRiskError(
            "device='cuda' was requested, but this machine has no usable CUDA GPU. "
            "Fix: pass device='cpu' or device=None."
        )
    return dev
