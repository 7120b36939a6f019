"""Measure the stealing and backdoor sweeps: wall time per stage and the curves.

Runs the same jobs as the pages and the CLI, into the result store
(``VALUERISK_CACHE_DIR``), and prints each sweep's table of mean ± std over seeds with
the time it took. Points already stored are reused (and reported as such), so run it
on a fresh cache folder to time the computation.

Examples::

    # the pages' demo on digits
    python benchmarks/stealing_backdoor.py --dataset digits
    # Fashion-MNIST at full split size with an MLP
    python benchmarks/stealing_backdoor.py --dataset fashion-mnist --arch mlp \\
        --steal-budgets 100,300,1000,3000 --backdoor-budgets 20,50,200 --seeds 0,1,2

Torch uses ``VALUERISK_THREADS`` threads (default 1): on a shared 2-core machine, wall
times are pessimistic whenever other processes run. Budgets larger than a pool are
left out of that pool's sweep.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import product
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from backend import jobs, pipeline  # noqa: E402
from backend.attacks import backdoor, stealing  # noqa: E402
from backend.attacks.sweeps import Sweep  # noqa: E402
from backend.specs import make_runspec  # noqa: E402


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label}: {seconds:.1f} s", flush=True)
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--arch", default=None, help="default: the dataset's default")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--steal-budgets", default="", help="default: demo ladder")
    parser.add_argument("--steal-pools", default="attacker", help="comma-separated")
    parser.add_argument("--backdoor-budgets", default="", help="default: demo ladder")
    parser.add_argument("--triggers", default="badnets", help="comma-separated")
    parser.add_argument("--share", type=float, default=1.0)
    parser.add_argument("--skip", default="", help="steal or backdoor")
    parser.add_argument(
        "--balanced", default="no", choices=("no", "yes", "both"), help="choice rule"
    )
    args = parser.parse_args()

    threads = int(os.environ.get("VALUERISK_THREADS", "1"))
    torch.set_num_threads(threads)
    overrides = {}
    if args.arch:
        overrides["model"] = {"arch": args.arch}
    if args.epochs:
        overrides["train"] = {"epochs": args.epochs}
    spec = make_runspec(args.dataset, **overrides)
    ctx = pipeline.make_context(spec)
    seeds = _ints(args.seeds)
    print(
        f"dataset {spec.dataset}, arch {spec.model.arch}, epochs {spec.train.epochs}, "
        f"split {ctx.split.sizes()}, seeds {seeds}, torch threads {threads}, "
        f"store {ctx.store.directory}"
    )

    # Shared stages, timed on their own so the sweeps' times are the points' alone.
    (_, scores), _ = _timed("target model", lambda: pipeline.trained_model(ctx))
    print(f"  target test accuracy {scores['test_accuracy']:.4f}")
    _timed("importance of the members", lambda: pipeline.importance(ctx))

    rules = {"no": [False], "yes": [True], "both": [False, True]}[args.balanced]
    if "steal" not in args.skip:
        for pool, balanced in product(args.steal_pools.split(","), rules):
            steal = stealing.StealSpec(pool=pool.strip(), balanced=balanced)
            available = stealing.pool_size(ctx, steal)
            budgets = [b for b in _ints(args.steal_budgets) if b <= available]
            budgets = budgets or stealing.default_budgets(available)
            sweep = Sweep(budgets=budgets, seeds=seeds)
            params = stealing.job_params(steal, sweep)
            summary, _ = _timed(
                f"\nstealing sweep, pool {pool}, balanced {balanced} "
                f"({len(sweep.points())} points)",
                lambda p=params: jobs.run_inline("steal", spec, params=p),
            )
            results = stealing.steal_results(ctx, steal, sweep)
            print(f"  {summary}; queries: {stealing.pool_description(ctx, steal)}")
            print(results.table().to_string(index=False))

    if "backdoor" not in args.skip:
        for trigger, balanced in product(args.triggers.split(","), rules):
            poison = backdoor.BackdoorSpec(
                trigger=trigger.strip(), share=args.share, balanced=balanced
            )
            available = len(backdoor.candidates(ctx, poison))
            budgets = [b for b in _ints(args.backdoor_budgets) if b <= available]
            budgets = budgets or backdoor.default_budgets(
                available, clean_label=poison.trigger == "sig"
            )
            sweep = Sweep(budgets=budgets, seeds=seeds)
            params = backdoor.job_params(poison, sweep)
            summary, _ = _timed(
                f"\nbackdoor sweep, {trigger}, share {args.share}, balanced "
                f"{balanced} ({len(sweep.points())} points)",
                lambda p=params: jobs.run_inline("backdoor", spec, params=p),
            )
            results = backdoor.backdoor_results(ctx, poison, sweep)
            print(f"  {summary}; clean model: {results.baseline}")
            print(results.table().to_string(index=False))
            print(
                results.table(include_target=True)
                .iloc[:, [0, 1, 3]]
                .to_string(index=False)
            )


if __name__ == "__main__":
    main()
