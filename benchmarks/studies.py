"""The data-change studies on Fashion-MNIST: their headline numbers and wall times.

Two parts, each into its own fresh result store (or ``--cache``):

  importance   the default Fashion-MNIST split (40,000 members, 5,000 reference,
               10,000 shadow members, 5,000 shadow non-members), raw pixels, k = 6:
               the onion effect, wrong-label duplicates, augmentation (the flips:
               colour transforms do not apply to greyscale images) and partial data,
               all without retraining.
  exposure     a smaller split for the parts that retrain the small CNN
               (``--members``, default 5,000, and as many shadow members; 5,000 each
               of non-members, shadow non-members and reference) with ``--epochs``
               (default 8): the onion effect and the duplicates with their exposure
               checks (six trainings of the small CNN). Membership exposure needs a
               model that fits its training set: fewer members and more epochs
               (``--members 2000 --epochs 30``) overfit more in the same time.

Usage (from the repository root):
  .venv/bin/python benchmarks/studies.py [--threads 1] [--parts importance,exposure]

Wall times are of a shared 2-core machine: other processes compete for the cores, so
they are pessimistic.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from backend import pipeline, studies  # noqa: E402
from backend.specs import make_runspec  # noqa: E402
from backend.store import Store  # noqa: E402

DATASET = "fashion-mnist"


def _run(ctx, name: str, **params) -> tuple[dict, float]:
    """One study's summary and its wall time in seconds."""
    spec = studies.make_study_spec(name, **params)
    start = time.perf_counter()
    payload = studies.study_result(ctx, spec)
    elapsed = time.perf_counter() - start
    print(f"\n## {studies.STUDIES[name].title}  ({elapsed:.0f} s)", flush=True)
    print(studies.summary_table(name, payload).to_string(index=False))
    for line in studies.findings(name, payload):
        print(f"- {line}")
    if name == "onion" and payload["exposure"] is not None:
        print(payload["exposure"].to_string(index=False))
    if name == "duplicates" and payload["exposure"] is not None:
        print(payload["exposure"].to_string(index=False))
        if payload["in_out"] is not None:
            print(payload["in_out"].to_string(index=False))
    return studies.summarize(name, payload), elapsed


def importance_part(store: Store) -> dict:
    spec = make_runspec(DATASET)
    ctx = pipeline.make_context(spec, store=store)
    print(f"# importance part: split {ctx.split.sizes()}", flush=True)
    start = time.perf_counter()
    pipeline.importance(ctx)
    out = {"importance_s": time.perf_counter() - start}
    print(f"importance of every member: {out['importance_s']:.0f} s", flush=True)
    for name, params in (
        ("onion", {"retrain": False}),
        ("duplicates", {"retrain": False}),
        ("augmentation", {}),
        ("partial", {}),
    ):
        out[name], out[f"{name}_s"] = _run(ctx, name, **params)
    return out


def exposure_part(store: Store, members: int, epochs: int) -> dict:
    spec = make_runspec(
        DATASET,
        split={
            "members": members,
            "nonmembers": 5_000,
            "shadow_members": members,  # the shadow model mirrors the target
            "shadow_nonmembers": 5_000,
            "reference": 5_000,
        },
        train={"epochs": epochs},
    )
    ctx = pipeline.make_context(spec, store=store)
    print(f"\n# exposure part: split {ctx.split.sizes()}, {epochs} epochs", flush=True)
    start = time.perf_counter()
    _, target = pipeline.trained_model(ctx, "target")
    _, shadow = pipeline.trained_model(ctx, "shadow")
    out = {"models_s": time.perf_counter() - start, "target": target, "shadow": shadow}
    print(f"target {target}, shadow {shadow}: {out['models_s']:.0f} s", flush=True)
    for name in ("onion", "duplicates"):
        out[name], out[f"{name}_s"] = _run(ctx, name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--parts", default="importance,exposure")
    parser.add_argument("--members", type=int, default=5_000, help="exposure part")
    parser.add_argument("--epochs", type=int, default=8, help="exposure part")
    parser.add_argument("--cache", default="", help="result store (default: fresh)")
    parser.add_argument("--json", default="", help="also write the numbers here")
    args = parser.parse_args()

    from backend.device import set_worker_threads

    print(f"torch threads: {set_worker_threads(args.threads)}")
    folder = Path(args.cache) if args.cache else Path(tempfile.mkdtemp())
    store = Store(folder)
    print(f"result store: {folder}")
    results = {}
    parts = [p.strip() for p in args.parts.split(",")]
    if "importance" in parts:
        results["importance"] = importance_part(store)
    if "exposure" in parts:
        results["exposure"] = exposure_part(store, args.members, args.epochs)
    if args.json:
        clean = json.loads(
            json.dumps(results, default=float),
            parse_constant=lambda c: None,
        )
        Path(args.json).write_text(json.dumps(clean, indent=1))
    total = sum(
        v for part in results.values() for k, v in part.items() if k.endswith("_s")
    )
    print(f"\ntotal wall time: {total:.0f} s ({math.ceil(total / 60)} min)")


if __name__ == "__main__":
    main()
