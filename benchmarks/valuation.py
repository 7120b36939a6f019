"""Speed and memory of exact KNN-Shapley (``backend.valuation.knn_shapley``).

Cases:
  random     20,000 training x 2,000 test points, d = 64, float32 normal features.
  random64   the same points in float64 (distances in float64: closest to exact).
  fashion    Fashion-MNIST raw pixels scaled to [0, 1]: 60,000 x 10,000 x 784, float32.
  fashion-u8 the raw uint8 pixels: integer features, so float64 distances are exact
             integers and ties are exact (not run by default).

Each case runs in a fresh subprocess, so its peak resident memory (``ru_maxrss``, which
also sees torch and NumPy allocations) belongs to that case alone. The plain reference
(``knn_shapley_reference``, one test point at a time) is timed on the first test points
of a case and extrapolated to the whole test set; the table says on how many. The
fast values on those same test points are compared with the reference's.

Usage (from the repository root):
  .venv/bin/python benchmarks/valuation.py [--threads N] [--cases random,fashion]
  .venv/bin/python benchmarks/valuation.py --cases random --compare-pydvl \\
      --pydvl-python /tmp/pydvl-venv/bin/python

``--compare-pydvl`` times pyDVL's ``KNNShapleyValuation`` on the random case's exact
inputs, with ``--threads`` joblib workers, in the interpreter given by
``--pydvl-python`` (default: this one), and compares its values with ours. pyDVL is not
a project dependency: install it in a throwaway environment.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
SEED = 0
TARGET_FASHION_S = 60.0  # full Fashion-MNIST valuation on the 2-core machine
TARGET_PYDVL_RATIO = 30.0  # at least this many times faster than pyDVL (random case)

# Test points the reference is timed on, per case (then extrapolated)
REFERENCE_POINTS = {"random": 100, "random64": 100, "fashion": 10, "fashion-u8": 10}


# -- data ------------------------------------------------------------------------------


def random_case() -> tuple[np.ndarray, ...]:
    """20,000 x 2,000 points, d = 64, 10 classes, seeded."""
    rng = np.random.default_rng(SEED)
    x_train = rng.standard_normal((20_000, 64), dtype=np.float32)
    x_test = rng.standard_normal((2_000, 64), dtype=np.float32)
    return x_train, rng.integers(0, 10, 20_000), x_test, rng.integers(0, 10, 2_000)


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip): big-endian int32 magic and sizes, then unsigned bytes."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    n_dims = data[3]
    shape = np.frombuffer(data, dtype=">i4", count=n_dims, offset=4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(shape)


def fashion_uint8_case() -> tuple[np.ndarray, ...]:
    """Fashion-MNIST, 60,000 x 10,000 flattened images, raw uint8 pixels."""

    def images(name: str) -> np.ndarray:
        raw = read_idx(FASHION_DIR / f"{name}-images-idx3-ubyte.gz")
        return raw.reshape(len(raw), -1)

    def labels(name: str) -> np.ndarray:
        return read_idx(FASHION_DIR / f"{name}-labels-idx1-ubyte.gz").astype(np.int64)

    return images("train"), labels("train"), images("t10k"), labels("t10k")


def fashion_case() -> tuple[np.ndarray, ...]:
    """Fashion-MNIST, 60,000 x 10,000 flattened images scaled to [0, 1], float32."""
    x_train, y_train, x_test, y_test = fashion_uint8_case()
    scale = np.float32(255)
    x_train, x_test = x_train.astype(np.float32), x_test.astype(np.float32)
    return x_train / scale, y_train, x_test / scale, y_test


def in_float64(case):
    def load() -> tuple[np.ndarray, ...]:
        x_train, y_train, x_test, y_test = case()
        return x_train.astype(np.float64), y_train, x_test.astype(np.float64), y_test

    return load


CASES = {
    "random": random_case,
    "random64": in_float64(random_case),
    "fashion": fashion_case,
    "fashion-u8": fashion_uint8_case,
}


# -- one case, in its own process ------------------------------------------------------


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_seconds() -> float:
    """CPU time of this process, all threads: less sensitive to other processes."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_case(name: str, threads: int, save_inputs: str | None) -> dict:
    """Time knn_shapley and the reference on one case; the figures as a dict."""
    import torch

    sys.path.insert(0, str(PROJECT_ROOT))
    from backend.valuation import knn_shapley, knn_shapley_reference

    torch.set_num_threads(threads)
    x_train, y_train, x_test, y_test = CASES[name]()
    if save_inputs:
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test}
        np.savez(save_inputs, **arrays, y_test=y_test)
    rss_before = max_rss_mb()

    # The fast version on the whole case
    start, cpu_start = time.perf_counter(), cpu_seconds()
    values = knn_shapley(x_train, y_train, x_test, y_test)
    fast_s, fast_cpu_s = time.perf_counter() - start, cpu_seconds() - cpu_start
    rss_peak = max_rss_mb()
    if save_inputs:
        np.save(save_inputs.replace(".npz", "-values.npy"), values)

    # The reference on the first test points, and the fast version on the same points
    m = REFERENCE_POINTS[name]
    start = time.perf_counter()
    reference = knn_shapley_reference(x_train, y_train, x_test[:m], y_test[:m])
    reference_s = time.perf_counter() - start
    subset = knn_shapley(x_train, y_train, x_test[:m], y_test[:m])

    return {
        "case": name,
        "shape": f"{len(x_train):,} x {len(x_test):,} x {x_train[0].size}",
        "threads": threads,
        "fast_s": fast_s,
        "fast_cpu_s": fast_cpu_s,
        "load_after": os.getloadavg()[0],
        "rss_before_mb": rss_before,
        "rss_peak_mb": rss_peak,
        "reference_points": m,
        "reference_s_measured": reference_s,
        "reference_s_extrapolated": reference_s * len(x_test) / m,
        "max_abs_diff": float(np.abs(subset - reference).max()),
        "max_abs_value": float(np.abs(reference).max()),
        "sum_values": float(values.sum()),
    }


def run_pydvl(inputs: str, threads: int) -> dict:
    """Time pyDVL's KNNShapleyValuation on saved inputs, in pyDVL's interpreter."""
    from joblib import parallel_config
    from pydvl.valuation.dataset import Dataset
    from pydvl.valuation.methods.knn_shapley import KNNShapleyValuation
    from sklearn.neighbors import KNeighborsClassifier

    arrays = np.load(inputs)
    train = Dataset(arrays["x_train"], arrays["y_train"])
    test = Dataset(arrays["x_test"], arrays["y_test"])
    start = time.perf_counter()
    with parallel_config(n_jobs=threads):
        method = KNNShapleyValuation(
            KNeighborsClassifier(n_neighbors=6), test, progress=False
        )
        method.fit(train)
    seconds = time.perf_counter() - start
    result = method.result
    values = np.empty(len(arrays["y_train"]))
    values[result.indices] = result.values
    np.save(inputs.replace(".npz", "-pydvl.npy"), values)
    return {"pydvl_s": seconds}


# -- the parent: run the cases, print the table ----------------------------------------


def in_subprocess(args: list[str], threads: int, python: str = sys.executable) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    done = subprocess.run(
        [python, str(Path(__file__).resolve()), *args, "--threads", str(threads)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"worker {args} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict]) -> None:
    print(
        f"{'case':10} {'N x M x d':24} {'thr':>3} {'fast s':>8} {'CPU s':>6} "
        f"{'peak RSS MB':>11} "
        f"{'(data MB)':>9} {'reference s':>12} {'speed-up':>9} {'max |diff|':>11}"
    )
    for r in rows:
        print(
            f"{r['case']:10} {r['shape']:24} {r['threads']:>3} {r['fast_s']:>8.2f} "
            f"{r['fast_cpu_s']:>6.1f} "
            f"{r['rss_peak_mb']:>11.0f} {r['rss_before_mb']:>9.0f} "
            f"{r['reference_s_extrapolated']:>12.0f} "
            f"{r['reference_s_extrapolated'] / r['fast_s']:>8.0f}x "
            f"{r['max_abs_diff']:>11.1e}"
        )
    print()
    for r in rows:
        print(
            f"{r['case']}: reference timed on the first {r['reference_points']} test "
            f"points ({r['reference_s_measured']:.1f} s) and extrapolated; "
            f"max |diff| is on those points (largest |value| there: "
            f"{r['max_abs_value']:.1e}). Peak RSS includes the data (RSS before the "
            "valuation in brackets). CPU s: all threads' CPU time of the valuation. "
            f"1-min load average after it: {r['load_after']:.2f}."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cases", default="random,random64,fashion")
    parser.add_argument("--compare-pydvl", action="store_true")
    parser.add_argument("--pydvl-python", default=sys.executable)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--pydvl-worker", help=argparse.SUPPRESS)
    parser.add_argument("--save-inputs", help=argparse.SUPPRESS)
    args = parser.parse_args()

    # Worker modes: one measurement, printed as one JSON line
    if args.worker:
        print(json.dumps(run_case(args.worker, args.threads, args.save_inputs)))
        return
    if args.pydvl_worker:
        print(json.dumps(run_pydvl(args.pydvl_worker, args.threads)))
        return

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPU cores, load average before: {load}\n")
    cases = [c for c in args.cases.split(",") if c]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        sys.exit(f"unknown case(s) {unknown}; choose from {sorted(CASES)}")

    with tempfile.TemporaryDirectory() as tmp:
        inputs = str(Path(tmp) / "random.npz")
        rows = []
        for case in cases:
            extra = ["--save-inputs", inputs] if case == "random" else []
            rows.append(in_subprocess(["--worker", case, *extra], args.threads))
        print_table(rows)

        for r in (r for r in rows if r["case"].startswith("fashion")):
            verdict = "met" if r["fast_s"] <= TARGET_FASHION_S else "NOT met"
            print(f"\nTarget: {r['case']} in <= {TARGET_FASHION_S:.0f} s: {verdict}.")

        if args.compare_pydvl and "random" in cases:
            compare_pydvl(inputs, rows, args)


def compare_pydvl(inputs: str, rows: list[dict], args: argparse.Namespace) -> None:
    """Time pyDVL on the random case's inputs and compare its values with ours."""
    probe = subprocess.run(
        [args.pydvl_python, "-c", "import pydvl"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        print(f"\npyDVL is not importable by {args.pydvl_python}; skipped.")
        return
    pydvl = in_subprocess(["--pydvl-worker", inputs], args.threads, args.pydvl_python)
    ours = np.load(inputs.replace(".npz", "-values.npy"))
    theirs = np.load(inputs.replace(".npz", "-pydvl.npy"))
    fast_s = next(r["fast_s"] for r in rows if r["case"] == "random")
    ratio = pydvl["pydvl_s"] / fast_s
    verdict = "met" if ratio >= TARGET_PYDVL_RATIO else "NOT met"
    print(
        f"\npyDVL KNNShapleyValuation, random case, {args.threads} joblib workers: "
        f"{pydvl['pydvl_s']:.1f} s; knn_shapley {fast_s:.2f} s: {ratio:.0f}x faster "
        f"(target >= {TARGET_PYDVL_RATIO:.0f}x: {verdict}). "
        f"Max |difference| of values: {np.abs(ours - theirs).max():.1e} "
        f"(largest |value| {np.abs(theirs).max():.1e})."
    )


if __name__ == "__main__":
    main()
