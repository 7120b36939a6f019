"""Attribute inference and reconstruction by importance group: results and wall times.

Runs both studies on one dataset and split, into a result store of its own, and prints
per importance group: the attack accuracy relative to the majority baseline, the
reconstruction quality, and the wall time of every step (as stored when it ran, so a
second run of the script reports the first run's times and computes nothing).

Usage (from the repository root):
  .venv/bin/python benchmarks/attributes_reconstruction.py --dataset fashion-mnist \\
      --members 10000 --nonmembers 5000 --shadow-members 5000 \\
      --shadow-nonmembers 2500 --reference 2500 --threads 1 --cache /tmp/vr-bench

Torch uses ``--threads`` threads (default 1). On a machine shared with other work the
wall times are pessimistic.
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd
import torch

from backend import pipeline
from backend.attacks import attributes, reconstruction
from backend.specs import make_runspec
from backend.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    for part in ("members", "nonmembers", "shadow-members", "shadow-nonmembers"):
        parser.add_argument(f"--{part}", type=int, default=0)
    parser.add_argument("--reference", type=int, default=0)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--protocols", default="shadow,target")
    parser.add_argument("--attacks", default="deepinversion,gmi")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", default="/tmp/valuerisk-bench")
    parser.add_argument("--json", default="", help="also write the reports here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    split = {
        "members": args.members,
        "nonmembers": args.nonmembers,
        "shadow_members": args.shadow_members,
        "shadow_nonmembers": args.shadow_nonmembers,
        "reference": args.reference,
    }
    spec = make_runspec(args.dataset, split=split)
    ctx = pipeline.make_context(spec, store=Store(args.cache))
    print(f"{args.dataset}: split {ctx.split.sizes()}, torch threads {args.threads}")
    groups = {"n_groups": args.groups}
    reports = {}
    pd.set_option("display.width", 200)

    # Importance first, so its time is not charged to either study.
    started = time.perf_counter()
    pipeline.importance(ctx)
    print(f"importance: {time.perf_counter() - started:.1f} s (a lookup when stored)")

    # Attribute inference, each protocol.
    for protocol in args.protocols.split(","):
        aspec = attributes.make_attribute_spec(protocol=protocol, groups=groups)
        started = time.perf_counter()
        result = attributes.attribute_inference(ctx, aspec)
        report = attributes.attribute_report(result)
        reports[f"attributes-{protocol}"] = report
        print(f"\nAttribute inference, {protocol} protocol", end=" ")
        print(f"(this call {time.perf_counter() - started:.1f} s):")
        print(pd.DataFrame(report["by_group"]).to_string(index=False))
        print(
            "correlation with the label's importance:", report["correlation_with_label"]
        )
        print("seconds:", json.dumps(report["seconds"], default=float))

    # Reconstruction, both attacks.
    rspec = reconstruction.make_reconstruction_spec(
        attacks=tuple(args.attacks.split(",")), groups=groups
    )
    started = time.perf_counter()
    result = reconstruction.reconstruction(ctx, rspec)
    report = reconstruction.reconstruction_report(result)
    reports["reconstruction"] = report
    print(f"\nReconstruction (this call {time.perf_counter() - started:.1f} s):")
    print(pd.DataFrame(report["quality"]).to_string(index=False))
    print("seconds:", json.dumps(report["seconds"], default=float))
    print("evaluator:", report["evaluator"], "GAN:", report["gan"])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(reports, handle, indent=1, default=float)


if __name__ == "__main__":
    main()
