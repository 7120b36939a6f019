"""Wall time of every stage of the dashboard's analysis, and the numbers it finds.

    .venv/bin/python benchmarks/pipeline.py --dataset fashion-mnist --threads 2

Runs each stage of one RunSpec in order, into the result store (so the app can browse
the results afterwards), and prints how long each took, then the membership-inference
headline: TPR at each FPR for the top and bottom importance groups, their ratio, and the
advantage per importance bin. Stages already in the store take no time: point
VALUERISK_CACHE_DIR at an empty folder to time a cold start.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from backend import analysis, pipeline  # noqa: E402
from backend.findings import ratio  # noqa: E402
from backend.specs import make_runspec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train = {"epochs": args.epochs} if args.epochs else {}
    spec = make_runspec(args.dataset, preset=args.preset, seed=args.seed, train=train)
    timings: list[tuple[str, float]] = []

    def timed(name, fn, *a, **k):
        start = time.perf_counter()
        out = fn(*a, **k)
        timings.append((name, time.perf_counter() - start))
        print(f"  {name:<28} {timings[-1][1]:8.1f} s", flush=True)
        return out

    print(f"{args.dataset}, preset {args.preset}, {args.threads} thread(s)")
    ctx = timed("load data and split", pipeline.make_context, spec)
    print(f"  split sizes: {ctx.split.sizes()}")
    _, target = timed("train target model", pipeline.trained_model, ctx, "target")
    _, shadow = timed("train shadow model", pipeline.trained_model, ctx, "shadow")
    timed("importance (KNN-Shapley)", pipeline.importance, ctx)
    timed("target signals + boundary", analysis.signals, ctx, "target")
    timed("shadow signals + boundary", analysis.signals, ctx, "shadow")
    timed("attacker's importance", analysis.attacker_importance, ctx)
    result = timed("membership tables", analysis.membership, ctx)
    validity = timed("validity check", analysis.validity, ctx)
    sensitivity = timed("sensitivity to k", analysis.k_sensitivity, ctx)
    print(f"  {'total':<28} {sum(t for _, t in timings):8.1f} s")

    print(f"\ntarget: {target}\nshadow: {shadow}")
    groups = result["groups"].set_index(["attack", "group"])
    print("\nTPR at FPR, top vs bottom importance fifth (ratio top/bottom), AUC:")
    for attack in result["groups"]["attack"].unique():
        top, bottom = groups.loc[(attack, "top")], groups.loc[(attack, "bottom")]
        cells = []
        for column in [c for c in groups.columns if c.startswith("tpr@")]:
            r = ratio(top[column], bottom[column])
            cells.append(f"{column}: {top[column]:.4f}/{bottom[column]:.4f} ({r:.2f}x)")
        cells.append(f"AUC {top['auc']:.3f}/{bottom['auc']:.3f}")
        print(f"  {attack:<17} " + "  ".join(cells))
    print("\nAdvantage per importance bin (least -> most important):")
    for attack, frame in result["bins"].groupby("attack", sort=False):
        values = " ".join(f"{v:+.3f}" for v in frame.sort_values("bin")["advantage"])
        print(f"  {attack:<17} {values}")
    print(f"\nattacker's estimate vs true importance: {result['estimate']}")
    print(f"censored boundary searches: {result['censored']}")
    print("\nvalidity (test accuracy):")
    print(validity.pivot(index="n", columns="selection", values="accuracy").to_string())
    print("\nsensitivity to k:")
    print(sensitivity.to_string(index=False))


if __name__ == "__main__":
    main()
